"""Flags shared by the commands that start a mock server, and how they become settings.

Settings are read from `X402H_SERVER_*` first; a flag given on the command line wins.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mock_server.clock import ClockKind
from mock_server.config import ENV_PREFIX, IdentifierPolicy, ServerSettings
from mock_server.scenarios import SCENARIOS
from x402_harness.commands.paths import require_folder_of
from x402_harness.commands.ports import check_port, port_number
from x402_harness.usage import UsageError
from x402_service.envconfig import parse_versions


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("mock server")
    group.add_argument("--host", help="address to bind (default 127.0.0.1)")
    group.add_argument("--port", type=port_number, help="the mock's port (default: a free one)")
    group.add_argument("--scenario", choices=sorted(SCENARIOS), help="default scenario (happy)")
    group.add_argument("--store", help="memory (default) or sqlite:PATH (jobs survive restarts)")
    group.add_argument(
        "--versions", help="x402 versions offered in a 402: v1,v2 (default), v1 or v2"
    )
    group.add_argument(
        "--clock", choices=[k.value for k in ClockKind], help="job clock (default real)"
    )
    group.add_argument(
        "--journal", type=Path, help="also append the journal to this JSON-lines file"
    )
    group.add_argument("--public-url", help="base URL clients see, if not the bound address")
    group.add_argument("--listing", type=Path, help="another endpoint's listing file")
    group.add_argument(
        "--payment-identifier",
        choices=[p.value for p in IdentifierPolicy],
        help="the payment-identifier extension in the 402: off, optional (default: declared, "
        "honoured when sent) or required (a payment without an id gets 400)",
    )
    group.add_argument(
        "--admin-token",
        help="require 'Authorization: Bearer TOKEN' on /__mock__/* (needed off loopback; or "
        "X402H_SERVER_ADMIN_TOKEN)",
    )


def server_settings_from(args: argparse.Namespace, **fixed: object) -> ServerSettings:
    """The mock's settings from the environment and the flags, checked: a scenario the mock
    knows, a port it can listen on."""
    given = {
        "host": args.host,
        "port": args.port,
        "default_scenario": args.scenario,
        "store": args.store,
        "versions": parse_versions(args.versions, "--versions") if args.versions else None,
        "clock": args.clock,
        "journal_path": args.journal,
        "public_url": args.public_url,
        "listing_path": args.listing,
        "payment_identifier": args.payment_identifier,
        "admin_token": args.admin_token,
        **fixed,
    }
    settings = ServerSettings.from_env(overrides={k: v for k, v in given.items() if v is not None})
    if settings.default_scenario not in SCENARIOS:
        raise UsageError(
            f"{ENV_PREFIX}DEFAULT_SCENARIO={settings.default_scenario!r}: no such scenario; "
            f"expected one of {', '.join(SCENARIOS)}"
        )
    port_source = "--port" if args.port is not None else f"{ENV_PREFIX}PORT"
    check_port(settings.host, settings.port, port_source)
    require_folder_of(settings.journal_path, "--journal")
    return settings
