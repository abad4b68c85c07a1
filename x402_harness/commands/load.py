"""`x402-harness load`: paying users with Locust against the stack (or a target), gated on
purchases, failures, SLOs and the stack's invariants. Its flags; the run is in `load_run`."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

MAX_FAILURE_RATIO = 0.01
"""The help's figure of loadtests.gate.DEFAULT_MAX_FAILURE_RATIO (a test keeps them equal)."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "load",
        help="load-test with paying Locust users, gated on purchases, SLOs and invariants",
        description="Run Locust headless against the stack it starts (or --target), showing "
        "progress, writing CSV and HTML reports and printing a summary. Exit 1 when nothing was "
        "bought, when more requests failed than --max-failure-ratio allows, or when an SLO "
        "threshold or an invariant (settlements = jobs, no authorization settled twice, payee "
        "paid once per job) breaks; exit 130 after Ctrl-C (with the summary so far).",
    )
    # Values such as `-5s` are values, not options (Python 3.13 reads them so already).
    parser._negative_number_matcher = re.compile(r"^-\.?\d")
    parser.add_argument("--users", type=int, default=20, help="simulated users (default 20)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second")
    parser.add_argument("--run-time", default="30s", help="e.g. 30s, 5m (default 30s)")
    parser.add_argument("--processes", type=int, default=1, help="Locust worker processes")
    parser.add_argument(
        "--target",
        help="a running server's base URL (or its endpoint's URL) instead of the stack",
    )
    parser.add_argument(
        "--admin-url",
        help="the target's admin API, for the invariants (default: the mock's, TARGET/__mock__, "
        "if it answers there)",
    )
    parser.add_argument(
        "--facilitator-url",
        help="the target's facilitator, to check and fund the load wallets (default: the one "
        "the target's admin API names)",
    )
    parser.add_argument("--admin-token", default="", help="the target's admin API token")
    parser.add_argument("--chain", default="ledger", help="stack chain: ledger, anvil or a URL")
    parser.add_argument("--slo", type=Path, help="thresholds file (JSON or TOML)")
    parser.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="[NAME:]METRIC<LIMIT",
        help="a threshold, e.g. p95<500 or 'paid request:p99<1500' (repeatable)",
    )
    parser.add_argument(
        "--max-failure-ratio",
        type=float,
        help=f"fail when a larger share of the requests fails (default {MAX_FAILURE_RATIO:g}; "
        "0: any failure)",
    )
    parser.add_argument("--scenario", default="", help="X-Mock-Scenario of every purchase")
    parser.add_argument("--wallets", type=int, default=100, help="funded wallets in the pool")
    parser.add_argument("--presign", type=int, default=0, help="payments signed ahead per user")
    parser.add_argument(
        "--replays",
        type=float,
        default=0.0,
        help="share of purchases whose payment is re-sent, half of them concurrently (0-1)",
    )
    parser.add_argument(
        "--think-time",
        default="0.5-1.5",
        metavar="MIN-MAX",
        help="seconds a user waits between tasks (default 0.5-1.5)",
    )
    parser.add_argument(
        "--weights",
        default="3,1,1",
        metavar="PAYING,PROBE,POLLER",
        help="how many of each user kind per mix (default 3,1,1)",
    )
    parser.add_argument(
        "--listing",
        type=Path,
        help="the endpoint's listing (the x402 index's format): what the stack serves and the "
        "users buy; default xGen's",
    )
    parser.add_argument("--out", type=Path, default=Path("load-report"), help="report directory")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the verdict here")
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow a target that is not on loopback"
    )


def run(args: argparse.Namespace) -> int:
    from x402_harness.commands.load_run import run_load

    return run_load(args)
