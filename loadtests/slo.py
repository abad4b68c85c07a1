"""Service-level objectives: thresholds on latency percentiles and failure ratios, checked
against a run's stats.

A threshold reads `[NAME:]METRIC<LIMIT`: `p95<500`, `paid request:p99<1500`,
`failure_ratio<0.01`. Without a name it applies to `Aggregated`, all HTTP requests together; a
name is a request's or a milestone's (`time to completed job [instant]:p95<5000`). Metrics: p50,
p90, p95, p99 (milliseconds) and failure_ratio. A file holds the same as a JSON or TOML table:
`{"Aggregated": {"p95": 500, "failure_ratio": 0.01}, "paid request": {"p99": 1500}}`.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests.names import AGGREGATED
from loadtests.snapshot import PERCENTILES, RequestStats

METRICS = (*PERCENTILES, "failure_ratio")
THRESHOLD = re.compile(r"^(?:(?P<name>.+):)?(?P<metric>[a-z0-9_]+)\s*<\s*(?P<limit>\S+)$")


class SloError(ValueError):
    """A threshold that cannot be read."""


@dataclass(frozen=True, slots=True)
class Threshold:
    name: str
    metric: str
    limit: float

    def __str__(self) -> str:
        return f"{self.name}: {self.metric} < {self.limit:g}"


@dataclass(frozen=True, slots=True)
class Judged:
    """A threshold and what the run measured for it (None: the name never appeared)."""

    threshold: Threshold
    value: float | None

    @property
    def passed(self) -> bool:
        return self.value is not None and self.value < self.threshold.limit

    def __str__(self) -> str:
        seen = "never requested" if self.value is None else f"was {self.value:g}"
        return f"{self.threshold} — {seen}"

    def to_json(self) -> dict[str, Any]:
        return {
            "threshold": str(self.threshold),
            "name": self.threshold.name,
            "metric": self.threshold.metric,
            "limit": self.threshold.limit,
            "value": self.value,
            "passed": self.passed,
        }


def parse_threshold(text: str) -> Threshold:
    match = THRESHOLD.match(text.strip())
    if match is None:
        raise SloError(f"threshold {text!r}: expected [NAME:]METRIC<LIMIT, e.g. p95<500")
    return _threshold(match["name"] or AGGREGATED, match["metric"], match["limit"], text)


def _threshold(name: str, metric: str, limit: object, where: str) -> Threshold:
    if metric not in METRICS:
        raise SloError(f"{where}: metric {metric!r}; expected one of {', '.join(METRICS)}")
    try:
        value = float(limit) if isinstance(limit, str | int | float) else math.nan
    except ValueError:
        value = math.nan
    if isinstance(limit, bool) or not math.isfinite(value) or value <= 0:
        raise SloError(f"{where}: limit {limit!r} of {metric}; expected a number above 0")
    return Threshold(name.strip(), metric, value)


def load_thresholds(path: Path) -> list[Threshold]:
    """A JSON or TOML (by suffix) table of request names, each a table of metric limits."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise SloError(f"cannot read SLO file {path}: {exc.strerror or exc}") from exc
    try:
        table = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise SloError(f"cannot read SLO file {path}: {exc}") from exc
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        raise SloError(
            f"SLO file {path}: expected a table of request names, each a table of metric "
            'limits, e.g. {"Aggregated": {"p95": 500}}'
        )
    return [
        _threshold(name, metric, limit, f"SLO file {path}, {name!r}")
        for name, limits in table.items()
        for metric, limit in limits.items()
    ]


def judge(thresholds: list[Threshold], stats: dict[str, RequestStats]) -> list[Judged]:
    """Each threshold with the value the run measured for it."""
    found = []
    for threshold in thresholds:
        seen = stats.get(threshold.name)
        found.append(Judged(threshold, None if seen is None else seen.value(threshold.metric)))
    return found
