"""Everything one running mock server holds, built once by the app factory."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

from mock_server.clock import Clock, make_clock
from mock_server.config import ServerSettings
from mock_server.crashpoints import CrashPoint, armed_crash_point, crash_at
from mock_server.facilitator_client import FacilitatorClient
from mock_server.images import ImageCache
from mock_server.scenarios import OfferFlaw, ScenarioPicker
from mock_server.stores import Store, open_store
from x402_core.listing import Listing
from x402_service.journal import Journal
from x402_service.listings import read_listing

LEASE_MARGIN_SECONDS = 2.0


@dataclass
class PollTracker:
    """Per job: when it was last polled (monotonic) and how often, for rate_limited and
    status_errors, which judge a client's real pace whatever the job clock says."""

    last: dict[str, float] = field(default_factory=dict)
    count: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))

    def poll(self, job_id: str) -> tuple[float | None, int]:
        """(seconds since the previous poll or None, number of this poll)."""
        now = time.monotonic()
        previous = self.last.get(job_id)
        self.last[job_id] = now
        self.count[job_id] += 1
        return (None if previous is None else now - previous), self.count[job_id]

    def clear(self) -> None:
        self.last.clear()
        self.count.clear()


@dataclass
class ServerState:
    settings: ServerSettings
    listing: Listing
    store: Store
    clock: Clock
    journal: Journal
    scenarios: ScenarioPicker
    facilitator: FacilitatorClient
    images: ImageCache = field(default_factory=ImageCache)
    polls: PollTracker = field(default_factory=PollTracker)
    crash: CrashPoint | None = None
    """The crash point armed for fault tests (`X402H_TEST_CRASH_AT`), if any."""
    offers: dict[tuple[str, str, OfferFlaw, bool], tuple[dict[str, str], bytes]] = field(
        default_factory=dict
    )
    """Encoded 402 answers by (resource URL, reason, flaw, identifier required)."""
    errored_once: set[str] = field(default_factory=set)
    """Payments already answered with the scenario's deliberate 500."""

    @property
    def lease_seconds(self) -> float:
        """How long a claimed purchase belongs to the request settling it: its settle calls are
        bounded by the facilitator timeout. An older open purchase is reconciled by anyone."""
        return self.settings.facilitator_timeout + LEASE_MARGIN_SECONDS

    def reset(self, purchases: bool = False) -> None:
        """Forget the journal, queued scenarios, the test clock's lead and refused purchases;
        purchases that may have moved money (and their jobs) only with `purchases`."""
        self.store.clear(purchases)
        self.journal.clear()
        self.scenarios.reset()
        self.clock.reset()
        self.polls.clear()
        self.images.clear()
        self.errored_once.clear()


def build_state(settings: ServerSettings) -> ServerState:
    crash = armed_crash_point()

    def crash_after_settle_sent(url: str) -> None:
        if url.endswith("/settle"):
            crash_at(CrashPoint.AFTER_SETTLE_SENT, crash)

    return ServerState(
        settings=settings,
        listing=read_listing(settings.listing_path),
        store=open_store(settings.store),
        clock=make_clock(settings.clock),
        journal=Journal(path=settings.journal_path),
        scenarios=ScenarioPicker(settings.default_scenario),
        facilitator=FacilitatorClient(
            settings.facilitator_url,
            timeout=settings.facilitator_timeout,
            on_request_sent=crash_after_settle_sent if crash is not None else None,
        ),
        crash=crash,
    )
