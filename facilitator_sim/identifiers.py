"""Which payment each payment-identifier belongs to, as this facilitator first settled it.

A settle binds its payload's id (extensions__payment_identifier.md) to its authorization before
anything is sent; from then on that id with any other payment is refused, at `/verify` and at
`/settle`. In memory, or beside the settlement records in the `--state` SQLite file.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Binding:
    payment_id: str
    key: str
    """The authorization's settlement record key."""
    payload: str
    """The settlement records' payload identity of the payment."""


class IdentifierBindings(Protocol):
    def bind(self, binding: Binding) -> Binding:
        """Bind the id unless it is bound: the binding that holds afterwards."""
        ...

    def get(self, payment_id: str) -> Binding | None: ...
    def close(self) -> None: ...


class MemoryBindings:
    def __init__(self) -> None:
        self._bound: dict[str, Binding] = {}
        self._lock = threading.Lock()

    def bind(self, binding: Binding) -> Binding:
        with self._lock:
            return self._bound.setdefault(binding.payment_id, binding)

    def get(self, payment_id: str) -> Binding | None:
        return self._bound.get(payment_id)

    def close(self) -> None:
        """Nothing to release."""


class SqliteBindings:
    """Bindings in a table of the state file; the primary key makes the first bind win."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS payment_ids ("
            "payment_id TEXT PRIMARY KEY, key TEXT NOT NULL, payload TEXT NOT NULL)"
        )
        self._lock = threading.Lock()

    def bind(self, binding: Binding) -> Binding:
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO payment_ids VALUES (?, ?, ?)",
                (binding.payment_id, binding.key, binding.payload),
            )
            held = self._get(binding.payment_id)
        return held or binding

    def get(self, payment_id: str) -> Binding | None:
        with self._lock:
            return self._get(payment_id)

    def _get(self, payment_id: str) -> Binding | None:
        row = self._db.execute(
            "SELECT payment_id, key, payload FROM payment_ids WHERE payment_id = ?", (payment_id,)
        ).fetchone()
        return None if row is None else Binding(*row)

    def close(self) -> None:
        self._db.close()


def open_bindings(path: Path | None) -> IdentifierBindings:
    return MemoryBindings() if path is None else SqliteBindings(path)
