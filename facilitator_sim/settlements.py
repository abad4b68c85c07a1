"""The facilitator's own record of what it sent to the chain, per authorization.

A record is made before a transfer is sent and names its transaction from the moment it is
signed, so that after a timeout, a crash or a chain that forgot its state, the facilitator knows
what it did: it reports the transaction already made instead of sending another. In memory, or in
a SQLite file that survives restarts (`--state`).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from x402_core.eip3009 import Authorization


class SettlementState(StrEnum):
    SUBMITTING = "submitting"
    """Claimed by a settle that has not sent a transaction yet."""
    BROADCAST = "broadcast"
    """A transaction was sent (or may have been); its outcome is not known yet."""
    SETTLED = "settled"
    """The transaction was mined and transferred the value."""


@dataclass(frozen=True, slots=True)
class SettlementRecord:
    key: str
    """`token:payer:nonce`, lowercase: one authorization."""
    payload: str
    """Identifies the signed authorization: a settle of the same payload is a repeat."""
    state: SettlementState
    network: str
    payer: str
    tx_hash: str = ""
    updated_at: float = 0.0


def authorization_key(token: str, auth: Authorization) -> str:
    return f"{token.lower()}:{auth.from_address.lower()}:0x{auth.nonce.hex()}"


def payload_id(auth: Authorization, signature: bytes, requirements: str) -> str:
    """The signed authorization and the requirements it was offered for: what makes two
    settles 'the same payment'. The same authorization under other requirements is not."""
    parts = (auth.to.lower(), auth.value, auth.valid_after, auth.valid_before, signature.hex())
    signed = ":".join(str(p) for p in parts)
    return signed + ":" + hashlib.sha256(requirements.encode()).hexdigest()


class SettlementRecords(Protocol):
    def claim(self, record: SettlementRecord) -> SettlementRecord | None:
        """Make `record` unless one exists for its key: None when made, else the existing one."""
        ...

    def update(self, key: str, state: SettlementState, tx_hash: str) -> None: ...
    def release(self, key: str) -> None:
        """Forget a record whose transfer did not and will not happen."""
        ...

    def get(self, key: str) -> SettlementRecord | None: ...
    def all(self) -> list[SettlementRecord]: ...
    def close(self) -> None: ...


class MemoryRecords:
    """Records that live as long as the process."""

    def __init__(self) -> None:
        self._records: dict[str, SettlementRecord] = {}
        self._lock = threading.Lock()

    def claim(self, record: SettlementRecord) -> SettlementRecord | None:
        with self._lock:
            existing = self._records.get(record.key)
            if existing is None:
                self._records[record.key] = replace(record, updated_at=time.time())
            return existing

    def update(self, key: str, state: SettlementState, tx_hash: str) -> None:
        with self._lock:
            current = self._records[key]
            self._records[key] = replace(
                current, state=state, tx_hash=tx_hash, updated_at=time.time()
            )

    def release(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)

    def get(self, key: str) -> SettlementRecord | None:
        return self._records.get(key)

    def all(self) -> list[SettlementRecord]:
        with self._lock:
            return list(self._records.values())

    def close(self) -> None:
        """Nothing to release."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS settlements (
    key TEXT PRIMARY KEY, payload TEXT NOT NULL, state TEXT NOT NULL, network TEXT NOT NULL,
    payer TEXT NOT NULL, tx_hash TEXT NOT NULL, updated_at REAL NOT NULL);
"""


class SqliteRecords:
    """Records in a SQLite file; the primary key makes a claim unique across processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def claim(self, record: SettlementRecord) -> SettlementRecord | None:
        row = (
            record.key,
            record.payload,
            record.state.value,
            record.network,
            record.payer,
            record.tx_hash,
            time.time(),
        )
        with self._lock:
            try:
                self._db.execute("INSERT INTO settlements VALUES (?, ?, ?, ?, ?, ?, ?)", row)
            except sqlite3.IntegrityError:
                return self._get(record.key)
        return None

    def update(self, key: str, state: SettlementState, tx_hash: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE settlements SET state = ?, tx_hash = ?, updated_at = ? WHERE key = ?",
                (state.value, tx_hash, time.time(), key),
            )

    def release(self, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM settlements WHERE key = ?", (key,))

    def get(self, key: str) -> SettlementRecord | None:
        with self._lock:
            return self._get(key)

    def _get(self, key: str) -> SettlementRecord | None:
        row = self._db.execute("SELECT * FROM settlements WHERE key = ?", (key,)).fetchone()
        return None if row is None else _record_of(row)

    def all(self) -> list[SettlementRecord]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM settlements ORDER BY updated_at").fetchall()
        return [_record_of(row) for row in rows]

    def close(self) -> None:
        self._db.close()


def _record_of(row: tuple[str, str, str, str, str, str, float]) -> SettlementRecord:
    key, payload, state, network, payer, tx_hash, updated_at = row
    state_word = SettlementState(state)
    return SettlementRecord(key, payload, state_word, network, payer, tx_hash, updated_at)


def open_records(path: Path | None) -> SettlementRecords:
    return MemoryRecords() if path is None else SqliteRecords(path)
