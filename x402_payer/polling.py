"""Pure decisions of job polling: what a status answer means and how long to wait next."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any

import httpx

from x402_payer.errors import ProtocolError, UnexpectedStatusError
from x402_payer.policy import PayerPolicy

ACTIVE_STATUSES = frozenset({"pending", "processing"})
COMPLETED = "completed"
FAILED = "failed"
RETRYABLE_HTTP_STATUSES = frozenset({429, 502, 503, 504})
"""Answers that mean 'ask again later' rather than 'this job or URL is wrong'."""
_MAX_BACKOFF_DOUBLINGS = 32


class AnswerKind(Enum):
    ACTIVE = "active"
    COMPLETED = "completed"
    FAILED = "failed"
    RETRY = "retry"


@dataclass(frozen=True, slots=True)
class StatusAnswer:
    """One status answer, judged: the job (when there is one), and the server's Retry-After."""

    kind: AnswerKind
    job: dict[str, Any] | None = None
    retry_after: float | None = None
    problem: str | None = None
    """For RETRY: what went wrong (`HTTP 503`, a transport error)."""

    @property
    def status(self) -> str | None:
        return None if self.job is None else self.job["status"]


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or HTTP-date); None if unusable."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def judge_status(response: httpx.Response) -> StatusAnswer:
    """What a `GET` of a status URL answered; raises on answers that retrying cannot fix."""
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    url = str(response.request.url)
    if response.status_code in RETRYABLE_HTTP_STATUSES:
        return StatusAnswer(
            AnswerKind.RETRY, retry_after=retry_after, problem=f"HTTP {response.status_code}"
        )
    if not response.is_success:
        raise UnexpectedStatusError(
            f"GET {url} answered HTTP {response.status_code} ({_excerpt(response)}); "
            "expected 200 with the job's status",
            response=response,
        )
    job = _job_of(response)
    status = job["status"]
    if status == COMPLETED:
        return StatusAnswer(AnswerKind.COMPLETED, job, retry_after)
    if status == FAILED:
        return StatusAnswer(AnswerKind.FAILED, job, retry_after)
    if status in ACTIVE_STATUSES:
        return StatusAnswer(AnswerKind.ACTIVE, job, retry_after)
    raise ProtocolError(
        f"GET {url} gave job status {status!r}; expected pending, processing, completed or failed",
        response=response,
    )


def _job_of(response: httpx.Response) -> dict[str, Any]:
    try:
        job = response.json()
    except ValueError:
        job = None
    if not isinstance(job, dict) or not isinstance(job.get("status"), str):
        raise ProtocolError(
            f"GET {response.request.url} answered {_excerpt(response)}; expected a JSON object "
            "with a string `status`",
            response=response,
        )
    return job


def _excerpt(response: httpx.Response, limit: int = 200) -> str:
    text = response.text
    return repr(text[:limit] + ("…" if len(text) > limit else "")) if text else "an empty body"


def next_poll_delay(policy: PayerPolicy, retry_after: float | None, retries: int) -> float:
    """Seconds to wait before the next poll.

    After a normal answer: the server's Retry-After, else `default_poll_interval`. After the n-th
    retryable answer in a row: exponential backoff from `default_poll_interval`, or the server's
    Retry-After when that is longer. Always clamped to [min_poll_interval, max_poll_interval].
    """
    if retries <= 0:
        wanted = policy.default_poll_interval if retry_after is None else retry_after
    else:
        backoff = policy.default_poll_interval * 2.0 ** min(retries - 1, _MAX_BACKOFF_DOUBLINGS)
        wanted = backoff if retry_after is None else max(backoff, retry_after)
    return policy.clamp_interval(wanted)
