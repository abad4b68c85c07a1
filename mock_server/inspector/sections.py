"""The parts of the inspector's live view, each rendered from plain data: purchases as
timelines, pending purchases, unpaid offers, balances, conformance reports, the journal."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mock_server.inspector.markup import (
    ADMIN_BASE,
    entry_link,
    facts_list,
    h,
    pretty,
    short,
    usdc,
    when,
)
from mock_server.inspector.reports import CheckedReport, CheckResult, Upload
from mock_server.inspector.timeline import Step, Timeline, UnpaidOffers
from mock_server.journal_view import FacilitatorCall
from mock_server.purchases import Purchase
from x402_core.jobstatus import Status

OUTCOME_ORDER = {"fail": 0, "error": 1, "pass": 2, "n/a": 3}


@dataclass
class LiveView:
    """Everything the live part of the page shows."""

    now: float
    """On the job clock."""
    test_clock: bool
    default_scenario: str
    queued: list[str]
    timelines: list[Timeline]
    matching: int
    """Purchases that match the filters (more than are shown when there are many)."""
    unpaid: UnpaidOffers
    pending: list[Purchase]
    calls: Mapping[str, list[FacilitatorCall]]
    lease_seconds: float
    reconcile_interval: float
    balances: list[tuple[str, str, int | None]]
    """(label, address, balance in atomic units or None)."""
    reports: list[CheckedReport]
    journal: list[dict[str, Any]]
    """Readable entries, newest first."""
    problems: list[str] = field(default_factory=list)


def render_live(view: LiveView) -> str:
    shown = {entry["seq"] for entry in view.journal}
    return "".join(
        [
            _server_line(view),
            "".join(f'<p class="problem">{h(p)}</p>' for p in view.problems),
            _purchases(view, shown),
            _pending(view),
            _unpaid(view.unpaid, shown),
            _balances(view.balances),
            _reports(view.reports, shown),
            _journal(view.journal),
        ]
    )


def _server_line(view: LiveView) -> str:
    queue = ", ".join(view.queued) or "empty"
    clock = "test clock" if view.test_clock else "real clock"
    return (
        f'<p id="server-line">default scenario <b id="default-scenario">'
        f'{h(view.default_scenario)}</b> · queue <b id="queue">{h(queue)}</b> · '
        f"{clock} {when(view.now)}</p>"
    )


def _anchor(prefix: str, text: str) -> str:
    return f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def _purchases(view: LiveView, shown: set[int]) -> str:
    more = view.matching - len(view.timelines)
    note = f'<p class="note">{more} older purchases not shown: narrow the filters.</p>'
    items = [_timeline(t, view.now, shown, first=i == 0) for i, t in enumerate(view.timelines)]
    empty = '<p class="note">No purchase yet: pay the endpoint and it appears here.</p>'
    return (
        f'<section id="purchases"><h2>Purchases <small>{view.matching}</small></h2>'
        f"{''.join(items) or empty}{note if more > 0 else ''}</section>"
    )


def _timeline(timeline: Timeline, now: float, shown: set[int], *, first: bool) -> str:
    status = timeline.status(now)
    job = timeline.job_id
    thumbnail = ""
    if timeline.job is not None and timeline.job.status_at(now) is Status.COMPLETED:
        thumbnail = (
            f'<img class="thumb" src="{ADMIN_BASE}/inspector/thumbnails/{h(job)}.png" '
            f'alt="image of {h(job)}" width="96" height="96">'
        )
    refusal = f" ({timeline.refusal})" if status == "refused" and timeline.refusal else ""
    heading = [
        f'<span class="status s-{h(status)}">{h(status)}{h(refusal)}</span>',
        f"payer {short(timeline.payer)}",
        f"scenario <b>{h(timeline.scenario or '?')}</b>",
    ]
    if job:
        heading.append(f'job <code class="job-id">{h(job)}</code>')
    if timeline.transaction:
        heading.append(f'transaction <code class="tx">{h(timeline.transaction)}</code>')
    steps = timeline.steps(now)
    opened = " open" if first else ""
    return (
        f'<article class="purchase">{thumbnail}<p class="heading">{" · ".join(heading)}</p>'
        f'<details id="{_anchor("tl", timeline.key)}"{opened}>'
        f"<summary>{len(steps)} steps, from {when(timeline.started)}</summary>"
        f'<ol class="steps">{"".join(_step(s, shown) for s in steps)}</ol></details></article>'
    )


def _step(step: Step, shown: set[int]) -> str:
    link = f" {entry_link(step.seq, shown)}" if step.seq is not None else ""
    facts = facts_list(step.facts)
    return (
        f'<li class="step k-{h(step.kind)} t-{h(step.tone)}">{when(step.time)} '
        f"<b>{h(step.title)}</b>{link}{facts}</li>"
    )


def _pending(view: LiveView) -> str:
    if not view.pending:
        return ""
    rows = []
    for purchase in view.pending:
        settles = [c for c in view.calls.get(purchase.key, []) if c.call == "settle"]
        last = settles[-1].answer if settles else None
        rows.append(
            "<tr>"
            f"<td>{short(purchase.key, 14)}</td><td>{h(purchase.state.value)}</td>"
            f"<td>{h(purchase.scenario)}</td><td>{h(purchase.reason)}</td>"
            f"<td>{short(purchase.transaction)}</td><td>{when(purchase.updated_at)}</td>"
            f"<td>{when(purchase.updated_at + view.lease_seconds)}</td>"
            f"<td>{len(settles)}{f'<pre>{h(pretty(last))}</pre>' if last else ''}</td>"
            "</tr>"
        )
    return (
        f'<section id="pending"><h2>Pending purchases <small>{len(view.pending)}</small></h2>'
        '<p class="note">Sent for settlement with an outcome not yet known. Each is settled '
        "again when the client re-sends the same payment, and by the background pass (every "
        f"{view.reconcile_interval:g} s) once its lease has run out; the facilitator answers a "
        "repeated settle with the transaction it already made.</p>"
        "<table><tr><th>payment key</th><th>state</th><th>scenario</th><th>why</th>"
        "<th>transaction</th><th>last change</th><th>lease ends</th><th>settles so far</th></tr>"
        f"{''.join(rows)}</table></section>"
    )


def _unpaid(unpaid: UnpaidOffers, shown: set[int]) -> str:
    if not unpaid.count:
        return ""
    scenarios = ", ".join(f"{name} ×{n}" for name, n in sorted(unpaid.scenarios.items()))
    last = unpaid.last
    detail = ""
    if last is not None:
        detail = (
            f"<details><summary>the last one, {when(last.time)} "
            f"{entry_link(last.seq, shown)}</summary>"
            f"{facts_list({'PAYMENT-REQUIRED': last.payment_required, 'body': last.response_body})}"
            "</details>"
        )
    return (
        f'<section id="unpaid"><h2>Offers no payment followed <small>{unpaid.count}</small></h2>'
        f'<p class="note">402s the client did not pay (scenarios: {h(scenarios)}).</p>'
        f"{detail}</section>"
    )


def _balances(balances: Sequence[tuple[str, str, int | None]]) -> str:
    rows = "".join(
        f"<tr><td>{h(label)}</td><td><code>{h(address)}</code></td>"
        f"<td class=num>{'?' if amount is None else h(usdc(amount))}</td></tr>"
        for label, address, amount in balances
    )
    return (
        '<section id="balances"><h2>Wallet balances</h2>'
        f"<table><tr><th>wallet</th><th>address</th><th>balance</th></tr>{rows}</table></section>"
    )


def _reports(reports: Sequence[CheckedReport], shown: set[int]) -> str:
    if not reports:
        return (
            '<section id="reports"><h2>Conformance runs</h2><p class="note">None uploaded: run '
            "<code>x402-harness conformance server URL --json run.json</code> against this "
            "stack and upload run.json above.</p></section>"
        )
    parts = ['<section id="reports"><h2>Conformance runs</h2>']
    for upload, results in reports:
        counts: dict[str, int] = {}
        for result, _ in results:
            counts[result.outcome] = counts.get(result.outcome, 0) + 1
        tally = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        rows = [_check_row(upload, result, links, shown) for result, links in results]
        parts.append(
            f'<details id="report-{upload.number}" open><summary>{h(upload.name)}: '
            f"{h(upload.report.target)} — {h(tally)} (uploaded {when(upload.received)})</summary>"
            "<table><tr><th>check</th><th>level</th><th>outcome</th><th>title</th>"
            f"<th>journal entries</th><th>evidence</th></tr>{''.join(rows)}</table></details>"
        )
    parts.append("</section>")
    return "".join(parts)


def _check_row(upload: Upload, result: CheckResult, links: list[int], shown: set[int]) -> str:
    anchor = f"check-{upload.number}-{h(result.id)}"
    linked = " ".join(entry_link(seq, shown) for seq in links) or '<span class="note">none</span>'
    return (
        f'<tr id="{anchor}" class="o-{h(result.outcome.replace("/", ""))}">'
        f'<td class="id"><a href="#{anchor}">{h(result.id)}</a></td><td>{h(result.level)}</td>'
        f"<td>{h(result.outcome)}</td><td>{h(result.title)}</td><td>{linked}</td>"
        f"<td><details><summary>evidence</summary><pre>{h(pretty(result.evidence))}</pre>"
        "</details></td></tr>"
    )


def ordered_results(results: Sequence[CheckResult]) -> list[CheckResult]:
    """Failures first, then MUSTs before SHOULDs, then by id."""
    return sorted(results, key=lambda r: (OUTCOME_ORDER.get(r.outcome, 9), r.level != "MUST", r.id))


def _journal(entries: Sequence[dict[str, Any]]) -> str:
    rows = []
    for entry in entries:
        seq = entry["seq"]
        rows.append(
            f'<tr id="entry-{seq}"><td><a href="#entry-{seq}">#{seq}</a></td>'
            f"<td>{when(entry['time'])}</td>"
            f"<td>{h(entry['method'])} {h(entry['path'])}</td><td>{h(entry['status'])}</td>"
            f"<td>{h(entry['scenario'] or '')}</td><td>{short(entry['job_id'], 12)}</td>"
            f"<td>{short(entry['payer'])}</td>"
            f'<td><details class="entry" data-seq="{seq}"><summary>readable</summary><pre>'
            "</pre></details></td></tr>"
        )
    return (
        f'<section id="journal"><h2>Journal <small>newest {len(entries)}</small></h2>'
        f'<p class="note">All of it, readable: <a href="{ADMIN_BASE}/journal?view=readable">'
        f"{ADMIN_BASE}/journal?view=readable</a> (paged; filters payer, job, path).</p>"
        "<table><tr><th>#</th><th>time</th><th>request</th><th>status</th><th>scenario</th>"
        f"<th>job</th><th>payer</th><th></th></tr>{''.join(rows)}</table></section>"
    )
