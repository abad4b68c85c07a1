"""Purchases and jobs in one SQLite file, shared by every server process that opens it.

The purchase key is the primary key: a claim is an INSERT, so of two processes claiming one
payment at once exactly one succeeds. Each change is one short transaction, written before the
server answers, so a process killed at any point leaves a purchase in its last answered state.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mock_server.jobs import Job, Plan, Status
from mock_server.purchases import OPEN_STATES, Purchase, PurchaseState

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, created_at REAL NOT NULL, plan TEXT NOT NULL, request TEXT NOT NULL,
    payer TEXT NOT NULL, scenario TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS purchases (
    key TEXT PRIMARY KEY, request_sha256 TEXT NOT NULL, job_id TEXT NOT NULL,
    state TEXT NOT NULL, version INTEGER NOT NULL, settle_body TEXT NOT NULL,
    request TEXT NOT NULL, payer TEXT NOT NULL, scenario TEXT NOT NULL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, settlement TEXT, reason TEXT NOT NULL,
    payment_id TEXT);
CREATE INDEX IF NOT EXISTS purchases_by_state ON purchases (state, updated_at);
CREATE TABLE IF NOT EXISTS counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS purchase_added AFTER INSERT ON purchases BEGIN
    INSERT INTO counts VALUES (NEW.state, 1) ON CONFLICT (name) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER IF NOT EXISTS purchase_removed AFTER DELETE ON purchases BEGIN
    UPDATE counts SET n = n - 1 WHERE name = OLD.state; END;
CREATE TRIGGER IF NOT EXISTS purchase_moved AFTER UPDATE OF state ON purchases
    WHEN OLD.state != NEW.state BEGIN
    UPDATE counts SET n = n - 1 WHERE name = OLD.state;
    INSERT INTO counts VALUES (NEW.state, 1) ON CONFLICT (name) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER IF NOT EXISTS job_added AFTER INSERT ON jobs BEGIN
    INSERT INTO counts VALUES ('jobs', 1) ON CONFLICT (name) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER IF NOT EXISTS job_removed AFTER DELETE ON jobs BEGIN
    UPDATE counts SET n = n - 1 WHERE name = 'jobs'; END;
"""
_ID_INDEX = (
    "DROP INDEX IF EXISTS purchases_by_payment_id; "
    "CREATE UNIQUE INDEX IF NOT EXISTS purchases_with_payment_id ON purchases (payment_id) "
    "WHERE payment_id IS NOT NULL"
)
"""Made after the column: files written before payment ids get the column added first. Only
purchases that carry an id are indexed (an older file's index of every row is replaced)."""
_CLAIM = (
    "INSERT INTO purchases VALUES (" + ", ".join("?" * 14) + ") ON CONFLICT (key) DO UPDATE SET "
    "request_sha256 = excluded.request_sha256, job_id = excluded.job_id, state = excluded.state, "
    "version = excluded.version, settle_body = excluded.settle_body, "
    "request = excluded.request, payer = excluded.payer, scenario = excluded.scenario, "
    "created_at = excluded.created_at, updated_at = excluded.updated_at, "
    "settlement = excluded.settlement, reason = excluded.reason, "
    "payment_id = excluded.payment_id WHERE state = 'refused'"
)
"""A new purchase, or a refused one taken over (an update, so the count triggers see it)."""
_OPEN = "(" + ", ".join(f"'{state.value}'" for state in sorted(OPEN_STATES)) + ")"
"""The open states as an SQL list (constants of this module, never input)."""


class SqliteStore:
    """One connection per store, serialized by a lock; processes coordinate through SQLite."""

    def __init__(self, path: Path, busy_timeout: float = 10.0) -> None:
        self.path = path
        self._db = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, timeout=busy_timeout
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        # A killed process loses nothing once a write returned: the OS holds it (process kills
        # are the faults this file is for). Without fsyncs an OS crash may lose the file's last
        # writes; with them, every purchase would wait on the disk twice.
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(purchases)")}
        if "payment_id" not in columns:
            self._db.execute("ALTER TABLE purchases ADD COLUMN payment_id TEXT")
        self._db.executescript(_ID_INDEX)
        self._lock = threading.Lock()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding SQLite's write lock from its start."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def claim(self, purchase: Purchase) -> Purchase | None:
        row = _purchase_row(purchase, PurchaseState.CLAIMED)
        with self._write() as db:
            if purchase.payment_id is None:  # the upsert alone decides: one statement
                return self._upsert_claim(db, purchase.key, row)
            existing = _purchase_of(
                db.execute("SELECT * FROM purchases WHERE key = ?", (purchase.key,)).fetchone()
            )
            if existing is not None and existing.state is not PurchaseState.REFUSED:
                return existing
            holder = _purchase_of(
                db.execute(
                    "SELECT * FROM purchases WHERE payment_id = ?", (purchase.payment_id,)
                ).fetchone()
            )
            if holder is not None and holder.key != purchase.key:
                if holder.state is not PurchaseState.REFUSED:
                    return holder
                db.execute("DELETE FROM purchases WHERE key = ?", (holder.key,))
            return self._upsert_claim(db, purchase.key, row)

    @staticmethod
    def _upsert_claim(db: sqlite3.Connection, key: str, row: tuple) -> Purchase | None:
        """Insert the claim, or take over a refused purchase with its key: None; else the
        purchase already there."""
        if db.execute(_CLAIM, row).rowcount == 1:
            return None
        return _purchase_of(db.execute("SELECT * FROM purchases WHERE key = ?", (key,)).fetchone())

    def purchase_with_id(self, payment_id: str) -> Purchase | None:
        return _purchase_of(
            self._read("SELECT * FROM purchases WHERE payment_id = ?", (payment_id,), one=True)
        )

    def touch(self, key: str) -> None:
        with self._write() as db:
            db.execute(
                f"UPDATE purchases SET updated_at = ? WHERE key = ? AND state IN {_OPEN}",
                (time.time(), key),
            )

    def mark_pending(self, key: str, settlement: dict | None, reason: str) -> None:
        self._change(key, PurchaseState.PENDING, settlement, reason)

    def mark_refused(self, key: str, settlement: dict | None, reason: str) -> bool:
        return self._change(key, PurchaseState.REFUSED, settlement, reason)

    def _change(self, key: str, state: PurchaseState, settlement: dict | None, reason: str) -> bool:
        with self._write() as db:
            changed = db.execute(
                "UPDATE purchases SET state = ?, settlement = COALESCE(?, settlement), "
                f"reason = ?, updated_at = ? WHERE key = ? AND state IN {_OPEN}",
                (state.value, _json(settlement), reason, time.time(), key),
            ).rowcount
        return changed == 1

    def settle(self, key: str, settlement: dict, job: Job) -> bool:
        with self._write() as db:
            changed = db.execute(
                "UPDATE purchases SET state = ?, settlement = ?, reason = '', updated_at = ? "
                "WHERE key = ? AND state != ?",
                (
                    PurchaseState.SETTLED.value,
                    json.dumps(settlement),
                    time.time(),
                    key,
                    PurchaseState.SETTLED.value,
                ),
            ).rowcount
            if changed != 1:
                return False
            db.execute("INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?)", _job_row(job))
        return True

    def get_purchase(self, key: str) -> Purchase | None:
        return _purchase_of(self._read("SELECT * FROM purchases WHERE key = ?", (key,), one=True))

    def purchases(self, states: frozenset[PurchaseState] | None = None) -> list[Purchase]:
        if states is None:
            rows = self._read("SELECT * FROM purchases ORDER BY created_at")
        else:
            marks = ", ".join("?" * len(states))
            rows = self._read(
                f"SELECT * FROM purchases WHERE state IN ({marks}) ORDER BY created_at",
                tuple(s.value for s in states),
            )
        return [p for p in map(_purchase_of, rows) if p is not None]

    def stale(self, before: float) -> list[Purchase]:
        rows = self._read(
            f"SELECT * FROM purchases WHERE state IN {_OPEN} AND updated_at < ?", (before,)
        )
        return [p for p in map(_purchase_of, rows) if p is not None]

    def get_job(self, job_id: str) -> Job | None:
        row = self._read("SELECT * FROM jobs WHERE id = ?", (job_id,), one=True)
        return None if row is None else _job_of(row)

    def jobs(self) -> list[Job]:
        return [_job_of(row) for row in self._read("SELECT * FROM jobs ORDER BY created_at")]

    def counts(self) -> dict[str, int]:
        """Kept by triggers as rows change: reading them costs the same at any size."""
        counted = dict(self._read("SELECT name, n FROM counts"))
        return {"jobs": counted.get("jobs", 0)} | {
            s.value: counted.get(s.value, 0) for s in PurchaseState
        }

    def clear(self, purchases: bool = False) -> None:
        with self._write() as db:
            if purchases:
                db.execute("DELETE FROM purchases")
                db.execute("DELETE FROM jobs")
            else:
                db.execute("DELETE FROM purchases WHERE state = ?", (PurchaseState.REFUSED.value,))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _read(self, sql: str, params: tuple = (), one: bool = False) -> Any:
        with self._lock:
            cursor = self._db.execute(sql, params)
            return cursor.fetchone() if one else cursor.fetchall()


def _json(value: dict | None) -> str | None:
    return None if value is None else json.dumps(value)


def _purchase_row(purchase: Purchase, state: PurchaseState) -> tuple:
    return (
        purchase.key,
        purchase.request_sha256,
        purchase.job_id,
        state.value,
        purchase.version,
        json.dumps(purchase.settle_body),
        json.dumps(purchase.request),
        purchase.payer,
        purchase.scenario,
        purchase.created_at,
        time.time(),
        _json(purchase.settlement),
        purchase.reason,
        purchase.payment_id,
    )


def _purchase_of(row: tuple | None) -> Purchase | None:
    if row is None:
        return None
    (key, request_sha256, job_id, state, version, settle_body, request, payer, scenario,
     created_at, updated_at, settlement, reason, payment_id) = row  # fmt: skip
    return Purchase(
        key=key,
        request_sha256=request_sha256,
        job_id=job_id,
        state=PurchaseState(state),
        version=version,
        settle_body=json.loads(settle_body),
        request=json.loads(request),
        payer=payer,
        scenario=scenario,
        created_at=created_at,
        updated_at=updated_at,
        settlement=None if settlement is None else json.loads(settlement),
        reason=reason,
        payment_id=payment_id,
    )


def _job_row(job: Job) -> tuple:
    return (
        job.id,
        job.created_at,
        json.dumps(asdict(job.plan)),
        json.dumps(job.request),
        job.payer,
        job.scenario,
    )


def _job_of(row: tuple) -> Job:
    job_id, created_at, plan, request, payer, scenario = row
    plan_fields = json.loads(plan)
    plan_fields["outcome"] = Status(plan_fields["outcome"])
    return Job(job_id, created_at, Plan(**plan_fields), json.loads(request), payer, scenario)
