"""Purchases and jobs in this process's memory: lost at exit, shared by nothing else."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import replace

from mock_server.jobs import Job
from mock_server.purchases import OPEN_STATES, Purchase, PurchaseState


class MemoryStore:
    def __init__(self) -> None:
        self._purchases: dict[str, Purchase] = {}
        self._jobs: dict[str, Job] = {}
        self._states: Counter[PurchaseState] = Counter()
        self._keys_by_id: dict[str, str] = {}
        self._lock = threading.Lock()

    def claim(self, purchase: Purchase) -> Purchase | None:
        with self._lock:
            existing = self._purchases.get(purchase.key)
            if existing is not None and existing.state is not PurchaseState.REFUSED:
                return existing
            holder = self._with_id(purchase.payment_id)
            if holder is not None and holder.key != purchase.key:
                if holder.state is not PurchaseState.REFUSED:
                    return holder
                self._drop(holder)
            if existing is not None:
                self._drop(existing)
            self._put(replace(purchase, state=PurchaseState.CLAIMED, updated_at=time.time()))
            return None

    def touch(self, key: str) -> None:
        with self._lock:
            current = self._purchases.get(key)
            if current is not None and current.state in OPEN_STATES:
                self._put(replace(current, updated_at=time.time()))

    def mark_pending(self, key: str, settlement: dict | None, reason: str) -> None:
        self._change(key, PurchaseState.PENDING, settlement, reason)

    def mark_refused(self, key: str, settlement: dict | None, reason: str) -> bool:
        return self._change(key, PurchaseState.REFUSED, settlement, reason)

    def _change(self, key: str, state: PurchaseState, settlement: dict | None, reason: str) -> bool:
        with self._lock:
            current = self._purchases.get(key)
            if current is None or current.state not in OPEN_STATES:
                return False
            kept = settlement if settlement is not None else current.settlement
            self._put(
                replace(
                    current, state=state, settlement=kept, reason=reason, updated_at=time.time()
                )
            )
            return True

    def settle(self, key: str, settlement: dict, job: Job) -> bool:
        with self._lock:
            current = self._purchases.get(key)
            if current is None or current.state is PurchaseState.SETTLED:
                return False
            self._put(
                replace(
                    current,
                    state=PurchaseState.SETTLED,
                    settlement=settlement,
                    reason="",
                    updated_at=time.time(),
                )
            )
            self._jobs[job.id] = job
            return True

    def _put(self, purchase: Purchase) -> None:
        """Store `purchase`, keeping the counts by state and the ids; the caller holds the lock."""
        previous = self._purchases.get(purchase.key)
        if previous is not None:
            self._states[previous.state] -= 1
        self._states[purchase.state] += 1
        self._purchases[purchase.key] = purchase
        if purchase.payment_id is not None:
            self._keys_by_id[purchase.payment_id] = purchase.key

    def _drop(self, purchase: Purchase) -> None:
        """Forget a purchase; the caller holds the lock."""
        del self._purchases[purchase.key]
        self._states[purchase.state] -= 1
        if purchase.payment_id is not None:
            self._keys_by_id.pop(purchase.payment_id, None)

    def _with_id(self, payment_id: str | None) -> Purchase | None:
        key = None if payment_id is None else self._keys_by_id.get(payment_id)
        return None if key is None else self._purchases.get(key)

    def purchase_with_id(self, payment_id: str) -> Purchase | None:
        with self._lock:
            return self._with_id(payment_id)

    def get_purchase(self, key: str) -> Purchase | None:
        return self._purchases.get(key)

    def purchases(self, states: frozenset[PurchaseState] | None = None) -> list[Purchase]:
        with self._lock:
            return [p for p in self._purchases.values() if states is None or p.state in states]

    def stale(self, before: float) -> list[Purchase]:
        return [p for p in self.purchases(OPEN_STATES) if p.updated_at < before]

    def get_job(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda job: job.created_at)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"jobs": len(self._jobs)} | {s.value: self._states[s] for s in PurchaseState}

    def clear(self, purchases: bool = False) -> None:
        with self._lock:
            if purchases:
                self._purchases.clear()
                self._jobs.clear()
                self._states.clear()
                self._keys_by_id.clear()
                return
            for purchase in list(self._purchases.values()):
                if purchase.state is PurchaseState.REFUSED:
                    self._drop(purchase)

    def close(self) -> None:
        """Nothing to release."""
