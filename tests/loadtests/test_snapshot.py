"""Snapshots: what Locust writes is what the harness reads, and a reader never sees half a file."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from loadtests.snapshot import (
    PERCENTILES,
    ErrorCount,
    RequestStats,
    Snapshot,
    read_snapshot,
    write_snapshot,
)

stats = st.builds(
    RequestStats,
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.dictionaries(st.sampled_from(list(PERCENTILES)), st.floats(0, 1e6)),
)
snapshots = st.builds(
    Snapshot,
    elapsed=st.floats(0, 1e5),
    users=st.integers(0, 10**4),
    rps=st.floats(0, 1e6),
    requests=st.dictionaries(st.text(max_size=20), stats, max_size=5),
    milestones=st.dictionaries(st.text(max_size=20), stats, max_size=3),
    errors=st.lists(st.builds(ErrorCount, st.text(), st.text(), st.integers(1, 10**6))),
    final=st.booleans(),
)


@given(snapshots)
def test_a_snapshot_reads_back_as_written(snapshot: Snapshot) -> None:
    assert Snapshot.from_json(snapshot.to_json()) == snapshot


def test_written_at_once_and_absent_before(tmp_path: Path) -> None:
    path = tmp_path / "run_snapshot.json"
    assert read_snapshot(path) is None
    first = Snapshot(1.0, 2, 3.0, {"Aggregated": RequestStats(4, 1, {"p95": 9})}, {}, [])
    write_snapshot(path, first)
    assert read_snapshot(path) == first
    assert [p.name for p in tmp_path.iterdir()] == ["run_snapshot.json"]
    assert "1 failures of 4 requests" in first.progress()
