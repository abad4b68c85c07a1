"""SLO thresholds: read from flags and files (every mistake one clear SloError), judged against a
run's stats; the sample SLO files in examples/ load."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loadtests.slo import METRICS, SloError, Threshold, judge, load_thresholds, parse_threshold
from loadtests.snapshot import RequestStats

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_thresholds_read_from_flags() -> None:
    assert parse_threshold("p95<500") == Threshold("Aggregated", "p95", 500)
    assert parse_threshold("paid request:p99 < 1500") == Threshold("paid request", "p99", 1500)
    assert parse_threshold("time to completed job [instant]:p95<5000") == Threshold(
        "time to completed job [instant]", "p95", 5000
    )


@pytest.mark.parametrize("bad", ["p95>500", "p42<1", "fast", "p95<1.2.3", "p95<-1", "p95<0"])
def test_unreadable_thresholds_are_one_error(bad: str) -> None:
    with pytest.raises(SloError, match="expected"):
        parse_threshold(bad)


@given(
    name=st.text(st.characters(exclude_characters=":\n\r"), max_size=30).map(str.strip),
    metric=st.sampled_from(METRICS),
    limit=st.floats(min_value=0.001, max_value=1e6),
)
def test_a_written_threshold_reads_back(name: str, metric: str, limit: float) -> None:
    text = f"{name}:{metric}<{limit!r}" if name else f"{metric}<{limit!r}"
    assert parse_threshold(text) == Threshold(name or "Aggregated", metric, limit)


def test_thresholds_read_from_json_and_toml(tmp_path: Path) -> None:
    (tmp_path / "slo.json").write_text('{"Aggregated": {"p95": 500, "failure_ratio": 0.01}}')
    (tmp_path / "slo.toml").write_text('["paid request"]\np99 = 1500\n')
    assert load_thresholds(tmp_path / "slo.json") == [
        Threshold("Aggregated", "p95", 500),
        Threshold("Aggregated", "failure_ratio", 0.01),
    ]
    assert load_thresholds(tmp_path / "slo.toml") == [Threshold("paid request", "p99", 1500)]


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("missing.toml", None, "cannot read SLO file"),
        ("broken.toml", "[Aggregated\np95 = 1", "cannot read SLO file"),
        ("broken.json", "{", "cannot read SLO file"),
        ("list.json", "[1, 2]", "expected a table of request names"),
        ("flat.toml", "p95 = 500\n", "expected a table of request names"),
        ("metric.toml", "[Aggregated]\np42 = 5\n", "metric 'p42'"),
        ("limit.toml", '[Aggregated]\np95 = "fast"\n', "limit 'fast'"),
        ("bool.json", '{"Aggregated": {"p95": true}}', "limit True"),
        ("zero.json", '{"Aggregated": {"failure_ratio": 0}}', "above 0"),
    ],
)
def test_a_bad_slo_file_is_one_error_naming_it(
    tmp_path: Path, name: str, text: str | None, says: str
) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(SloError, match=r"expected|cannot read") as raised:
        load_thresholds(path)
    assert says in str(raised.value)
    assert str(path) in str(raised.value)
    assert "\n" not in str(raised.value)


def test_every_slo_file_in_examples_loads() -> None:
    files = sorted(EXAMPLES.rglob("slo*.toml")) + sorted(EXAMPLES.rglob("slo*.json"))
    assert files, "examples/ ships a sample SLO file"
    for path in files:
        assert load_thresholds(path), path


def test_judged_thresholds_name_the_threshold_and_the_value() -> None:
    stats = {
        "paid request": RequestStats(100, 2, {"p50": 4, "p95": 40, "p99": 80}),
        "Aggregated": RequestStats(400, 2, {"p50": 3, "p95": 30, "p99": 700}),
    }
    thresholds = [
        parse_threshold("p95<100"),
        parse_threshold("paid request:p99<50"),
        parse_threshold("paid request:failure_ratio<0.01"),
        parse_threshold("GET nothing:p95<1"),
    ]
    judged = judge(thresholds, stats)
    assert [j.passed for j in judged] == [True, False, False, False]
    assert [str(j) for j in judged[1:]] == [
        "paid request: p99 < 50 — was 80",
        "paid request: failure_ratio < 0.01 — was 0.02",
        "GET nothing: p95 < 1 — never requested",
    ]
