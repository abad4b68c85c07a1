"""Jobs and their state machine. A job's status is a pure function of its plan and the time:
no background worker, the same answer in every process that shares the store."""

from __future__ import annotations

from dataclasses import dataclass

from x402_core.jobstatus import TERMINAL, Status


@dataclass(frozen=True, slots=True)
class Plan:
    """What will happen to a job: queued for `queue_seconds`, then processing for
    `processing_seconds` (None: forever, a stuck job), then `outcome`."""

    queue_seconds: float
    processing_seconds: float | None
    outcome: Status = Status.COMPLETED
    error_code: str = ""
    error_message: str = ""
    fail_while_queued: bool = False
    """Fail straight from pending (pending → failed) instead of after processing."""

    def __post_init__(self) -> None:
        if self.outcome not in TERMINAL:
            raise ValueError(f"a plan's outcome is completed or failed, not {self.outcome}")
        if self.queue_seconds < 0 or (self.processing_seconds or 0) < 0:
            raise ValueError("plan durations cannot be negative")
        if self.queue_seconds > 0 and self.processing_seconds == 0 and not self.fail_while_queued:
            # pending -> completed would skip processing, an edge no client may ever observe
            raise ValueError("a queued job needs processing time before its outcome")


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    created_at: float
    plan: Plan
    request: dict[str, str]
    payer: str
    scenario: str

    def status_at(self, now: float) -> Status:
        return status_at(self.plan, now - self.created_at)

    def updated_at(self, now: float) -> float:
        """When the status last changed, as seen at `now`."""
        age = now - self.created_at
        started = self.plan.queue_seconds
        if age < started:
            return self.created_at
        if self.plan.fail_while_queued or self.plan.processing_seconds is None:
            return self.created_at + started
        finished = started + self.plan.processing_seconds
        return self.created_at + (finished if age >= finished else started)

    def seconds_to_next_change(self, now: float) -> float | None:
        """How long until the status may change (None when it never will)."""
        age = now - self.created_at
        if age < self.plan.queue_seconds:
            return self.plan.queue_seconds - age
        if self.plan.fail_while_queued or self.plan.processing_seconds is None:
            return None
        left = self.plan.queue_seconds + self.plan.processing_seconds - age
        return left if left > 0 else None


def status_at(plan: Plan, age: float) -> Status:
    """The status of a job `age` seconds after its creation."""
    if age < plan.queue_seconds:
        return Status.PENDING
    if plan.fail_while_queued:
        return Status.FAILED
    if plan.processing_seconds is None or age < plan.queue_seconds + plan.processing_seconds:
        return Status.PROCESSING
    return plan.outcome
