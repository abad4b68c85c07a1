"""The gate's verdict: never passed when nothing was bought, too much failed, a threshold or an
invariant broke, or the run was interrupted; each reason said in one line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from loadtests.gate import GateRules, verdict
from loadtests.invariants import Invariant
from loadtests.names import AGGREGATED, PAID, UNPAID
from loadtests.slo import Threshold
from loadtests.snapshot import ErrorCount, RequestStats, Snapshot

HOLDS = Invariant("every job has its settlement and every settlement its job", True, "3 jobs")


def snapshot(paid: int, paid_failures: int, unpaid: int, unpaid_failures: int) -> Snapshot:
    rows = {
        UNPAID: RequestStats(unpaid, unpaid_failures, {"p95": 5}),
        PAID: RequestStats(paid, paid_failures, {"p95": 9}),
    }
    rows = {name: stats for name, stats in rows.items() if stats.count}
    total = RequestStats(paid + unpaid, paid_failures + unpaid_failures, {"p95": 8})
    errors = [ErrorCount(PAID, "paid request answered 402: insufficient_funds", paid_failures)]
    return Snapshot(
        elapsed=5.0,
        users=3,
        rps=10.0,
        requests={**rows, AGGREGATED: total},
        milestones={"time to completed job [happy]": RequestStats(1, 0, {"p95": 4000})},
        errors=errors if paid_failures else [],
        final=True,
    )


def test_a_good_run_passes() -> None:
    found = verdict(
        snapshot(50, 0, 50, 0),
        rules=GateRules(),
        thresholds=[Threshold(AGGREGATED, "p95", 500)],
        invariants=[HOLDS],
    )
    assert found.passed, found.reasons
    assert found.to_json()["paid_jobs"] == 50
    assert found.to_json()["thresholds"][0]["passed"] is True


def test_nothing_bought_fails_and_says_the_most_frequent_error() -> None:
    found = verdict(snapshot(40, 40, 40, 0), rules=GateRules(), thresholds=[], invariants=[HOLDS])
    assert not found.passed
    assert found.reasons[0].startswith("no completed purchase in 80 requests")
    assert "insufficient_funds" in found.reasons[0]


def test_no_request_at_all_fails_even_without_paying_users() -> None:
    rules = GateRules(expect_purchases=False)
    found = verdict(snapshot(0, 0, 0, 0), rules=rules, thresholds=[], invariants=[])
    assert found.reasons == ["no request was made"]
    assert verdict(snapshot(0, 0, 10, 0), rules=rules, thresholds=[], invariants=[]).passed


def test_no_stats_interrupted_or_locust_problems_fail() -> None:
    assert (
        "Locust reported no stats"
        in verdict(None, rules=GateRules(), thresholds=[], invariants=[]).reasons
    )
    interrupted = verdict(
        snapshot(5, 0, 5, 0), rules=GateRules(), thresholds=[], invariants=[], interrupted=True
    )
    assert not interrupted.passed
    assert interrupted.to_json()["interrupted"] is True
    problem = verdict(
        snapshot(5, 0, 5, 0),
        rules=GateRules(),
        thresholds=[],
        invariants=[],
        problems=["Locust exited 2"],
    )
    assert problem.reasons == ["Locust exited 2"]


@given(
    paid=st.integers(0, 500),
    paid_failures=st.integers(0, 500),
    unpaid=st.integers(0, 500),
    unpaid_failures=st.integers(0, 500),
    max_failure_ratio=st.floats(0, 1),
    expect_purchases=st.booleans(),
    invariant_holds=st.booleans(),
    limit=st.floats(0.5, 20),
)
def test_the_gate_is_never_green_on_failure(
    paid: int,
    paid_failures: int,
    unpaid: int,
    unpaid_failures: int,
    max_failure_ratio: float,
    expect_purchases: bool,
    invariant_holds: bool,
    limit: float,
) -> None:
    paid_failures, unpaid_failures = min(paid, paid_failures), min(unpaid, unpaid_failures)
    run = snapshot(paid, paid_failures, unpaid, unpaid_failures)
    found = verdict(
        run,
        rules=GateRules(max_failure_ratio, expect_purchases),
        thresholds=[Threshold(AGGREGATED, "p95", limit)],
        invariants=[Invariant("invariant", invariant_holds, "")],
    )
    total = paid + unpaid
    failures = paid_failures + unpaid_failures
    broken = (
        total == 0
        or (expect_purchases and paid - paid_failures == 0)
        or failures / max(total, 1) > max_failure_ratio
        or run.total.value("p95") >= limit
        or not invariant_holds
    )
    assert found.passed is not broken
    assert found.paid_jobs == paid - paid_failures
    assert (found.requests, found.failures) == (total, failures)
    assert all("\n" not in reason for reason in found.reasons)
