"""The job state machine: status is a pure function of plan and time, and only moves along
the allowed edges."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.jobs import Job, Plan, status_at
from x402_core.jobstatus import ALLOWED_TRANSITIONS, TERMINAL, Status

durations = st.floats(min_value=0, max_value=100, allow_nan=False)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    """Any plan the Plan constructor accepts."""
    queue, fail_while_queued = draw(durations), draw(st.booleans())
    processing = draw(st.none() | durations)
    if processing is not None and not fail_while_queued and (queue > 0 or processing > 0):
        processing = max(processing, 0.001)
    outcome = draw(st.sampled_from([Status.COMPLETED, Status.FAILED]))
    return Plan(queue, processing, outcome, fail_while_queued=fail_while_queued)


poll_ages = st.lists(st.floats(min_value=0, max_value=300, allow_nan=False), max_size=40).map(
    sorted
)


def observed(plan: Plan, ages: list[float]) -> list[Status]:
    seen: list[Status] = []
    for age in ages:
        status = status_at(plan, age)
        if not seen or seen[-1] != status:
            seen.append(status)
    return seen


def reachable_from(status: Status) -> set[Status]:
    found, frontier = {status}, {status}
    while frontier:
        frontier = {b for a, b in ALLOWED_TRANSITIONS if a in frontier} - found
        found |= frontier
    return found


@given(plans())
def test_the_timeline_moves_only_along_allowed_edges(plan: Plan) -> None:
    """Sampled just before and at every moment the status can change."""
    moments = [0.0, plan.queue_seconds]
    if plan.processing_seconds is not None:
        moments.append(plan.queue_seconds + plan.processing_seconds)
    ages = sorted({max(0.0, m + d) for m in moments for d in (-1e-4, 0.0, 1e-4)} | {10**6})
    timeline = observed(plan, ages)
    if plan.queue_seconds > 0:
        assert timeline[0] is Status.PENDING
    for before, after in itertools.pairwise(timeline):
        assert (before, after) in ALLOWED_TRANSITIONS


@given(plans(), poll_ages)
def test_any_polling_sees_a_path_of_the_graph(plan: Plan, ages: list[float]) -> None:
    """A client that polls rarely may skip a state, never go back or sideways."""
    seen = observed(plan, ages)
    if seen:
        assert seen[0] in reachable_from(Status.PENDING)
    for before, after in itertools.pairwise(seen):
        assert after in reachable_from(before) - {before}


@given(plans(), st.floats(min_value=0, max_value=300), st.floats(min_value=0, max_value=300))
def test_terminal_states_never_change(plan: Plan, first: float, later: float) -> None:
    earlier, after = sorted((first, later))
    if status_at(plan, earlier) in TERMINAL:
        assert status_at(plan, after) == status_at(plan, earlier)


@given(plans(), st.integers(min_value=0, max_value=2**31), st.integers(min_value=0, max_value=300))
def test_a_job_is_its_plan_shifted_to_its_creation(plan: Plan, created: int, age: int) -> None:
    job = Job("job_x", created, plan, {}, "0x", "happy")
    assert job.status_at(created + age) == status_at(plan, age)
    assert job.updated_at(created + age) <= created + age


def test_stuck_plans_process_forever() -> None:
    plan = Plan(1.0, None)
    assert status_at(plan, 0.5) is Status.PENDING
    assert status_at(plan, 10**9) is Status.PROCESSING
    assert Job("j", 0, plan, {}, "0x", "stuck").seconds_to_next_change(5) is None


def test_plans_are_checked() -> None:
    with pytest.raises(ValueError, match="outcome"):
        Plan(1.0, 1.0, outcome=Status.PROCESSING)
    with pytest.raises(ValueError, match="negative"):
        Plan(-1.0, 1.0)
    with pytest.raises(ValueError, match="processing time"):
        Plan(1.0, 0.0)
