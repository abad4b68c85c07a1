"""Where purchases and jobs live: in memory, or in SQLite shared by processes and restarts.

Every change of a purchase is one atomic step, and a claim is unique by its key in the store
itself, so that several server processes on one SQLite file behave as one server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from mock_server.jobs import Job
from mock_server.purchases import Purchase, PurchaseState
from mock_server.stores.memory import MemoryStore
from mock_server.stores.sqlite import SqliteStore

__all__ = ["MemoryStore", "SqliteStore", "Store", "StoreSpecError", "open_store"]


class Store(Protocol):
    def claim(self, purchase: Purchase) -> Purchase | None:
        """Record a new claimed purchase, or take over a refused one with the same key or
        payment id: None when this call claimed it, else the purchase already there (the one
        with its key, else the one with its payment id)."""
        ...

    def purchase_with_id(self, payment_id: str) -> Purchase | None:
        """The purchase that carries this payment-identifier, if any."""
        ...

    def touch(self, key: str) -> None:
        """Renew the lease of an open purchase (its settle is still being worked on)."""
        ...

    def mark_pending(self, key: str, settlement: dict | None, reason: str) -> None:
        """An open purchase whose settlement outcome is unknown."""
        ...

    def mark_refused(self, key: str, settlement: dict | None, reason: str) -> bool:
        """An open purchase refused by the facilitator; False if it was settled meanwhile."""
        ...

    def settle(self, key: str, settlement: dict, job: Job) -> bool:
        """Atomically mark the purchase settled and add its job; False (and no job added) when
        another process settled it first."""
        ...

    def get_purchase(self, key: str) -> Purchase | None: ...
    def purchases(self, states: frozenset[PurchaseState] | None = None) -> list[Purchase]: ...
    def stale(self, before: float) -> list[Purchase]:
        """Open purchases not changed since wall-clock time `before`."""
        ...

    def get_job(self, job_id: str) -> Job | None: ...
    def jobs(self) -> list[Job]: ...
    def counts(self) -> dict[str, int]:
        """Jobs and purchases by state, without loading them."""
        ...

    def clear(self, purchases: bool = False) -> None:
        """Forget refused purchases (nothing moved for them); with `purchases`, every purchase
        and job, including those that moved money."""
        ...

    def close(self) -> None: ...


class StoreSpecError(ValueError):
    """A --store value that is neither `memory` nor `sqlite:PATH`, or a path that cannot open."""


def open_store(spec: str) -> Store:
    """`memory`, or `sqlite:PATH`."""
    if spec == "memory":
        return MemoryStore()
    if spec.startswith("sqlite:") and len(spec) > len("sqlite:"):
        path = Path(spec.removeprefix("sqlite:"))
        if not path.parent.is_dir():
            raise StoreSpecError(f"store {spec!r}: the directory {path.parent} does not exist")
        return SqliteStore(path)
    raise StoreSpecError(f"store is {spec!r}; expected 'memory' or 'sqlite:PATH'")
