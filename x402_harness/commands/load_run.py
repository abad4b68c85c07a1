"""Running `x402-harness load`: the flags checked into a LoadRequest, then Locust against the
stack it starts (or a target), gated on purchases, failures, SLOs and the stack's invariants."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.markup import escape

from conformance.target import admin_headers
from loadtests.funding import Funding, facilitator_named_by, fund_wallets
from loadtests.gate import DEFAULT_MAX_FAILURE_RATIO, GateRules, Verdict, verdict
from loadtests.invariants import Invariant, check_invariants
from loadtests.options import UserOptions
from loadtests.plan import LoadPlan, LoadPlanError, Target, target_of
from loadtests.runner import LocustRun, run_locust
from loadtests.slo import Threshold, load_thresholds, parse_threshold
from loadtests.wallets import pool
from mock_server.config import ServerSettings
from mock_server.scenarios import SCENARIOS
from x402_core.listing import Listing
from x402_core.wallets import STARTING_USDC_ATOMIC, TestWallet
from x402_harness.commands.conformance.targets import refuse_remote
from x402_harness.commands.load_report import ProgressPrinter, print_summary
from x402_harness.console import console
from x402_harness.stack import ADMIN_PATH, Stack, StackConfig
from x402_service.listings import read_listing
from x402_service.serving import free_port

INTERRUPTED_EXIT = 130


@dataclass(frozen=True)
class LoadRequest:
    """Every flag, checked: what `run` needs before it starts anything."""

    plan: LoadPlan
    users: UserOptions
    thresholds: list[Threshold]
    rules: GateRules
    target: Target | None
    listing: Listing
    listing_path: Path | None


def checked(args: argparse.Namespace) -> LoadRequest:
    """The flags as a LoadRequest; LoadPlanError or SloError (one line each) when one is wrong."""
    thresholds = [parse_threshold(t) for t in args.threshold]
    if args.slo:
        thresholds += load_thresholds(args.slo)
    max_failure_ratio = args.max_failure_ratio
    if max_failure_ratio is None:
        max_failure_ratio = DEFAULT_MAX_FAILURE_RATIO
    elif not 0 <= max_failure_ratio <= 1:
        raise LoadPlanError(f"--max-failure-ratio {max_failure_ratio:g}: expected 0-1")
    listing = read_listing(args.listing)
    target = None
    if args.target:
        target = target_of(args.target, listing.path)
        refuse_remote(
            [target.host, args.admin_url, args.facilitator_url], allowed=args.allow_remote
        )
    elif args.admin_url or args.facilitator_url:
        raise LoadPlanError("--admin-url and --facilitator-url go with --target")
    elif args.scenario and args.scenario not in SCENARIOS:
        raise LoadPlanError(f"--scenario {args.scenario!r}: expected one of {', '.join(SCENARIOS)}")
    users = UserOptions(
        endpoint_path=target.endpoint_path if target else listing.path,
        listing=str(args.listing.resolve()) if args.listing else "",
        scenario=args.scenario,
        wallets=args.wallets,
        presign=args.presign,
        replays=args.replays,
        think_time=_think_time(args.think_time),
        weights=_weights(args.weights),
    )
    plan = LoadPlan(
        users=args.users,
        spawn_rate=args.spawn_rate,
        run_time=args.run_time,
        processes=args.processes,
        locust_args=users.locust_args(),
    )
    _check_writable(args.out, args.json)
    rules = GateRules(max_failure_ratio=max_failure_ratio, expect_purchases=users.buys)
    return LoadRequest(plan, users, thresholds, rules, target, listing, args.listing)


def _think_time(text: str) -> tuple[float, float]:
    low, sep, high = text.partition("-")
    try:
        return float(low), float(high if sep else low)
    except ValueError:
        raise LoadPlanError(
            f"--think-time {text!r}: expected MIN-MAX seconds, e.g. 0.5-1.5"
        ) from None


def _weights(text: str) -> tuple[int, int, int]:
    parts = text.split(",")
    if len(parts) != 3 or not all(p.strip().isdigit() for p in parts):
        raise LoadPlanError(f"--weights {text!r}: expected three whole numbers, e.g. 3,1,1")
    paying, probe, poller = (int(p) for p in parts)
    return paying, probe, poller


def _check_writable(out: Path, json_path: Path | None) -> None:
    if out.exists() and not out.is_dir():
        raise LoadPlanError(f"--out {out}: exists and is not a directory")
    if json_path is not None and not json_path.parent.is_dir():
        raise LoadPlanError(f"--json {json_path}: no directory {json_path.parent} to write it in")


def run_load(args: argparse.Namespace) -> int:
    request = checked(args)
    args.out.mkdir(parents=True, exist_ok=True)
    if request.target is not None:
        return _run_against_target(args, request, request.target)
    server = ServerSettings(listing_path=request.listing_path)
    with Stack(StackConfig(chain=args.chain, server=server)) as stack:
        _print_funding(fund_wallets(stack.facilitator_url, _wallets(request), STARTING_USDC_ATOMIC))
        before = stack.chain.balance_of(stack.token, stack.pay_to)
        locust = _run(args, request, stack.server_url, stack.endpoint_url)
        rise = _payee_rise(stack, before)
        invariants = check_invariants(
            stack.admin_url,
            price=stack.listing.amount,
            payee_rise=rise,
            headers=stack.admin_headers,
        )
        return _finish(args, request, locust, invariants, [])


def _run_against_target(args: argparse.Namespace, request: LoadRequest, target: Target) -> int:
    headers = admin_headers(args.admin_token)
    admin_url = args.admin_url or _admin_api_at(target.host, headers)
    facilitator_url = args.facilitator_url or (
        admin_url and facilitator_named_by(admin_url, headers)
    )
    wallets = _wallets(request)
    if facilitator_url:
        _print_funding(fund_wallets(facilitator_url, wallets, STARTING_USDC_ATOMIC))
    else:
        console.print(
            "[yellow]warning:[/yellow] the load wallets' balances could not be checked: pass "
            "--facilitator-url (a harness facilitator funds them) or fund test wallets "
            f"#{wallets[0].index}–#{wallets[-1].index} yourself"
        )
    locust = _run(args, request, target.host, target.endpoint_url)
    problems: list[str] = []
    invariants: list[Invariant] = []
    if admin_url:
        try:
            invariants = check_invariants(admin_url, price=0, headers=headers)
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"the invariants could not be read from {admin_url}: {exc}")
    else:
        console.print(f"invariants not checked: no admin API at {target.host}{ADMIN_PATH}")
    return _finish(args, request, locust, invariants, problems)


def _admin_api_at(host: str, headers: dict[str, str]) -> str | None:
    """The mock's admin API below the target, if it answers there."""
    url = host + ADMIN_PATH
    try:
        health = httpx.get(url + "/health", headers=headers, timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return None
    return url if isinstance(health, dict) and health.get("status") == "ok" else None


def _wallets(request: LoadRequest) -> list[TestWallet]:
    return pool(request.users.first_wallet, request.users.wallets)


def _print_funding(funding: Funding) -> None:
    if funding.ok:
        console.print(f"wallets: {escape(funding.message)}")
    else:
        console.print(f"[yellow]warning:[/yellow] {escape(funding.message)}")


def _run(args: argparse.Namespace, request: LoadRequest, host: str, endpoint: str) -> LocustRun:
    plan = request.plan
    console.print(f"load: {plan.users} users for {plan.run_time} against {endpoint}")
    with ProgressPrinter(console) as progress:
        return run_locust(
            request.plan,
            host,
            args.out / "locust",
            html=args.out / "locust.html",
            master_port=free_port() if request.plan.processes > 1 else None,
            on_progress=progress,
        )


def _payee_rise(stack: Stack, before: int) -> int | None:
    try:
        return stack.chain.balance_of(stack.token, stack.pay_to) - before
    except Exception as exc:  # the chain may be the thing that failed under load
        console.print(
            f"[yellow]payee balance unreadable after the run:[/yellow] {escape(repr(exc))}"
        )
        return None


def _finish(
    args: argparse.Namespace,
    request: LoadRequest,
    locust: LocustRun,
    invariants: list[Invariant],
    problems: list[str],
) -> int:
    if locust.exit_code != 0 and not locust.interrupted:
        problems = [*problems, f"Locust exited {locust.exit_code}: {locust.output_tail(600)}"]
    found: Verdict = verdict(
        locust.snapshot,
        rules=request.rules,
        thresholds=request.thresholds,
        invariants=invariants,
        problems=problems,
        interrupted=locust.interrupted,
    )
    print_summary(console, locust, found, processes=request.plan.processes)
    console.print(f"reports: {args.out}")
    if args.json is not None:
        args.json.write_text(json.dumps(found.to_json(), indent=2) + "\n")
    if locust.interrupted:
        return INTERRUPTED_EXIT
    return 0 if found.passed else 1
