"""`x402-harness conformance facilitator URL`: grade a running facilitator, black-box."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from x402_harness.commands.conformance.arguments import add_target_url

if TYPE_CHECKING:
    from conformance.report import Report

EXAMPLE_URL = "http://127.0.0.1:4021"


def add_parser(
    subparsers: argparse._SubParsersAction, report_options: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "facilitator",
        parents=[report_options],
        help="grade a facilitator at a URL",
        description="Send valid and tampered exact-EVM payments to a facilitator's /verify and "
        "/settle, read /supported, and grade every answer. Pays with test wallet 1 (funded on "
        "every harness backend); a run spends a few tenths of a test USDC.",
    )
    add_target_url(parser, "the facilitator's base URL", EXAMPLE_URL)
    parser.add_argument(
        "--reasons",
        default="ours",
        help="which implementation's reason strings refusals must carry: this harness's "
        "(default), the official Python SDK's (python-sdk; x402-sdk is the same), the official "
        "TypeScript SDK's (ts-sdk), or any refusal",
    )
    parser.add_argument(
        "--rpc-url", help="the chain's RPC URL: enables on-chain checks (balances, cancelling)"
    )
    parser.add_argument(
        "--payer-index", type=int, default=1, help="test wallet that pays (default 1)"
    )
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow URLs that are not on loopback"
    )


def grade(args: argparse.Namespace) -> Report:
    from conformance.catalog import Profile
    from conformance.facilitator import grade_facilitator, reason_table
    from x402_core.wallets import test_wallet
    from x402_harness.commands.conformance.targets import refuse_remote, require_answering

    reason_table(args.reasons)  # an unknown name is refused before anything is sent
    refuse_remote([args.url, args.rpc_url], allowed=args.allow_remote)
    require_answering(args.url)
    return grade_facilitator(
        args.url,
        reasons=args.reasons,
        rpc_url=args.rpc_url,
        payer=test_wallet(args.payer_index),
        only=args.only,
        profile=Profile(args.profile),
    )
