"""SLO thresholds: read from flags and files, judged against Locust's stats CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.runner import LoadPlanError, seconds_of
from loadtests.slo import (
    SloError,
    Threshold,
    breaches,
    load_thresholds,
    parse_threshold,
    read_stats,
)

STATS = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
POST,POST generate (paid),100,2,4,6,1,90,300,10,0.2,4,5,6,7,9,40,60,80,90,90,90
,Aggregated,400,2,3,5,1,900,300,40,0.2,3,4,5,6,8,30,500,700,900,900,900
"""  # noqa: E501


@pytest.fixture
def stats(tmp_path: Path) -> Path:
    path = tmp_path / "run_stats.csv"
    path.write_text(STATS)
    return path


def test_thresholds_read_from_flags() -> None:
    assert parse_threshold("p95<500") == Threshold("Aggregated", "p95", 500)
    assert parse_threshold("POST generate (paid):p99 < 1500") == Threshold(
        "POST generate (paid)", "p99", 1500
    )
    for bad in ("p95>500", "p42<1", "fast"):
        with pytest.raises(SloError):
            parse_threshold(bad)


def test_thresholds_read_from_json_and_toml(tmp_path: Path) -> None:
    (tmp_path / "slo.json").write_text('{"Aggregated": {"p95": 500, "failure_ratio": 0.01}}')
    (tmp_path / "slo.toml").write_text('["POST generate (paid)"]\np99 = 1500\n')
    assert load_thresholds(tmp_path / "slo.json") == [
        Threshold("Aggregated", "p95", 500),
        Threshold("Aggregated", "failure_ratio", 0.01),
    ]
    assert load_thresholds(tmp_path / "slo.toml") == [
        Threshold("POST generate (paid)", "p99", 1500)
    ]


def test_breaches_name_the_threshold_and_the_value(stats: Path) -> None:
    seen = read_stats(stats)
    thresholds = [
        parse_threshold("p95<100"),
        parse_threshold("POST generate (paid):p99<50"),
        parse_threshold("POST generate (paid):failure_ratio<0.01"),
        parse_threshold("GET nothing:p95<1"),
    ]
    found = breaches(thresholds, seen)
    assert [str(b) for b in found] == [
        "POST generate (paid): p99 < 50 — was 80",
        "POST generate (paid): failure_ratio < 0.01 — was 0.02",
        "GET nothing: p95 < 1 — never requested",
    ]


def test_run_times_in_locust_spelling() -> None:
    assert [seconds_of(t) for t in ("30", "30s", "2m", "1h30m")] == [30, 30, 120, 5400]
    with pytest.raises(LoadPlanError):
        seconds_of("soon")
