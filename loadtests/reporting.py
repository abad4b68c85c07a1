"""What a Locust process reports beyond Locust's own stats: milestone metrics, kept apart from the
HTTP requests so that Locust's aggregate row is HTTP only, and the snapshot file the harness reads
while the run goes (every second) and after it (when Locust quits).

Imported by the locustfile only: importing Locust patches the interpreter with gevent.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import gevent
from locust.env import Environment
from locust.runners import WorkerRunner
from locust.stats import RequestStats as LocustStats
from locust.stats import StatsEntry, StatsError

from loadtests.names import AGGREGATED
from loadtests.snapshot import PERCENTILES, ErrorCount, RequestStats, Snapshot, write_snapshot

MILESTONE_METHOD = "x402"
WORKER_REPORT_KEY = "x402_milestones"
SNAPSHOT_EVERY_SECONDS = 1.0
ERRORS_KEPT = 10
CAUGHT = re.compile(r"^CatchResponseError\((['\"])(.*)\1\)$", re.DOTALL)


class Reporter:
    """Milestones of this process (sent to the master from a worker), and, on a master or a single
    process, the snapshot written to `path`."""

    def __init__(self, environment: Environment, path: Path | None) -> None:
        self.environment = environment
        self.path = path
        self.milestones = LocustStats(use_response_times_cache=False)
        self.started: float | None = None
        events = environment.events
        events.report_to_master.add_listener(self._report_to_master)
        events.worker_report.add_listener(self._worker_report)
        events.test_start.add_listener(self._test_start)
        events.quit.add_listener(self._quit)

    @property
    def writes(self) -> bool:
        return self.path is not None and not isinstance(self.environment.runner, WorkerRunner)

    def milestone(self, name: str, since: float) -> None:
        """Seconds from `since` (time.perf_counter) to now, as milestone `name`."""
        elapsed_ms = round((time.perf_counter() - since) * 1000)
        self.milestones.log_request(MILESTONE_METHOD, name, elapsed_ms, 0)

    def _test_start(self, **kwargs: Any) -> None:
        if self.started is None:
            self.started = time.monotonic()
            if self.writes:
                gevent.spawn(self._write_every_second)

    def _write_every_second(self) -> None:
        while True:
            self.write(final=False)
            gevent.sleep(SNAPSHOT_EVERY_SECONDS)

    def _quit(self, **kwargs: Any) -> None:
        if self.writes:
            self.write(final=True)

    def _report_to_master(self, client_id: str, data: dict[str, Any]) -> None:
        data[WORKER_REPORT_KEY] = [
            entry.get_stripped_report() for entry in self.milestones.entries.values()
        ]

    def _worker_report(self, client_id: str, data: dict[str, Any]) -> None:
        for report in data.get(WORKER_REPORT_KEY, []):
            entry = StatsEntry.unserialize(report, self.milestones)
            self.milestones.get(entry.name, entry.method).extend(entry)

    def write(self, *, final: bool) -> None:
        if self.path is None:
            return
        stats = self.environment.stats
        runner = self.environment.runner
        requests = {entry.name: _stats_of(entry) for entry in stats.entries.values()}
        requests[AGGREGATED] = _stats_of(stats.total)
        errors = sorted(stats.errors.values(), key=lambda e: -e.occurrences)[:ERRORS_KEPT]
        snapshot = Snapshot(
            elapsed=0.0 if self.started is None else time.monotonic() - self.started,
            users=runner.user_count if runner is not None else 0,
            rps=stats.total.current_rps,
            requests=requests,
            milestones={e.name: _stats_of(e) for e in self.milestones.entries.values()},
            errors=[ErrorCount(e.name, _error_text(e), e.occurrences) for e in errors],
            final=final,
        )
        write_snapshot(self.path, snapshot)


def _error_text(error: StatsError) -> str:
    """The failure's message, without the `CatchResponseError('…')` that Locust wraps it in."""
    text = StatsError.parse_error(error.error)
    wrapped = CAUGHT.match(text)
    return wrapped[2] if wrapped else text


def _stats_of(entry: StatsEntry) -> RequestStats:
    if not entry.num_requests:
        return RequestStats(0, entry.num_failures)
    return RequestStats(
        entry.num_requests,
        entry.num_failures,
        {m: float(entry.get_response_time_percentile(q)) for m, q in PERCENTILES.items()},
    )
