"""The job state machine: status is a pure function of plan and time, and only moves along
the allowed edges."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.jobs import ALLOWED_TRANSITIONS, TERMINAL, Job, Plan, Status, status_at

durations = st.floats(min_value=0, max_value=100, allow_nan=False)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    """Any plan the Plan constructor accepts."""
    queue, fail_while_queued = draw(durations), draw(st.booleans())
    processing = draw(st.none() | durations)
    if queue > 0 and processing == 0 and not fail_while_queued:
        processing = draw(st.floats(min_value=0.001, max_value=100))
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


@given(plans(), poll_ages)
def test_observed_statuses_follow_allowed_edges(plan: Plan, ages: list[float]) -> None:
    seen = observed(plan, ages)
    # What a late first poll sees is reachable from pending along allowed edges.
    reachable = {Status.PENDING}
    for _ in range(3):
        reachable |= {b for a, b in ALLOWED_TRANSITIONS if a in reachable}
    if seen:
        assert seen[0] in reachable
    for before, after in itertools.pairwise(seen):
        assert (before, after) in ALLOWED_TRANSITIONS


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
