"""`x402-harness`: one entry point, a subcommand per noun."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from conformance.catalog import CatalogError
from conformance.facilitator.reasons import ReasonTableError
from conformance.target import WrongServiceError
from facilitator_sim.chains.anvil import AnvilNotFoundError, AnvilStartError
from facilitator_sim.chains.base import ChainError
from facilitator_sim.chains.factory import ChainSpecError
from facilitator_sim.chains.rpc_guard import RemoteRpcRefusedError
from facilitator_sim.config import FacilitatorSettingsError
from loadtests.plan import LoadPlanError
from loadtests.slo import SloError
from mock_server.config import ServerSettingsError
from mock_server.stores import StoreSpecError
from x402_core.listing import ListingError
from x402_harness.commands import conformance, demo, facilitator, load, server, up
from x402_harness.commands.conformance.client import ClientCommandError
from x402_harness.commands.conformance.reports import ReportPathError
from x402_harness.commands.conformance.targets import RemoteTargetError
from x402_harness.console import console
from x402_harness.stack import StackError
from x402_service.envconfig import SettingsError

COMMANDS = {
    "up": up,
    "demo": demo,
    "facilitator": facilitator,
    "server": server,
    "conformance": conformance,
    "load": load,
}
USAGE_ERRORS = (
    AnvilNotFoundError,
    AnvilStartError,
    CatalogError,
    ClientCommandError,
    ChainError,
    ChainSpecError,
    FacilitatorSettingsError,
    RemoteRpcRefusedError,
    RemoteTargetError,
    ReportPathError,
    ReasonTableError,
    SettingsError,
    ListingError,
    LoadPlanError,
    SloError,
    ServerSettingsError,
    StackError,
    StoreSpecError,
    ChainSpecError,
    WrongServiceError,
)
"""Problems a person fixes by changing a flag or installing something: a message, no traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="x402-harness",
        description="An offline copy of the x402 payment world around xGen's paid image API: a "
        "mock server, a facilitator that really verifies and settles, conformance checks and "
        "load tests. Everything listens on loopback; every key is a well-known test key.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS.values():
        command.add_parser(subparsers)
    return parser


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        # SIGTERM (docker stop, kill) cleans up like Ctrl-C: Anvil and servers are stopped.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        return COMMANDS[args.command].run(args)
    except USAGE_ERRORS as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
