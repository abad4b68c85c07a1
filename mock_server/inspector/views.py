"""The live view assembled from one snapshot: the purchases that match the filters, pending
purchases, balances, uploaded reports with their links, the newest journal entries."""

from __future__ import annotations

import itertools

from mock_server.inspector.reports import EvidenceIndex, evidence_index, linked_entries
from mock_server.inspector.sections import LiveView, ordered_results
from mock_server.inspector.state import Inspector
from mock_server.inspector.timeline import Timeline, TimelineFilter, pending, timelines
from mock_server.journal_view import readable
from x402_core.wallets import payer_wallets

MAX_TIMELINES = 25
MAX_JOURNAL_ROWS = 100
MAX_BALANCES = 40


async def live_view(inspector: Inspector, wanted: TimelineFilter) -> LiveView:
    snapshot = await inspector.snapshot()
    server = inspector.server
    facts, now = snapshot.facts, snapshot.now
    every, unpaid = timelines(snapshot.entries, facts, server.listing.path)
    matching = [t for t in every if wanted.matches(t, now)]
    by_entry = wanted.journal_filter()
    newest = (e for e in reversed(snapshot.entries) if by_entry.matches(e, facts))
    journal = [readable(e, facts) for e in itertools.islice(newest, MAX_JOURNAL_ROWS)]
    uploads = inspector.reports.all()
    index = evidence_index(snapshot.entries, facts) if uploads else EvidenceIndex({}, {})
    reports = [
        (u, [(r, linked_entries(r, index)) for r in ordered_results(u.report.results)])
        for u in uploads
    ]
    balances, balance_problem = await _balances(inspector, every)
    return LiveView(
        now=now,
        test_clock=server.clock.is_test,
        default_scenario=server.scenarios.default.name,
        queued=server.scenarios.queued(),
        timelines=matching[:MAX_TIMELINES],
        matching=len(matching),
        unpaid=unpaid,
        pending=pending(facts.purchases.values()),
        calls=facts.calls,
        lease_seconds=server.lease_seconds,
        reconcile_interval=server.settings.reconcile_interval,
        balances=balances,
        reports=reports,
        journal=journal,
        problems=[p for p in dict.fromkeys((snapshot.problem, balance_problem)) if p],
    )


async def _balances(
    inspector: Inspector, seen: list[Timeline]
) -> tuple[list[tuple[str, str, int | None]], str | None]:
    """The test wallets, the payee and other payers seen, with their token balances."""
    wallets = [(f"payer #{w.index}", w.address) for w in payer_wallets()]
    wallets.append(("payTo", inspector.server.listing.pay_to))
    known = {address.lower() for _, address in wallets}
    for timeline in seen:
        if timeline.payer and timeline.payer not in known and len(wallets) < MAX_BALANCES:
            known.add(timeline.payer)
            wallets.append(("payer", timeline.payer))
    found, problem = await inspector.facilitator.balances([a for _, a in wallets])
    return [(label, a, found.get(a)) for label, a in wallets], problem
