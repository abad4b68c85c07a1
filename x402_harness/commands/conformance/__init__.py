"""`x402-harness conformance`: list the catalog, write its docs, grade a client, server or
facilitator.

Each role's subcommand lives in its own module with `add_parser(subparsers, report_options)` and
`grade(args) -> Report`; this module prints and writes the report and turns it into an exit status
(1 when a MUST fails, a check finds no evidence, or a SHOULD fails with `--strict`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from conformance.catalog import Profile, Role
from x402_harness.commands.conformance import client, facilitator, server
from x402_harness.commands.conformance.arguments import CheckIds
from x402_harness.commands.conformance.reports import add_report_arguments, prepare_report_paths
from x402_harness.usage import UsageError

ROLE_COMMANDS = {"client": client, "server": server, "facilitator": facilitator}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "conformance",
        help="grade an x402 client, server or facilitator, check by check",
        description="Graded, evidence-backed conformance checks (MUST / SHOULD, each with its "
        "source: the x402 spec, the endpoint's listing or this harness's policy). Exit status 1 "
        "when a MUST fails or a check finds no evidence (--strict: any failed check).",
    )
    commands = parser.add_subparsers(dest="conformance_command", required=True, metavar="ROLE")
    listing = commands.add_parser("list", help="print the catalog")
    listing.add_argument("--role", choices=[r.value for r in Role], help="only this role")
    listing.add_argument("--json", action="store_true", help="as JSON")
    listing.add_argument(
        "--profile", choices=[p.value for p in Profile], default="xgen", help="only this profile"
    )
    docs = commands.add_parser("docs", help="print docs/checks.md, generated from the catalog")
    docs.add_argument("--write", type=Path, help="write it to this file instead")

    report_options = argparse.ArgumentParser(add_help=False)
    group = report_options.add_argument_group("report")
    add_report_arguments(group)
    group.add_argument("--strict", action="store_true", help="a failed SHOULD fails the run too")
    group.add_argument(
        "--profile",
        choices=[p.value for p in Profile],
        default="xgen",
        help="x402: the spec's checks alone; xgen (default): also the listing's and this "
        "harness's policy",
    )
    group.add_argument("-v", "--verbose", action="store_true", help="evidence of passing checks")
    group.add_argument(
        "--only",
        nargs="+",
        action=CheckIds,
        metavar="ID",
        help="grade only these check ids (e.g. SRV-001)",
    )
    for module in ROLE_COMMANDS.values():
        module.add_parser(commands, report_options)


def run(args: argparse.Namespace) -> int:
    from conformance.catalog import load_all
    from conformance.render import print_report
    from x402_harness.commands.conformance.reports import write_reports
    from x402_harness.console import console

    command = args.conformance_command
    if command == "list":
        return _list(args)
    if command == "docs":
        from conformance.docs import checks_markdown

        text = checks_markdown(load_all())
        if args.write:
            args.write.write_text(text)
        else:
            print(text, end="")
        return 0
    if getattr(args, "url", "") is None:
        raise UsageError(
            f"conformance {command} needs the URL to grade, e.g. "
            f"{ROLE_COMMANDS[command].EXAMPLE_URL} (see conformance {command} -h)"
        )
    prepare_report_paths(args)
    report = ROLE_COMMANDS[command].grade(args)
    print_report(report, console, verbose=args.verbose)
    if report.details.get("did_not_run"):
        console.print(f"[red]error:[/red] {report.details['did_not_run']}")
    write_reports(report, args)
    return report.exit_code(strict=args.strict)


def _list(args: argparse.Namespace) -> int:
    from conformance.catalog import load_all
    from x402_harness.console import console

    checks = load_all().checks(Role(args.role) if args.role else None, Profile(args.profile))
    if args.json:
        print(json.dumps([c.as_dict() for c in checks], indent=2))
        return 0
    for check in checks:
        console.print(
            f"{check.id}  {check.level.value:<6}  {check.title}  [dim]{check.spec}[/dim]",
            highlight=False,
        )
    console.print(f"{len(checks)} checks")
    return 0
