"""`x402-harness conformance server URL`: grade a paid endpoint, black-box."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from x402_harness.commands.conformance.arguments import add_target_url

if TYPE_CHECKING:
    from conformance.report import Report

EXAMPLE_URL = "http://127.0.0.1:8402/v1/images/generate"


def add_parser(
    subparsers: argparse._SubParsersAction, report_options: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "server",
        parents=[report_options],
        help="grade a paid endpoint at a URL (the mock, or your staging server)",
        description="Ask the endpoint for payment, pay it validly and invalidly, replay, poll the "
        "job and download its images; grade every answer against the endpoint's listing. Pays "
        "with test wallet 2; a run buys three jobs (0.15 test USDC).",
    )
    add_target_url(parser, "the paid endpoint", EXAMPLE_URL)
    parser.add_argument(
        "--listing",
        type=Path,
        help="the endpoint's listing (the x402 index's format) it must match; default xGen's",
    )
    parser.add_argument("--rpc-url", help="the chain's RPC URL: replays are checked on chain")
    parser.add_argument(
        "--payer-index", type=int, default=2, help="test wallet that pays (default 2)"
    )
    parser.add_argument(
        "--header",
        type=_header,
        action="append",
        default=[],
        metavar="NAME:VALUE",
        help="send this header with every request (e.g. X-Mock-Scenario:quick)",
    )
    parser.add_argument(
        "--poll-timeout", type=float, default=30.0, help="seconds to wait for a terminal job"
    )
    faults = parser.add_argument_group(
        "under a faulty facilitator (for a server that uses this harness's facilitator)"
    )
    faults.add_argument(
        "--facilitator-admin",
        metavar="URL",
        help="the facilitator's URL (e.g. http://127.0.0.1:4021): buy a job under each of its "
        "faults (SRV-032 to SRV-034; six more jobs, 0.30 test USDC)",
    )
    faults.add_argument(
        "--fault-hold",
        type=_seconds,
        default=30.0,
        metavar="SECONDS",
        help="the server's timeout on facilitator calls: timeout_after_broadcast holds the "
        "settle answer longer than this (default 30)",
    )
    faults.add_argument(
        "--fault-slow",
        type=_seconds,
        default=2.0,
        metavar="SECONDS",
        help="how long the slow fault delays /verify and /settle (default 2)",
    )
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow URLs that are not on loopback"
    )


def _seconds(text: str) -> float:
    from facilitator_sim.faults import MAX_SECONDS as MAX_FAULT_SECONDS

    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= MAX_FAULT_SECONDS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds above 0, at most {MAX_FAULT_SECONDS:g}"
        )
    return seconds


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME:VALUE")
    return name.strip(), value.strip()


def grade(args: argparse.Namespace) -> Report:
    from conformance.catalog import Profile
    from conformance.server import grade_server
    from x402_core.wallets import test_wallet
    from x402_harness.commands.conformance.targets import refuse_remote, require_answering
    from x402_service.listings import read_listing

    listing = read_listing(args.listing)
    refuse_remote([args.url, args.rpc_url, args.facilitator_admin], allowed=args.allow_remote)
    require_answering(args.url)
    return grade_server(
        args.url,
        listing,
        payer=test_wallet(args.payer_index),
        rpc_url=args.rpc_url,
        headers=dict(args.header),
        poll_timeout=args.poll_timeout,
        only=args.only,
        profile=Profile(args.profile),
        facilitator_admin=args.facilitator_admin,
        fault_hold=args.fault_hold,
        fault_slow=args.fault_slow,
    )
