"""Stores: a restarted server on the same SQLite file knows every paid job and payment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mock_server.jobs import Job, Plan, Status
from mock_server.stores import MemoryStore, PaymentRecord, SqliteStore, StoreSpecError, open_store
from tests.mock_server.conftest import World


def test_sqlite_round_trip(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "jobs.db")
    job = Job(
        "job_1", 12.5, Plan(1.0, None, Status.FAILED, "c", "m"), {"model": "m"}, "0xab", "stuck"
    )
    record = PaymentRecord("0xab:0x01", "job_1", "h", 2, {"success": True})
    store.add_job(job)
    store.add_payment(record)
    store.close()
    again = SqliteStore(tmp_path / "jobs.db")
    assert again.get_job("job_1") == job
    assert again.get_payment("0xab:0x01") == record
    assert again.jobs() == [job]
    again.delete_job("job_1")
    assert again.get_job("job_1") is None
    again.close()


def test_a_restarted_server_keeps_jobs_and_replays(
    make_world: Callable[..., World], tmp_path: Path
) -> None:
    store = f"sqlite:{tmp_path / 'jobs.db'}"
    first = make_world(store=store)
    headers = first.payment_header()
    job = first.pay(headers=headers).json()
    restarted = make_world(store=store)
    restarted.chain = first.chain  # the same chain, seen from the new server
    assert restarted.http.get(f"/v1/images/generate/{job['id']}").json()["id"] == job["id"]
    replay = restarted.pay(headers=headers)
    assert replay.status_code == 200
    assert replay.json()["id"] == job["id"]


def test_store_specs() -> None:
    assert isinstance(open_store("memory"), MemoryStore)
    for bad in ("sqlite:", "redis://x", ""):
        with pytest.raises(StoreSpecError, match="sqlite:PATH"):
            open_store(bad)
