"""`x402-harness load`: paying users with Locust against the stack (or a target), SLO-gated."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from conformance.target import admin_headers
from loadtests.invariants import Invariant, check_invariants
from loadtests.runner import LoadPlan, LocustRun, run_locust
from loadtests.slo import Breach, Threshold, breaches, load_thresholds, parse_threshold, read_stats
from loadtests.wallets import DEFAULT_FIRST_WALLET, FUNDED_USDC_ATOMIC, pool
from x402_harness.commands.conformance.targets import refuse_remote
from x402_harness.console import console
from x402_harness.stack import Stack, StackConfig


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "load",
        help="load-test with paying Locust users, gated on SLOs and the stack's invariants",
        description="Run Locust headless against the stack it starts (or --target), write CSV "
        "and HTML reports, print a summary, and exit 1 when an SLO threshold or an invariant "
        "(settlements = jobs, no authorization settled twice, payee paid once per job) breaks.",
    )
    parser.add_argument("--users", type=int, default=20, help="simulated users (default 20)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second")
    parser.add_argument("--run-time", default="30s", help="e.g. 30s, 5m (default 30s)")
    parser.add_argument("--processes", type=int, default=1, help="Locust worker processes")
    parser.add_argument("--target", help="a running server's base URL instead of the stack")
    parser.add_argument("--admin-url", help="the target's admin API, for the invariants")
    parser.add_argument("--admin-token", default="", help="the target's admin API token")
    parser.add_argument("--chain", default="ledger", help="stack chain: ledger, anvil or a URL")
    parser.add_argument("--slo", type=Path, help="thresholds file (JSON or TOML)")
    parser.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="[NAME:]METRIC<LIMIT",
        help="a threshold, e.g. p95<500 or 'POST generate (paid):p99<1500' (repeatable)",
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
        type=_think_time,
        default=(0.5, 1.5),
        metavar="MIN-MAX",
        help="seconds a user waits between tasks (default 0.5-1.5)",
    )
    parser.add_argument(
        "--weights",
        type=_weights,
        default=(3, 1, 1),
        metavar="PAYING,PROBE,POLLER",
        help="how many of each user kind per mix (default 3,1,1)",
    )
    parser.add_argument("--out", type=Path, default=Path("load-report"), help="report directory")
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow a target that is not on loopback"
    )


def _think_time(text: str) -> tuple[float, float]:
    low, sep, high = text.partition("-")
    try:
        bounds = (float(low), float(high if sep else low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not MIN-MAX seconds") from None
    if not 0 <= bounds[0] <= bounds[1]:
        raise argparse.ArgumentTypeError(f"{text!r}: expected 0 <= MIN <= MAX")
    return bounds


def _weights(text: str) -> tuple[int, int, int]:
    parts = text.split(",")
    if len(parts) != 3 or not all(p.strip().isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"{text!r}: expected three whole numbers, e.g. 3,1,1")
    paying, probe, poller = (int(p) for p in parts)
    if paying + probe + poller == 0:
        raise argparse.ArgumentTypeError("at least one weight must be above 0")
    return paying, probe, poller


def run(args: argparse.Namespace) -> int:
    thresholds = [parse_threshold(t) for t in args.threshold]
    if args.slo:
        thresholds += load_thresholds(args.slo)
    args.out.mkdir(parents=True, exist_ok=True)
    options = {
        "--x402-scenario": args.scenario,
        "--x402-wallets": args.wallets,
        "--x402-presign": args.presign,
        "--x402-first-wallet": DEFAULT_FIRST_WALLET,
        "--x402-replays": args.replays,
        "--x402-think-min": args.think_time[0],
        "--x402-think-max": args.think_time[1],
        "--x402-paying-weight": args.weights[0],
        "--x402-probe-weight": args.weights[1],
        "--x402-poller-weight": args.weights[2],
    }
    locust_args = [part for name, value in options.items() for part in (name, str(value))]
    if args.target:
        refuse_remote([args.target, args.admin_url], allowed=args.allow_remote)
        plan = _plan(args, args.target, locust_args)
        locust = run_locust(plan)
        headers = admin_headers(args.admin_token)
        invariants = (
            check_invariants(args.admin_url, price=0, headers=headers) if args.admin_url else []
        )
        return _report(args, plan, locust, thresholds, invariants)
    with Stack(StackConfig(chain=args.chain)) as stack:
        for wallet in pool(DEFAULT_FIRST_WALLET, args.wallets):
            stack.chain.set_balance(stack.token, wallet.address, FUNDED_USDC_ATOMIC)
        before = stack.chain.balance_of(stack.token, stack.pay_to)
        plan = _plan(args, stack.server_url, locust_args)
        console.print(f"load: {args.users} users for {args.run_time} against {stack.endpoint_url}")
        locust = run_locust(plan)
        rise = _payee_rise(stack, before)
        invariants = check_invariants(
            stack.admin_url,
            price=stack.listing.amount,
            payee_rise=rise,
            headers=stack.admin_headers,
        )
        return _report(args, plan, locust, thresholds, invariants)


def _payee_rise(stack: Stack, before: int) -> int | None:
    try:
        return stack.chain.balance_of(stack.token, stack.pay_to) - before
    except Exception as exc:  # the chain may be the thing that failed under load
        console.print(f"[yellow]payee balance unreadable after the run: {exc}[/yellow]")
        return None


def _plan(args: argparse.Namespace, host: str, locust_args: list[str]) -> LoadPlan:
    return LoadPlan(
        host=host,
        csv_prefix=args.out / "locust",
        users=args.users,
        spawn_rate=args.spawn_rate,
        run_time=args.run_time,
        processes=args.processes,
        html=args.out / "locust.html",
        locust_args=locust_args,
    )


def _report(
    args: argparse.Namespace,
    plan: LoadPlan,
    locust: LocustRun,
    thresholds: list[Threshold],
    invariants: list[Invariant],
) -> int:
    stats_csv = plan.csv_prefix.with_name(plan.csv_prefix.name + "_stats.csv")
    if locust.exit_code != 0 or not stats_csv.is_file():
        console.print(
            f"[red]Locust failed (exit {locust.exit_code}):[/red]\n{locust.output[-2000:]}"
        )
        return 1
    stats = read_stats(stats_csv)
    table = Table(title="load summary", title_justify="left")
    for column in ("request", "count", "failures", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column, justify="left" if column == "request" else "right")
    for name, seen in stats.items():
        table.add_row(
            name,
            str(seen.count),
            str(seen.failures),
            *(f"{seen.percentiles[p]:.0f}" for p in ("50%", "95%", "99%")),
        )
    console.print(table)
    if plan.processes > 1:
        console.print(f"workers connected: {locust.workers_connected} of {plan.processes}")
    found: list[Breach] = breaches(thresholds, stats)
    for breach in found:
        console.print(f"[red]SLO broken:[/red] {breach}")
    for invariant in invariants:
        mark = "[green]holds[/green]" if invariant.holds else "[red]BROKEN[/red]"
        console.print(f"invariant {mark}: {invariant.name} ({invariant.detail})")
    console.print(f"reports: {stats_csv} and {plan.html}")
    return 1 if found or not all(i.holds for i in invariants) else 0
