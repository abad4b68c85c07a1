"""`x402-harness`: one entry point, a subcommand per noun.

Building the parser imports nothing heavy (no web3, servers, Locust or rich): each command
imports what it runs inside its `run`, so `--help` and a mistyped flag answer at once.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence

from x402_harness.commands import conformance, demo, facilitator, load, server, up
from x402_harness.usage import USAGE_EXIT, HarnessParser, VersionAction, is_usage_error, one_line

COMMANDS = {
    "up": up,
    "demo": demo,
    "facilitator": facilitator,
    "server": server,
    "conformance": conformance,
    "load": load,
}
INTERRUPTED_EXIT = 130


def build_parser() -> HarnessParser:
    parser = HarnessParser(
        prog="x402-harness",
        description="An offline copy of the x402 payment world around xGen's paid image API: a "
        "mock server, a facilitator that really verifies and settles, conformance checks and "
        "load tests. Everything listens on loopback; every key is a well-known test key.",
    )
    parser.add_argument("--version", action=VersionAction)
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
    except KeyboardInterrupt:
        return INTERRUPTED_EXIT
    except Exception as exc:
        if not is_usage_error(exc):
            raise
        from rich.markup import escape

        from x402_harness.console import console

        console.print(f"[red]error:[/red] {escape(one_line(str(exc)))}")
        return USAGE_EXIT


if __name__ == "__main__":
    sys.exit(main())
