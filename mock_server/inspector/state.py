"""What the inspector keeps beside the server's own state: the decoded journal, the facilitator's
verdicts, uploaded conformance reports, thumbnails, browser sessions, and the closing signal."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mock_server.images import ImageCache
from mock_server.inspector.facilitator_reads import FacilitatorReads
from mock_server.inspector.reports import Reports
from mock_server.journal_view import Decoded, Facts, JournalFilter, decode, readable_page
from mock_server.state import ServerState
from x402_service.access import AdminAccess
from x402_service.journal import Journal, page_bounds


class DecodedJournal:
    """The mock's journal decoded, kept in step with it: each entry is decoded once."""

    def __init__(self, journal: Journal, endpoint_path: str) -> None:
        self._journal = journal
        self._endpoint_path = endpoint_path
        self._decoded: list[Decoded] = []
        self._lock = threading.Lock()

    def entries(self) -> list[Decoded]:
        with self._lock:
            oldest = self._journal.oldest_seq
            if oldest is None:
                self._decoded = []
            elif self._decoded and self._decoded[0].seq < oldest:
                self._decoded = [e for e in self._decoded if e.seq >= oldest]
            since = self._decoded[-1].seq if self._decoded else 0
            self._decoded += [
                decode(entry, self._endpoint_path) for entry in self._journal.entries(since)
            ]
            return list(self._decoded)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The journal and everything joined to it, read at one moment."""

    entries: list[Decoded]
    facts: Facts
    now: float
    """On the job clock."""
    problem: str | None
    """Why the facilitator's verdicts are missing, if they are."""


class Inspector:
    def __init__(self, server: ServerState, access: AdminAccess) -> None:
        self.server = server
        self.access = access
        self.reports = Reports()
        self.facilitator = FacilitatorReads(server.settings.facilitator_url)
        self.journal = DecodedJournal(server.journal, server.listing.path)
        self.thumbnails = ImageCache(max_items=64)
        self.closing = threading.Event()
        """Set when the server is asked to stop: event streams end on it."""

    async def snapshot(self) -> Snapshot:
        calls, problem = await self.facilitator.calls()
        store = self.server.store
        facts = Facts({p.key: p for p in store.purchases()}, {j.id: j for j in store.jobs()}, calls)
        return Snapshot(self.journal.entries(), facts, self.server.clock.now(), problem)

    async def readable_page(self, query: Mapping[str, str]) -> dict[str, Any]:
        """The readable journal page a `?since&limit&payer&job&path` query asks for
        (ValueError: a malformed query)."""
        since, limit = page_bounds(query)
        wanted = JournalFilter.from_query(query)
        snapshot = await self.snapshot()
        page = readable_page(snapshot.entries, snapshot.facts, wanted, limit, since)
        if snapshot.problem:
            page["facilitator_problem"] = snapshot.problem
        return page

    def fingerprint(self) -> tuple[Any, ...]:
        """Changes whenever what the page shows may have changed."""
        server = self.server
        now = server.clock.now()
        return (
            server.journal.last_seq,
            server.journal.oldest_seq,
            tuple(sorted(server.store.counts().items())),
            server.scenarios.default.name,
            tuple(server.scenarios.queued()),
            now if server.clock.is_test else None,
            self.reports.count,
            hash(tuple(job.status_at(now) for job in server.store.jobs())),
        )

    async def aclose(self) -> None:
        await self.facilitator.aclose()
