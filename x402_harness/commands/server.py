"""`x402-harness server`: the mock xGen server alone, paying through a given facilitator."""

from __future__ import annotations

import argparse

from mock_server.app import create_app
from x402_harness.commands.options import add_server_arguments, server_settings_from
from x402_harness.console import console, warn_if_exposed
from x402_service.serving import ServerThread, wait_for_interrupt


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "server",
        help="run the mock xGen server alone",
        description="Run the mock of POST /v1/images/generate (0.05 USDC, x402 v1 and v2) against "
        "a facilitator that is already running (see `x402-harness facilitator`).",
    )
    parser.add_argument("--facilitator-url", help="the facilitator's base URL (required)")
    add_server_arguments(parser)


def run(args: argparse.Namespace) -> int:
    settings = server_settings_from(args, facilitator_url=args.facilitator_url)
    warn_if_exposed(settings.host)
    with ServerThread(create_app(settings), settings.host, settings.port) as server:
        console.print(f"[bold]xGen mock[/bold]    {server.url}/v1/images/generate")
        console.print(f"admin        {server.url}/__mock__/  (scenarios, clock, jobs, journal)")
        console.print(f"facilitator  {settings.facilitator_url}")
        wait_for_interrupt()
    return 0
