"""Purchases as timelines: grouped by payment key, offers matched to payments, polls judged
against Retry-After, job status changes as the state machine allows them."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.inspector.timeline import (
    STATUS_WORDS,
    TimelineFilter,
    job_steps,
    polls_of,
    status_changes,
    timelines,
)
from mock_server.jobs import Job, Plan
from mock_server.journal_view import Decoded, Facts, decode, facilitator_calls
from mock_server.purchases import Purchase, PurchaseState
from mock_server.scenarios import SCENARIOS
from tests.mock_server.entries import ENDPOINT, KEY, PAYER, PAYMENT, paid, recorded
from x402_core.jobstatus import ALLOWED_TRANSITIONS, Status
from x402_service.journal import Journal

PLANS = st.builds(
    Plan,
    queue_seconds=st.floats(0, 100),
    processing_seconds=st.none() | st.floats(0.001, 100),
    outcome=st.sampled_from([Status.COMPLETED, Status.FAILED]),
    fail_while_queued=st.booleans(),
).filter(lambda p: not (p.fail_while_queued and p.queue_seconds == 0))


@settings(derandomize=True, deadline=None)
@given(PLANS, st.floats(0, 300))
def test_status_changes_follow_the_state_machine_and_end_where_the_job_is(
    plan: Plan, age: float
) -> None:
    job = Job("job_1", 1000.0, plan, {}, PAYER, "happy")
    changes = status_changes(job, 1000.0 + age)
    times = [time for time, _ in changes]
    assert times == sorted(times)
    statuses = [status for _, status in changes]
    assert statuses[0] is Status.PENDING
    assert all(pair in ALLOWED_TRANSITIONS for pair in itertools.pairwise(statuses))
    assert statuses[-1] is job.status_at(1000.0 + age)


def test_a_failed_job_says_why() -> None:
    plan = Plan(0, 2, Status.FAILED, "generation_failed", "the model failed")
    steps = job_steps(Job("job_1", 0.0, plan, {}, PAYER, "fail"), now=10.0)
    assert [s.title for s in steps] == ["job pending", "job processing", "job failed"]
    assert steps[-1].tone == "bad"
    assert steps[-1].facts["error"]["code"] == "generation_failed"


def _poll(journal: Journal, retry_after: str | None, duration_ms: float = 1.0) -> Decoded:
    headers = {"retry-after": retry_after} if retry_after else {}
    entry = recorded(
        journal,
        method="GET",
        path=f"{ENDPOINT}/job_1",
        status=200,
        response_headers=headers,
        response_body=json.dumps({"status": "processing"}),
        duration_ms=duration_ms,
    )
    return decode(entry, ENDPOINT)


def test_a_poll_sooner_than_retry_after_asked_is_early() -> None:
    journal = Journal()
    first, second = _poll(journal, "3"), _poll(journal, None)
    answered = first.started - 1.0
    late = [Decoded(**{**_fields(second), "time": first.time + 5.0})]
    early = [Decoded(**{**_fields(second), "time": first.time + 0.5})]
    polls = polls_of([first, *late], answered)
    assert polls[0].asked is None
    assert polls[0].waited == pytest.approx(1.0)
    assert (polls[1].asked, polls[1].early) == (3, False)
    assert polls_of([first, *early], answered)[1].early


def _fields(entry: Decoded) -> dict[str, object]:
    return {name: getattr(entry, name) for name in entry.__slots__}


def _purchase(state: PurchaseState, scenario: str = "quick", reason: str = "") -> Purchase:
    return Purchase(KEY, "sha", "job_1", state, 2, {}, {}, PAYER, scenario, 0.0, 0.0, None, reason)


def test_entries_become_one_timeline_per_payment_with_its_offer_polls_and_verdicts() -> None:
    mock, facilitator = Journal(), Journal()
    refused_offer = decode(recorded(mock, notes={"scenario": "offer_overpriced"}), ENDPOINT)
    offer = decode(recorded(mock), ENDPOINT)
    calls = facilitator_calls(  # made while the paid request was answered
        [
            recorded(facilitator, path="/verify", payment=json.dumps(PAYMENT), status=200,
                     response_body='{"isValid": true}'),
            recorded(facilitator, path="/settle", payment=json.dumps(PAYMENT), status=200,
                     response_body='{"success": true, "transaction": "0xfeed"}'),
        ]
    )  # fmt: skip
    payment = decode(paid(mock), ENDPOINT)
    poll = _poll(mock, "1", duration_ms=0.0)
    image = decode(
        recorded(mock, method="GET", path="/v1/images/job_1/1.png", duration_ms=0.0), ENDPOINT
    )
    job = Job("job_1", payment.time, Plan(0, 0), {}, PAYER, "quick")
    facts = Facts({KEY: _purchase(PurchaseState.SETTLED)}, {"job_1": job}, calls)
    entries = [refused_offer, offer, payment, poll, image]
    [timeline], unpaid = timelines(entries, facts, ENDPOINT)
    assert (timeline.offer, timeline.paid, timeline.job) == (offer, [payment], job)
    assert [p.entry for p in timeline.polls] == [poll]
    assert timeline.downloads == [image]
    assert timeline.status(now=payment.time) == "completed"
    assert timeline.scenario == "quick"
    kinds = [step.kind for step in timeline.steps(now=payment.time + 1)]
    assert kinds[:3] == ["offer", "payment", "verify"]
    assert {"settle", "answer", "job", "poll", "image"} <= set(kinds)
    assert (unpaid.count, unpaid.scenarios, unpaid.last) == (
        1,
        {"offer_overpriced": 1},
        refused_offer,
    )


@pytest.mark.parametrize(
    ("state", "word"),
    [
        (PurchaseState.CLAIMED, "settling"),
        (PurchaseState.PENDING, "settlement_pending"),
        (PurchaseState.REFUSED, "refused"),
        (PurchaseState.SETTLED, "settled"),
    ],
)
def test_a_purchase_status_word_until_its_job_exists(state: PurchaseState, word: str) -> None:
    payment = decode(paid(Journal(), status=503), ENDPOINT)
    [timeline], _ = timelines([payment], Facts({KEY: _purchase(state)}), ENDPOINT)
    assert timeline.status(now=0.0) == word
    assert word in STATUS_WORDS


def test_a_payment_the_facilitator_refused_has_no_purchase_and_reads_refused() -> None:
    refusal = '{"error": "invalid_exact_evm_payload_signature"}'
    payment = decode(paid(Journal(), status=402, response_body=refusal), ENDPOINT)
    [timeline], _ = timelines([payment], Facts(), ENDPOINT)
    assert (timeline.purchase, timeline.status(now=0.0)) == (None, "refused")
    assert timeline.refusal == "invalid_exact_evm_payload_signature"
    refused = Facts({KEY: _purchase(PurchaseState.REFUSED, reason="transaction_failed")})
    [stored], _ = timelines([payment], refused, ENDPOINT)
    assert stored.refusal == "transaction_failed"
    [settled], _ = timelines([payment], Facts({KEY: _purchase(PurchaseState.SETTLED)}), ENDPOINT)
    assert settled.refusal is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"status": "done"}, "expected one of settling"),
        ({"scenario": "nope"}, "expected one of happy"),
        ({"job": "j" * 201}, "at most 200"),
    ],
)
def test_bad_purchase_filters_say_what_is_wrong(query: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TimelineFilter.from_query(query, SCENARIOS)


def test_filters_pick_purchases_by_payer_job_status_and_scenario() -> None:
    payment = decode(paid(Journal()), ENDPOINT)
    job = Job("job_1", payment.time, Plan(0, 0), {}, PAYER, "quick")
    facts = Facts({KEY: _purchase(PurchaseState.SETTLED)}, {"job_1": job})
    [timeline], _ = timelines([payment], facts, ENDPOINT)
    now = payment.time + 1
    keeps = [
        TimelineFilter(),
        TimelineFilter(payer=PAYER.lower()),
        TimelineFilter(job="job_1"),
        TimelineFilter(status="completed"),
        TimelineFilter(scenario="quick"),
    ]
    drops = [
        TimelineFilter(payer="0x01"),
        TimelineFilter(job="job_2"),
        TimelineFilter(status="failed"),
        TimelineFilter(scenario="slow"),
    ]
    assert all(f.matches(timeline, now) for f in keeps)
    assert not any(f.matches(timeline, now) for f in drops)
