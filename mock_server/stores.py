"""Where jobs and settled payments live: in memory, or in SQLite so a restart forgets nothing."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from mock_server.jobs import Job, Plan, Status


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """A settled payment: which job it bought, for which body, and the settlement answer."""

    key: str
    job_id: str
    body_sha256: str
    version: int
    settlement: dict


class Store(Protocol):
    def add_job(self, job: Job) -> None: ...
    def get_job(self, job_id: str) -> Job | None: ...
    def delete_job(self, job_id: str) -> None: ...
    def jobs(self) -> list[Job]: ...
    def add_payment(self, record: PaymentRecord) -> None: ...
    def get_payment(self, key: str) -> PaymentRecord | None: ...
    def payments(self) -> list[PaymentRecord]: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...


class MemoryStore:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._payments: dict[str, PaymentRecord] = {}

    def add_job(self, job: Job) -> None:
        self._jobs[job.id] = job

    def get_job(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def delete_job(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)

    def jobs(self) -> list[Job]:
        return list(self._jobs.values())

    def add_payment(self, record: PaymentRecord) -> None:
        self._payments[record.key] = record

    def get_payment(self, key: str) -> PaymentRecord | None:
        return self._payments.get(key)

    def payments(self) -> list[PaymentRecord]:
        return list(self._payments.values())

    def clear(self) -> None:
        self._jobs.clear()
        self._payments.clear()

    def close(self) -> None:
        """Nothing to release."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, created_at REAL NOT NULL, plan TEXT NOT NULL, request TEXT NOT NULL,
    payer TEXT NOT NULL, scenario TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payments (
    key TEXT PRIMARY KEY, job_id TEXT NOT NULL, body_sha256 TEXT NOT NULL,
    version INTEGER NOT NULL, settlement TEXT NOT NULL);
"""


class SqliteStore:
    """One SQLite file shared by the server's threads (serialized by a lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def add_job(self, job: Job) -> None:
        plan = asdict(job.plan)
        with self._lock:
            self._db.execute(
                "INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?)",
                (
                    job.id,
                    job.created_at,
                    json.dumps(plan),
                    json.dumps(job.request),
                    job.payer,
                    job.scenario,
                ),
            )

    def get_job(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _job_of(row)

    def delete_job(self, job_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def jobs(self) -> list[Job]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM jobs ORDER BY created_at").fetchall()
        return [_job_of(row) for row in rows]

    def add_payment(self, record: PaymentRecord) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO payments VALUES (?, ?, ?, ?, ?)",
                (
                    record.key,
                    record.job_id,
                    record.body_sha256,
                    record.version,
                    json.dumps(record.settlement),
                ),
            )

    def get_payment(self, key: str) -> PaymentRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM payments WHERE key = ?", (key,)).fetchone()
        return None if row is None else _payment_of(row)

    def payments(self) -> list[PaymentRecord]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM payments").fetchall()
        return [_payment_of(row) for row in rows]

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM jobs")
            self._db.execute("DELETE FROM payments")

    def close(self) -> None:
        self._db.close()


def _job_of(row: tuple) -> Job:
    job_id, created_at, plan, request, payer, scenario = row
    plan_fields = json.loads(plan)
    plan_fields["outcome"] = Status(plan_fields["outcome"])
    return Job(job_id, created_at, Plan(**plan_fields), json.loads(request), payer, scenario)


def _payment_of(row: tuple) -> PaymentRecord:
    key, job_id, body_sha256, version, settlement = row
    return PaymentRecord(key, job_id, body_sha256, version, json.loads(settlement))


class StoreSpecError(ValueError):
    """A --store value that is neither `memory` nor `sqlite:PATH`."""


def open_store(spec: str) -> Store:
    """`memory`, or `sqlite:PATH`."""
    if spec == "memory":
        return MemoryStore()
    if spec.startswith("sqlite:") and len(spec) > len("sqlite:"):
        return SqliteStore(Path(spec.removeprefix("sqlite:")))
    raise StoreSpecError(f"store is {spec!r}; expected 'memory' or 'sqlite:PATH'")
