"""The load gate's verdict: a run passes only when it bought something, failed rarely enough, met
every threshold and kept every invariant. It is never green when what it guards failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loadtests.invariants import Invariant
from loadtests.slo import Judged, Threshold, judge
from loadtests.snapshot import Snapshot

DEFAULT_MAX_FAILURE_RATIO = 0.01
ERRORS_SHOWN = 3


@dataclass(frozen=True)
class Verdict:
    passed: bool
    paid_jobs: int
    requests: int
    failures: int
    reasons: list[str]
    """Why it failed, one line each (empty when it passed)."""
    thresholds: list[Judged] = field(default_factory=list)
    invariants: list[Invariant] = field(default_factory=list)
    interrupted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "paid_jobs": self.paid_jobs,
            "requests": self.requests,
            "failures": self.failures,
            "reasons": self.reasons,
            "interrupted": self.interrupted,
            "thresholds": [j.to_json() for j in self.thresholds],
            "invariants": [
                {"name": i.name, "holds": i.holds, "detail": i.detail} for i in self.invariants
            ],
        }


@dataclass(frozen=True)
class GateRules:
    """What a run must achieve besides its thresholds and invariants."""

    max_failure_ratio: float = DEFAULT_MAX_FAILURE_RATIO
    expect_purchases: bool = True
    """False when the user mix has no paying users: then nothing is bought by design."""


def verdict(
    snapshot: Snapshot | None,
    *,
    rules: GateRules,
    thresholds: list[Threshold],
    invariants: list[Invariant],
    problems: list[str] | None = None,
    interrupted: bool = False,
) -> Verdict:
    """`snapshot`: the run's final stats (None when Locust reported none); `problems`: failures
    found outside the stats (Locust's own exit, say), each already a reason."""
    reasons = list(problems or [])
    if interrupted:
        reasons.append("interrupted before the run time was over")
    if snapshot is None:
        reasons.append("Locust reported no stats")
        snapshot = Snapshot(elapsed=0.0, users=0, rps=0.0, requests={}, milestones={}, errors=[])
    total = snapshot.total
    errors = "; ".join(str(e) for e in snapshot.errors[:ERRORS_SHOWN]) or "none recorded"
    failed = []
    if total.count == 0:
        failed.append("no request was made")
    elif rules.expect_purchases and snapshot.paid_jobs == 0:
        failed.append(f"no completed purchase in {total.count} requests")
    if total.failure_ratio > rules.max_failure_ratio:
        failed.append(
            f"{total.failures} of {total.count} requests failed ({total.failure_ratio:.1%}), "
            f"above the limit of {rules.max_failure_ratio:.1%}"
        )
    if failed and total.count:
        failed[0] += f"; most frequent errors: {errors}"
    reasons += failed
    judged = judge(thresholds, snapshot.by_name())
    reasons += [f"SLO broken: {j}" for j in judged if not j.passed]
    reasons += [f"invariant broken: {i.name} ({i.detail})" for i in invariants if not i.holds]
    return Verdict(
        passed=not reasons,
        paid_jobs=snapshot.paid_jobs,
        requests=total.count,
        failures=total.failures,
        reasons=reasons,
        thresholds=judged,
        invariants=invariants,
        interrupted=interrupted,
    )
