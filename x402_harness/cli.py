"""`x402-harness`: one entry point, a subcommand per noun."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from x402_harness.commands import facilitator

COMMANDS = {"facilitator": facilitator}


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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command].run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
