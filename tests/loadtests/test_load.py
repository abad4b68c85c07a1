"""Load over real HTTP with Locust in child processes: the command, its SLO gate, master/worker
mode, the invariants after replays and duplicates on both backends, and Anvil dying mid-load."""

from __future__ import annotations

import csv
import re
import threading
import time
from pathlib import Path

import pytest

from loadtests.invariants import check_invariants
from loadtests.runner import LoadPlan, run_locust
from loadtests.wallets import DEFAULT_FIRST_WALLET, FUNDED_USDC_ATOMIC, pool
from x402_harness.cli import main
from x402_harness.stack import Stack, StackConfig

WALLETS = 20


def test_load_command_reports_and_keeps_the_invariants(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "load",
            "--users",
            "15",
            "--spawn-rate",
            "15",
            "--run-time",
            "5s",
            "--scenario",
            "instant",
            "--think-time",
            "0-0.02",
            "--replays",
            "0.5",
            "--wallets",
            str(WALLETS),
            "--threshold",
            "failure_ratio<0.001",
            "--out",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("invariant holds") == 3
    jobs = int(re.search(r"\((\d+) jobs, \d+ settlements\)", out)[1])  # type: ignore[index]
    assert jobs >= 200, "hundreds of paid jobs, replays among them"
    assert "POST generate (replay" in out
    assert (tmp_path / "locust_stats.csv").is_file()
    assert (tmp_path / "locust.html").is_file()


def test_a_broken_slo_fails_the_run_and_says_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "load",
            "--users",
            "3",
            "--run-time",
            "2s",
            "--weights",
            "1,0,0",
            "--scenario",
            "instant",
            "--wallets",
            "3",
            "--threshold",
            "POST generate (paid):p50<0.001",
            "--out",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "SLO broken: POST generate (paid): p50 < 0.001" in out
    assert "GET status (poller)" not in out  # the weights left the pollers out


def test_master_and_two_workers_on_loopback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "load",
            "--users",
            "6",
            "--spawn-rate",
            "6",
            "--run-time",
            "4s",
            "--processes",
            "2",
            "--scenario",
            "instant",
            "--wallets",
            "6",
            "--out",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "workers connected: 2 of 2" in out


def _funded_stack(chain: str) -> Stack:
    stack = Stack(StackConfig(chain=chain)).start()
    for wallet in pool(DEFAULT_FIRST_WALLET, WALLETS):
        stack.chain.set_balance(stack.token, wallet.address, FUNDED_USDC_ATOMIC)
    return stack


def _plan(stack: Stack, tmp_path: Path, run_time: str, users: int) -> LoadPlan:
    return LoadPlan(
        host=stack.server_url,
        csv_prefix=tmp_path / "run",
        users=users,
        spawn_rate=users,
        run_time=run_time,
        locust_args=[
            "--x402-scenario",
            "instant",
            "--x402-wallets",
            str(WALLETS),
            "--x402-replays",
            "0.3",
            "--x402-think-min",
            "0",
            "--x402-think-max",
            "0.1",
        ],
    )


@pytest.mark.anvil
def test_anvil_keeps_the_invariants_under_load(tmp_path: Path) -> None:
    stack = _funded_stack("anvil")
    try:
        before = stack.chain.balance_of(stack.token, stack.pay_to)
        run = run_locust(_plan(stack, tmp_path, "6s", 10))
        rise = stack.chain.balance_of(stack.token, stack.pay_to) - before
        invariants = check_invariants(stack.admin_url, price=stack.listing.amount, payee_rise=rise)
    finally:
        stack.stop()
    assert run.exit_code == 0, run.output[-2000:]
    assert rise > 0
    assert all(i.holds for i in invariants), invariants


@pytest.mark.anvil
def test_anvil_dying_mid_load_leaves_no_job_without_its_settlement(tmp_path: Path) -> None:
    stack = _funded_stack("anvil")
    anvil = stack._opened.anvil
    assert anvil is not None
    killer = threading.Timer(3.0, anvil.stop)
    try:
        killer.start()
        started = time.monotonic()
        run = run_locust(_plan(stack, tmp_path, "7s", 10))
        invariants = check_invariants(stack.admin_url, price=stack.listing.amount)
    finally:
        killer.cancel()
        stack.stop()
    assert run.exit_code == 0
    assert time.monotonic() - started < 60
    assert all(i.holds for i in invariants), invariants
    with (tmp_path / "run_failures.csv").open(newline="") as rows:
        failures = list(csv.DictReader(rows))
    paid = [f for f in failures if f["Name"] == "POST generate (paid)"]
    assert paid, "requests after Anvil died must fail"
    assert all(("402" in f["Error"] or "503" in f["Error"]) for f in paid), paid
