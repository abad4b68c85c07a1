"""`x402-harness conformance client -- COMMAND`: run a client through the scenarios and grade it."""

from __future__ import annotations

import argparse
import shutil
from typing import TYPE_CHECKING

from x402_harness.usage import UsageError

if TYPE_CHECKING:
    from conformance.client import ClientRun
    from conformance.report import Report


TRANSPORTS = ("http", "mcp")
"""conformance.client.Transport's values, named here so that parsing imports nothing heavy."""


class ClientCommandError(UsageError):
    """No client command was given, or its program cannot be found."""


def add_parser(
    subparsers: argparse._SubParsersAction, report_options: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "client",
        parents=[report_options],
        help="run a client command through every scenario and grade it",
        description="Start the stack, then for each scenario run COMMAND with the x402 end-to-end "
        "client contract (EVM_PRIVATE_KEY, RESOURCE_SERVER_URL, ENDPOINT_PATH, EVM_RPC_URL, plus "
        "X402_REQUEST_METHOD, X402_REQUEST_BODY, X402_TIMEOUT_SECONDS, X402_MAX_AMOUNT; a JSON "
        "result on the last stdout line; exit 0 or 1) and grade what the server saw. With "
        "--transport mcp the client pays the endpoint's MCP tool instead: it also gets "
        "MCP_SERVER_URL, MCP_TOOL (called with X402_REQUEST_BODY as arguments) and "
        "MCP_STATUS_TOOL (polled for the job).",
    )
    parser.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default=TRANSPORTS[0],
        help="how the client reaches the endpoint: http (default) or mcp (the tools at /mcp)",
    )
    parser.add_argument("--chain", default="ledger", help="ledger (default), anvil or an RPC URL")
    parser.add_argument(
        "--scenario",
        action="append",
        metavar="NAME",
        help="run only this scenario (repeatable; default: every client scenario, from quick to "
        "offer_malformed)",
    )
    parser.add_argument("--timeout", type=float, help="seconds a client gets per scenario")
    parser.add_argument(
        "--versions",
        default="v1,v2",
        help="x402 versions the mock offers: v1,v2 (default), v1 or v2",
    )
    parser.add_argument(
        "client_command", nargs=argparse.REMAINDER, metavar="COMMAND", help="-- the client command"
    )


def client_command(args: argparse.Namespace) -> list[str]:
    """The command after `--`, its program found; ClientCommandError otherwise."""
    command = list(args.client_command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise ClientCommandError("give the client command after --, e.g. -- python my_client.py")
    if shutil.which(command[0]) is None:
        raise ClientCommandError(
            f"cannot run the client command: {command[0]} is not a program on PATH nor an "
            "executable file; check the command after --"
        )
    return command


def grade(args: argparse.Namespace) -> Report:
    from conformance.catalog import Profile
    from conformance.client import CommandClient, Transport, grade_client
    from conformance.client.session import SCENARIO_TIMEOUTS
    from mock_server.config import ServerSettings
    from x402_harness.stack import Stack, StackConfig
    from x402_service.envconfig import parse_versions

    command = client_command(args)
    unknown = sorted(set(args.scenario or ()) - set(SCENARIO_TIMEOUTS))
    if unknown:
        raise ClientCommandError(
            f"--scenario {', '.join(unknown)}: not a client scenario; expected one of "
            f"{', '.join(SCENARIO_TIMEOUTS)}"
        )
    versions = parse_versions(args.versions, "--versions")
    with Stack(StackConfig(chain=args.chain, server=ServerSettings(versions=versions))) as stack:
        return grade_client(
            CommandClient(command),
            stack.urls(),
            scenarios=args.scenario,
            timeout=args.timeout,
            only=args.only,
            profile=Profile(args.profile),
            progress=_progress,
            transport=Transport(args.transport),
        )


def _progress(scenario: str, run: ClientRun | None) -> None:
    from x402_harness.console import console

    if run is None:
        console.print(f"scenario [bold]{scenario}[/bold] …", end=" ")
        return
    outcome = "[green]success[/green]" if run.success else "[yellow]failure[/yellow]"
    timed_out = " [red](killed: timed out)[/red]" if run.timed_out else ""
    console.print(f"{outcome} in {run.seconds:.1f} s, exit {run.exit_code}{timed_out}")
