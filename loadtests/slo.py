"""Service-level objectives: thresholds on latency percentiles and failure ratios, checked
against Locust's stats CSV after a run.

A threshold reads `[REQUEST NAME:]METRIC<LIMIT`: `p95<500`, `POST generate (paid):p99<1500`,
`failure_ratio<0.01`. Without a name it applies to the aggregate of all requests. Metrics: p50,
p90, p95, p99 (milliseconds) and failure_ratio. A file holds the same as a JSON or TOML table:
`{"Aggregated": {"p95": 500, "failure_ratio": 0.01}, "POST generate (paid)": {"p99": 1500}}`.
"""

from __future__ import annotations

import csv
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

AGGREGATED = "Aggregated"
PERCENTILES = {"p50": "50%", "p90": "90%", "p95": "95%", "p99": "99%"}
METRICS = (*PERCENTILES, "failure_ratio")
THRESHOLD = re.compile(r"^(?:(?P<name>.+):)?(?P<metric>[a-z0-9_]+)\s*<\s*(?P<limit>[0-9.]+)$")


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
class Breach:
    threshold: Threshold
    value: float | None
    """None: the request name never appeared in the run."""

    def __str__(self) -> str:
        seen = "never requested" if self.value is None else f"was {self.value:g}"
        return f"{self.threshold} — {seen}"


def parse_threshold(text: str) -> Threshold:
    match = THRESHOLD.match(text.strip())
    if match is None:
        raise SloError(f"threshold {text!r}: expected [NAME:]METRIC<LIMIT, e.g. p95<500")
    return _threshold(match["name"] or AGGREGATED, match["metric"], float(match["limit"]))


def _threshold(name: str, metric: str, limit: float) -> Threshold:
    if metric not in METRICS:
        raise SloError(f"metric {metric!r}: expected one of {', '.join(METRICS)}")
    return Threshold(name.strip(), metric, limit)


def load_thresholds(path: Path) -> list[Threshold]:
    text = path.read_text()
    try:
        table = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise SloError(f"cannot read {path}: {exc}") from exc
    if not isinstance(table, dict):
        raise SloError(f"{path}: expected a table of request names")
    return [
        _threshold(name, metric, float(limit))
        for name, limits in table.items()
        for metric, limit in dict(limits).items()
    ]


@dataclass(frozen=True, slots=True)
class RequestStats:
    count: int
    failures: int
    percentiles: dict[str, float]

    def value(self, metric: str) -> float:
        if metric == "failure_ratio":
            return self.failures / self.count if self.count else 0.0
        return self.percentiles[PERCENTILES[metric]]


def read_stats(stats_csv: Path) -> dict[str, RequestStats]:
    """Locust's `{prefix}_stats.csv`: one row per request name, and the aggregate."""
    with stats_csv.open(newline="") as rows:
        return {
            row["Name"]: RequestStats(
                int(row["Request Count"]),
                int(row["Failure Count"]),
                {column: _number(row[column]) for column in PERCENTILES.values()},
            )
            for row in csv.DictReader(rows)
        }


def _number(text: str) -> float:
    return float(text) if text not in ("", "N/A") else 0.0


def breaches(thresholds: list[Threshold], stats: dict[str, RequestStats]) -> list[Breach]:
    found = []
    for threshold in thresholds:
        seen = stats.get(threshold.name)
        if seen is None:
            found.append(Breach(threshold, None))
        elif seen.value(threshold.metric) >= threshold.limit:
            found.append(Breach(threshold, seen.value(threshold.metric)))
    return found
