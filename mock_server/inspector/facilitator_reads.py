"""What the inspector reads from the facilitator: its journal (`GET /journal`), to join its
verdicts to the mock's requests, and the test wallets' balances (`GET /__facilitator__/balances`).

Only the harness's own facilitator answers these; against another one the inspector says so and
shows the rest.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import httpx

from mock_server.journal_view import FacilitatorCall, facilitator_calls

READ_TIMEOUT_SECONDS = 3.0
QUIET_AFTER_FAILURE_SECONDS = 5.0
"""After a failed read, how long the inspector does not ask again (a page render would wait)."""
MAX_CALLS = 50_000
"""Calls kept; past it the oldest half is forgotten (the facilitator's journal is bounded too)."""


class FacilitatorReads:
    """Reads the facilitator's journal incrementally: each refresh asks only for entries after
    the last one seen, and starts over when that entry is gone (a restarted facilitator)."""

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url.rstrip("/")
        self._http: httpx.AsyncClient | None = None
        self._calls: dict[str, list[FacilitatorCall]] = {}
        self._count = 0
        self._last: tuple[int, float] | None = None
        """(seq, time) of the last entry read."""
        self._lock = asyncio.Lock()
        self._quiet_until = 0.0
        self._problem = ""

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:  # made on first use, inside the server's event loop
            self._http = httpx.AsyncClient(base_url=self._base_url, timeout=READ_TIMEOUT_SECONDS)
        return self._http

    async def calls(self) -> tuple[dict[str, list[FacilitatorCall]], str | None]:
        """The `/verify` and `/settle` calls by payment key, and why they may be incomplete."""
        async with self._lock:
            if time.monotonic() < self._quiet_until:
                return self._calls, self._problem
            try:
                await self._refresh()
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                return self._calls, self._failed(
                    f"the facilitator's journal could not be read: {exc}"
                )
            return self._calls, None

    def _failed(self, problem: str) -> str:
        """Remembers a failed read: the next ones wait QUIET_AFTER_FAILURE_SECONDS."""
        self._quiet_until = time.monotonic() + QUIET_AFTER_FAILURE_SECONDS
        self._problem = problem
        return problem

    async def _refresh(self) -> None:
        check = self._last  # the entry read last: the first page must begin with it
        since = check[0] - 1 if check else 0
        while True:
            answer = await self.http.get("/journal", params={"since": since})
            answer.raise_for_status()
            page = answer.json()
            entries: list[dict[str, Any]] = page["entries"]
            if check is not None:
                if not entries or (entries[0]["seq"], entries[0]["time"]) != check:
                    self._forget()  # a restarted facilitator: read everything again
                    check, since = None, 0
                    continue
                check, entries = None, entries[1:]
            self._add(entries)
            if not page["more"]:
                return
            since = page["next"]

    def _add(self, entries: list[dict[str, Any]]) -> None:
        if not entries:
            return
        for key, calls in facilitator_calls(entries).items():
            self._calls.setdefault(key, []).extend(calls)
            self._count += len(calls)
        self._last = (entries[-1]["seq"], entries[-1]["time"])
        if self._count > MAX_CALLS:
            self._forget_oldest_half()

    def _forget(self) -> None:
        self._calls, self._count, self._last = {}, 0, None

    def _forget_oldest_half(self) -> None:
        seqs = sorted(c.seq for calls in self._calls.values() for c in calls)
        cut = seqs[len(seqs) // 2]
        kept = {k: [c for c in calls if c.seq >= cut] for k, calls in self._calls.items()}
        self._calls = {k: calls for k, calls in kept.items() if calls}
        self._count = sum(map(len, self._calls.values()))

    async def balances(self, addresses: Sequence[str]) -> tuple[dict[str, int], str | None]:
        """Each address's token balance (atomic units), or why they could not be read."""
        if time.monotonic() < self._quiet_until:
            return {}, self._problem
        try:
            answer = await self.http.get(
                "/__facilitator__/balances", params=[("address", a) for a in addresses]
            )
            answer.raise_for_status()
            found = {a.lower(): v for a, v in answer.json()["balances"].items()}
            return {address: int(found[address.lower()]) for address in addresses}, None
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            return {}, self._failed(f"the facilitator's balances could not be read: {exc}")

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
