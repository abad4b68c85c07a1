"""What a Locust run has done so far, as the Locust process writes it (every second, and once more
when it quits) and the harness reads it: per-request stats, milestones, errors, progress.

Locust is not imported here: the harness process reads snapshots without being patched by gevent.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtests.names import AGGREGATED, PAID

PERCENTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}
"""Percentile metrics (milliseconds) by name, and the fraction Locust computes them at."""


@dataclass(frozen=True, slots=True)
class RequestStats:
    """One request name's (or milestone's) count, failures and latency percentiles in ms."""

    count: int
    failures: int
    percentiles: dict[str, float] = field(default_factory=dict)

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.count if self.count else 0.0

    def value(self, metric: str) -> float:
        """`failure_ratio` or a percentile (`p50`, `p90`, `p95`, `p99`)."""
        if metric == "failure_ratio":
            return self.failure_ratio
        return self.percentiles.get(metric, 0.0)


@dataclass(frozen=True, slots=True)
class ErrorCount:
    name: str
    error: str
    occurrences: int

    def __str__(self) -> str:
        return f"{self.name}: {self.error} (×{self.occurrences})"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """HTTP requests by name (with the `Aggregated` row of all of them), milestones by name."""

    elapsed: float
    users: int
    rps: float
    """Requests per second lately (Locust's current rate)."""
    requests: dict[str, RequestStats]
    milestones: dict[str, RequestStats]
    errors: list[ErrorCount]
    final: bool = False
    """Written when Locust quit: the whole run."""

    @property
    def total(self) -> RequestStats:
        return self.requests.get(AGGREGATED, RequestStats(0, 0))

    @property
    def paid_jobs(self) -> int:
        """Purchases answered with a job and a successful settlement."""
        paid = self.requests.get(PAID, RequestStats(0, 0))
        return paid.count - paid.failures

    def by_name(self) -> dict[str, RequestStats]:
        """Requests and milestones together: what a threshold's name is looked up in."""
        return {**self.requests, **self.milestones}

    def progress(self) -> str:
        """One line on how the run goes."""
        total = self.total
        return (
            f"{self.elapsed:5.0f} s  {self.users} users  {self.rps:7.1f} req/s  "
            f"{self.paid_jobs} paid jobs  {total.failures} failures of {total.count} requests"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "elapsed": self.elapsed,
            "users": self.users,
            "rps": self.rps,
            "final": self.final,
            "requests": {name: _stats_json(s) for name, s in self.requests.items()},
            "milestones": {name: _stats_json(s) for name, s in self.milestones.items()},
            "errors": [
                {"name": e.name, "error": e.error, "occurrences": e.occurrences}
                for e in self.errors
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Snapshot:
        return cls(
            elapsed=float(data["elapsed"]),
            users=int(data["users"]),
            rps=float(data["rps"]),
            final=bool(data["final"]),
            requests={n: _stats_of(s) for n, s in data["requests"].items()},
            milestones={n: _stats_of(s) for n, s in data["milestones"].items()},
            errors=[
                ErrorCount(e["name"], e["error"], int(e["occurrences"])) for e in data["errors"]
            ],
        )


def _stats_json(stats: RequestStats) -> dict[str, Any]:
    return {"count": stats.count, "failures": stats.failures, **stats.percentiles}


def _stats_of(data: dict[str, Any]) -> RequestStats:
    return RequestStats(
        int(data["count"]),
        int(data["failures"]),
        {metric: float(data[metric]) for metric in PERCENTILES if metric in data},
    )


def write_snapshot(path: Path, snapshot: Snapshot) -> None:
    """Replace the file at once, so that a reader never sees half of it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(snapshot.to_json()))
    os.replace(partial, path)


def read_snapshot(path: Path) -> Snapshot | None:
    """The last snapshot written, or None before the first one."""
    try:
        return Snapshot.from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        return None
