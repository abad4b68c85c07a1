"""The embedded ledger's state in a SQLite file, so that a restarted facilitator remembers every
balance, used nonce and transaction (`x402-harness facilitator --chain ledger --state PATH`).

Each change is one SQLite transaction, written before the ledger answers; a process killed at any
point leaves the file as it was after the last answered change.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS balances (
    token TEXT NOT NULL, account TEXT NOT NULL, amount TEXT NOT NULL,
    PRIMARY KEY (token, account));
CREATE TABLE IF NOT EXISTS used_nonces (
    token TEXT NOT NULL, authorizer TEXT NOT NULL, nonce BLOB NOT NULL,
    PRIMARY KEY (token, authorizer, nonce));
CREATE TABLE IF NOT EXISTS transactions (
    hash TEXT PRIMARY KEY, success INTEGER NOT NULL, error TEXT);
CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass
class LedgerSnapshot:
    """Everything the file holds, read once at start-up."""

    balances: dict[tuple[str, str], int] = field(default_factory=dict)
    used: set[tuple[str, str, bytes]] = field(default_factory=set)
    transactions: dict[str, tuple[bool, str | None]] = field(default_factory=dict)
    tx_count: int = 0
    time_offset: int = 0


class LedgerFile:
    """Write-through persistence of the ledger; the ledger keeps its state in memory too."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def load(self) -> LedgerSnapshot:
        db = self._db
        meta = dict(db.execute("SELECT key, value FROM ledger_meta").fetchall())
        return LedgerSnapshot(
            balances={
                (token, account): int(amount)
                for token, account, amount in db.execute("SELECT * FROM balances")
            },
            used={(t, a, bytes(n)) for t, a, n in db.execute("SELECT * FROM used_nonces")},
            transactions={
                tx: (bool(ok), error) for tx, ok, error in db.execute("SELECT * FROM transactions")
            },
            tx_count=meta.get("tx_count", 0),
            time_offset=meta.get("time_offset", 0),
        )

    def write(
        self,
        *,
        balances: dict[tuple[str, str], int] | None = None,
        used: tuple[str, str, bytes] | None = None,
        transaction: tuple[str, bool, str | None] | None = None,
        tx_count: int | None = None,
        time_offset: int | None = None,
    ) -> None:
        """Apply one change atomically."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for (token, account), amount in (balances or {}).items():
                row = (token, account, str(amount))
                db.execute("INSERT OR REPLACE INTO balances VALUES (?, ?, ?)", row)
            if used is not None:
                db.execute("INSERT OR IGNORE INTO used_nonces VALUES (?, ?, ?)", used)
            if transaction is not None:
                db.execute("INSERT OR REPLACE INTO transactions VALUES (?, ?, ?)", transaction)
            for key, value in (("tx_count", tx_count), ("time_offset", time_offset)):
                if value is not None:
                    db.execute("INSERT OR REPLACE INTO ledger_meta VALUES (?, ?)", (key, value))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()
