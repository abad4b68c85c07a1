"""The job statuses of xGen's asynchronous endpoint and the transitions between them."""

from __future__ import annotations

import itertools
from enum import StrEnum


class Status(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


TERMINAL = frozenset({Status.COMPLETED, Status.FAILED})
ALLOWED_TRANSITIONS = frozenset(
    {
        (Status.PENDING, Status.PROCESSING),
        (Status.PENDING, Status.FAILED),
        (Status.PROCESSING, Status.COMPLETED),
        (Status.PROCESSING, Status.FAILED),
    }
)


def is_path(statuses: list[str]) -> bool:
    """Whether observed statuses (repeats allowed) follow the allowed transitions."""
    for before, after in itertools.pairwise(statuses):
        if before != after and (before, after) not in ALLOWED_TRANSITIONS:
            return False
    return all(s in Status.__members__.values() for s in statuses)
