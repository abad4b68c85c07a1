"""Load over real HTTP with Locust in child processes: the command and its gate (purchases,
failures, SLOs, invariants), progress, Ctrl-C, external targets and their wallets, master/worker
mode, HTTP-date Retry-After, and on Anvil the invariants under load and when Anvil dies."""

from __future__ import annotations

import csv
import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from loadtests.invariants import check_invariants
from loadtests.options import UserOptions
from loadtests.plan import LoadPlan
from loadtests.runner import run_locust
from loadtests.snapshot import read_snapshot
from loadtests.wallets import pool
from tests.loadtests.dated_server import dated_server
from x402_core.wallets import STARTING_USDC_ATOMIC
from x402_harness.cli import main
from x402_harness.stack import Stack, StackConfig
from x402_service.serving import ServerThread, free_port

WALLETS = 20
QUICK = ["--users", "2", "--spawn-rate", "2", "--weights", "1,0,0", "--think-time", "0-0.05"]


def _verdict(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_load_command_reports_and_keeps_the_invariants(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "load",
            "--users", "15",
            "--spawn-rate", "15",
            "--run-time", "5s",
            "--scenario", "instant",
            "--think-time", "0-0.02",
            "--replays", "0.5",
            "--wallets", str(WALLETS),
            "--threshold", "failure_ratio<0.001",
            "--out", str(tmp_path),
            "--json", str(tmp_path / "verdict.json"),
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert re.search(r"load: +\d+ s +\d+ users .* paid jobs .* failures of \d+ requests", out)
    assert out.count("invariant holds") == 3
    jobs = int(re.search(r"\((\d+) jobs, \d+ settlements\)", out)[1])  # type: ignore[index]
    assert jobs >= 200, "hundreds of paid jobs, replays among them"
    assert "replay" in out
    assert "load gate passed" in out
    verdict = _verdict(tmp_path / "verdict.json")
    assert verdict["passed"] is True
    assert verdict["paid_jobs"] == jobs
    assert verdict["thresholds"][0]["threshold"] == "Aggregated: failure_ratio < 0.001"
    assert len(verdict["invariants"]) == 3
    assert (tmp_path / "locust.html").is_file()
    with (tmp_path / "locust_stats.csv").open(newline="") as rows:
        stats = {row["Name"]: int(row["Request Count"]) for row in csv.DictReader(rows)}
    assert not [name for name in stats if name.startswith("time to")], "milestones kept apart"
    assert stats["Aggregated"] == sum(n for name, n in stats.items() if name != "Aggregated")
    snapshot = read_snapshot(tmp_path / "locust_snapshot.json")
    assert snapshot is not None
    assert snapshot.final
    assert snapshot.milestones["time to completed job [instant]"].count == jobs


@pytest.mark.parametrize(
    "listing", sorted((Path(__file__).parents[2] / "examples" / "listings").glob("*.json"))
)
def test_load_buys_from_any_listed_endpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], listing: Path
) -> None:
    code = main(
        ["load", *QUICK, "--run-time", "3s", "--listing", str(listing), "--out", str(tmp_path),
         "--json", str(tmp_path / "verdict.json")]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    verdict = _verdict(tmp_path / "verdict.json")
    assert verdict["paid_jobs"] > 0
    assert verdict["failures"] == 0
    assert all(i["holds"] for i in verdict["invariants"])


def test_a_broken_slo_fails_the_run_and_says_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "load",
            "--users", "3",
            "--run-time", "2s",
            "--weights", "1,0,0",
            "--scenario", "instant",
            "--wallets", "3",
            "--threshold", "paid request:p50<0.001",
            "--out", str(tmp_path),
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1
    assert "load gate failed: SLO broken: paid request: p50 < 0.001" in out
    assert "status poll (poller)" not in out  # the weights left the pollers out


@pytest.mark.slow
def test_master_and_two_workers_on_loopback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "load",
            "--users", "6",
            "--spawn-rate", "6",
            "--run-time", "4s",
            "--processes", "2",
            "--scenario", "instant",
            "--wallets", "6",
            "--out", str(tmp_path),
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "workers connected: 2 of 2" in out
    snapshot = read_snapshot(tmp_path / "locust_snapshot.json")
    assert snapshot is not None
    completed = snapshot.milestones["time to completed job [instant]"].count
    assert completed == snapshot.paid_jobs > 0, "the workers' milestones reach the master"


def test_nothing_at_the_target_fails_the_gate_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nothing = f"http://127.0.0.1:{free_port()}/v1/images/generate"
    verdict_path = tmp_path / "verdict.json"
    code = main(
        [
            "load", "--target", nothing, *QUICK, "--run-time", "1s",
            "--out", str(tmp_path), "--json", str(verdict_path),
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1, out
    assert "the load wallets' balances could not be checked" in out
    assert "load gate failed: no completed purchase" in out
    assert "Connection refused" in out
    verdict = _verdict(verdict_path)
    assert verdict["passed"] is False
    assert verdict["paid_jobs"] == 0
    assert verdict["failures"] == verdict["requests"] > 0


@pytest.fixture
def outside_stack() -> Iterator[Stack]:
    """A stack the load command did not start, its load wallets unfunded (as under `up`)."""
    with Stack(StackConfig()) as stack:
        yield stack


def _load_outside(target: str, facilitator_url: str, out: Path) -> int:
    """Two paying users for 2 s against `target`, its wallets funded through `facilitator_url`."""
    return main(
        [
            "load", "--target", target, *QUICK, "--run-time", "2s", "--scenario", "instant",
            "--facilitator-url", facilitator_url, "--wallets", "2", "--out", str(out),
        ]
    )  # fmt: skip


def test_an_outside_stack_gets_its_wallets_funded_by_its_facilitator(
    outside_stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _load_outside(outside_stack.endpoint_url, outside_stack.facilitator_url, tmp_path)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 load wallets (#100–#101): 2 funded with 1000 USDC each" in out
    assert out.count("invariant holds") == 2, "the mock's admin API found below the target"
    wallet = pool(100, 1)[0]
    assert outside_stack.chain.balance_of(outside_stack.token, wallet.address) < (
        STARTING_USDC_ATOMIC
    )


def test_unfunded_wallets_that_cannot_be_funded_fail_with_the_reason(
    outside_stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ServerThread(Starlette()) as not_a_facilitator:
        code = _load_outside(outside_stack.server_url, not_a_facilitator.url, tmp_path)
    out = capsys.readouterr().out
    assert code == 1, out
    assert "warning: 2 load wallets (#100–#101) could not be checked or funded" in out
    assert "not a harness facilitator" in out
    assert "no completed purchase" in out
    assert "insufficient_funds" in out


def test_a_retry_after_date_is_waited_for_as_the_payer_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    polls: Counter[str] = Counter()
    with ServerThread(dated_server(polls)) as server:
        code = main(
            ["load", "--target", server.url, *QUICK, "--run-time", "3s", "--out", str(tmp_path)]
        )
    out = capsys.readouterr().out
    assert code == 0, out
    snapshot = read_snapshot(tmp_path / "locust_snapshot.json")
    assert snapshot is not None
    assert snapshot.milestones["time to completed job [default]"].count > 0
    assert polls
    assert max(polls.values()) == 2
    with (tmp_path / "locust_exceptions.csv").open(newline="") as rows:
        assert list(csv.DictReader(rows)) == []


def test_ctrl_c_ends_with_the_summary_so_far_and_exit_130(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "x402_harness.cli", "load", *QUICK, "--run-time", "60s"]
    command += ["--scenario", "instant", "--wallets", "2", "--out", str(tmp_path)]
    command += ["--json", str(tmp_path / "verdict.json")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            snapshot = read_snapshot(tmp_path / "locust_snapshot.json")
            if snapshot is not None and snapshot.paid_jobs > 0:
                break
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
        raise AssertionError(f"Ctrl-C did not end the load within 60 s:\n{out}") from None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, out
    assert "load summary: HTTP requests" in out
    assert "load gate failed: interrupted before the run time was over" in out
    verdict = _verdict(tmp_path / "verdict.json")
    assert verdict["interrupted"] is True
    assert verdict["passed"] is False
    assert verdict["paid_jobs"] > 0


def _funded_stack(chain: str) -> Stack:
    stack = Stack(StackConfig(chain=chain)).start()
    for wallet in pool(100, WALLETS):
        stack.chain.set_balance(stack.token, wallet.address, STARTING_USDC_ATOMIC)
    return stack


def _plan(run_time: str, users: int) -> LoadPlan:
    options = UserOptions(
        scenario="instant", wallets=WALLETS, replays=0.3, think_time=(0, 0.1), weights=(3, 1, 1)
    )
    return LoadPlan(
        users=users, spawn_rate=users, run_time=run_time, locust_args=options.locust_args()
    )


@pytest.mark.anvil
@pytest.mark.slow
def test_anvil_keeps_the_invariants_under_load(tmp_path: Path) -> None:
    stack = _funded_stack("anvil")
    try:
        before = stack.chain.balance_of(stack.token, stack.pay_to)
        run = run_locust(_plan("6s", 10), stack.server_url, tmp_path / "run")
        rise = stack.chain.balance_of(stack.token, stack.pay_to) - before
        invariants = check_invariants(stack.admin_url, price=stack.listing.amount, payee_rise=rise)
    finally:
        stack.stop()
    assert run.exit_code == 0, run.output_tail()
    assert rise > 0
    assert all(i.holds for i in invariants), invariants


@pytest.mark.anvil
@pytest.mark.slow
def test_anvil_dying_mid_load_leaves_no_job_without_its_settlement(tmp_path: Path) -> None:
    stack = _funded_stack("anvil")
    anvil = stack._opened.anvil  # type: ignore[union-attr]
    assert anvil is not None
    killer = threading.Timer(3.0, anvil.stop)
    try:
        killer.start()
        run = run_locust(_plan("7s", 10), stack.server_url, tmp_path / "run")
        invariants = check_invariants(stack.admin_url, price=stack.listing.amount)
    finally:
        killer.cancel()
        stack.stop()
    assert run.exit_code == 0
    assert all(i.holds for i in invariants), invariants
    with (tmp_path / "run_failures.csv").open(newline="") as rows:
        failures = list(csv.DictReader(rows))
    paid = [f for f in failures if f["Name"] == "paid request"]
    assert paid, "requests after Anvil died must fail"
    assert all(("402" in f["Error"] or "503" in f["Error"]) for f in paid), paid
