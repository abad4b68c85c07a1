"""What `x402-harness load` prints: the live progress line and the summary with its verdict."""

from __future__ import annotations

import math
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from loadtests.gate import Verdict
from loadtests.runner import LocustRun
from loadtests.snapshot import RequestStats, Snapshot

LOG_PROGRESS_EVERY_SECONDS = 5.0
"""Off a terminal (CI logs), a progress line this often rather than every second."""


class ProgressPrinter:
    """The progress line: rewritten in place on a terminal, a line every few seconds in a log."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._live: Live | None = None
        self._printed_at = -math.inf

    def __enter__(self) -> ProgressPrinter:
        if self.console.is_terminal:
            self._live = Live(console=self.console, transient=True, auto_refresh=False)
            self._live.start()
        return self

    def __call__(self, snapshot: Snapshot) -> None:
        line = f"load: {snapshot.progress()}"
        if self._live is not None:
            self._live.update(Text(line), refresh=True)
        elif snapshot.elapsed - self._printed_at >= LOG_PROGRESS_EVERY_SECONDS:
            self.console.print(Text(line))
            self._printed_at = snapshot.elapsed

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()


def _table(title: str, rows: dict[str, RequestStats]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("name", "count", "failures", "p50", "p95", "p99"):
        if column == "name":
            table.add_column(column, no_wrap=True)
        else:
            table.add_column(column, justify="right")
    for name, seen in rows.items():
        table.add_row(
            Text(name),
            str(seen.count),
            str(seen.failures),
            *(f"{seen.percentiles.get(p, 0):.0f}" for p in ("p50", "p95", "p99")),
        )
    return table


def print_summary(console: Console, locust: LocustRun, verdict: Verdict, *, processes: int) -> None:
    """The requests (HTTP, with their Aggregated row), the milestones, and the verdict's why."""
    snapshot = locust.snapshot
    if snapshot is not None:
        console.print(_table("load summary: HTTP requests (ms)", snapshot.requests))
        if snapshot.milestones:
            title = "milestones: ms from a purchase's first request"
            console.print(_table(title, snapshot.milestones))
    if processes > 1:
        console.print(f"workers connected: {locust.workers_connected} of {processes}")
    for judged in verdict.thresholds:
        mark = "[green]met[/green]" if judged.passed else "[red]SLO broken:[/red]"
        console.print(f"{mark} {escape(str(judged))}")
    for invariant in verdict.invariants:
        mark = "[green]holds[/green]" if invariant.holds else "[red]BROKEN[/red]"
        console.print(f"invariant {mark}: {escape(f'{invariant.name} ({invariant.detail})')}")
    console.print(
        f"{verdict.paid_jobs} paid jobs, {verdict.failures} failures of {verdict.requests} requests"
    )
    if verdict.passed:
        console.print("[green]load gate passed[/green]")
    for reason in verdict.reasons:
        console.print(f"[red]load gate failed:[/red] {escape(reason)}")
