"""The readable journal: decoding never fails on what a client may send, the facilitator's calls
join the request they were made for, filters and pages lose and repeat nothing."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.jobs import Job, Plan
from mock_server.journal_view import (
    DECODED_ELSEWHERE,
    Facts,
    JournalFilter,
    decode,
    decoded_header,
    facilitator_calls,
    iso_time,
    offer_summary,
    payment_key,
    payment_summary,
    readable,
    readable_page,
)
from mock_server.purchases import Purchase, PurchaseState
from tests.mock_server.entries import ENDPOINT, KEY, PAYER, PAYMENT, paid, recorded
from x402_core.headers import encode_json_header
from x402_core.reasons import Reason
from x402_service.journal import Journal

JSON_TEXT = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(derandomize=True, deadline=None)
@given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30)))
def test_iso_time_never_raises_and_reads_back(value: Any) -> None:
    stamp = iso_time(value)
    if stamp is not None:
        assert stamp.endswith("Z")
        datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1795609644", "2026-11-25T12:27:24Z"), (0, "1970-01-01T00:00:00Z"), ("10" * 40, None)],
)
def test_iso_time_of_x402_times(value: Any, expected: str | None) -> None:
    assert iso_time(value) == expected


@settings(derandomize=True, deadline=None)
@given(JSON_TEXT)
def test_a_header_decodes_to_the_json_it_encodes(data: Any) -> None:
    assert decoded_header(encode_json_header(data)) == data


@settings(derandomize=True, deadline=None)
@given(st.text(max_size=200))
def test_any_header_value_decodes_or_says_why(value: str) -> None:
    decoded = decoded_header(value)
    assert decoded is not None
    json.dumps(decoded)


@settings(derandomize=True, deadline=None)
@given(JSON_TEXT)
def test_payment_key_and_summary_take_any_json(payment: Any) -> None:
    key = payment_key(payment)
    assert key is None or key == key.lower()
    payment_summary(payment, 2)


def test_payment_summary_shows_who_what_when_and_the_payment_id() -> None:
    summary = payment_summary(PAYMENT, 2)
    assert summary is not None
    assert summary["payer"] == PAYER
    assert summary["value"] == "50000"
    assert summary["valid_after"] == "2026-11-25T12:27:24Z"
    assert summary["valid_before"] == "2026-11-25T12:32:54Z"
    assert summary["payment_id"] == "pay_0123456789abcdef"
    assert payment_key(PAYMENT) == KEY


ENTRY_FIELDS = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["GET", "POST"]),
        "path": st.sampled_from([ENDPOINT, ENDPOINT + "/job_1", "/v1/images/job_1/1.png", "/x"]),
        "query": st.text(max_size=10),
        "headers": st.dictionaries(
            st.sampled_from(["payment-signature", "x-payment", "host", "x-mock-scenario"]),
            st.text(max_size=40),
        ),
        "body": st.text(max_size=40),
        "payment": JSON_TEXT.map(json.dumps),
        "payment_version": st.none() | st.integers(0, 3),
        "status": st.sampled_from([200, 400, 402, 404, 429, 500, 503]),
        "response_headers": st.dictionaries(
            st.sampled_from(["payment-required", "payment-response", "x-payment-response"]),
            st.text(max_size=40),
        ),
        "response_body": st.text(max_size=40),
        "duration_ms": st.floats(0, 1e4),
        "notes": st.dictionaries(st.just("scenario"), st.text(max_size=10)),
    }
)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(ENTRY_FIELDS)
def test_any_recorded_entry_reads_as_json(fields: dict[str, Any]) -> None:
    entry = recorded(Journal(), **fields)
    view = readable(decode(entry, ENDPOINT), Facts())
    json.dumps(view, allow_nan=False)
    assert view["seq"] == entry["seq"]


def test_an_offer_and_a_payment_read_decoded() -> None:
    journal = Journal()
    offer = {"x402Version": 2, "accepts": [{"amount": "50000"}], "error": "payment_required"}
    unpaid = recorded(
        journal,
        response_headers={"payment-required": encode_json_header(offer)},
        notes={"scenario": "offer_overpriced"},
    )
    view = readable(decode(unpaid, ENDPOINT), Facts())
    assert view["payment_required"] == offer
    assert view["response"]["headers"]["payment-required"] == DECODED_ELSEWHERE
    assert view["response"]["body"] == {}
    assert view["request"]["body"] == {"model": "nano-banana-2", "prompt": "a fox"}
    assert view["scenario"] == "offer_overpriced"
    assert view["time"].endswith("Z")

    payment = readable(decode(paid(journal), ENDPOINT), Facts())
    assert payment["payment"] == PAYMENT
    assert payment["payment_response"]["transaction"] == "0x" + "cd" * 32
    assert payment["request"]["headers"]["payment-signature"] == DECODED_ELSEWHERE
    assert (payment["payer"], payment["payment_key"], payment["job_id"]) == (
        PAYER.lower(),
        KEY,
        "job_1",
    )


def test_a_malformed_payment_header_says_what_is_wrong() -> None:
    entry = recorded(Journal(), headers={"x-payment": "%%%"}, status=400)
    view = readable(decode(entry, ENDPOINT), Facts())
    assert view["payment"]["reason"] == Reason.HEADER_BAD_BASE64
    assert view["payment_key"] is None


def _purchase(state: PurchaseState, scenario: str = "slow") -> Purchase:
    return Purchase(KEY, "sha", "job_9", state, 2, {}, {}, PAYER, scenario, 0.0)


def _job(job_id: str = "job_9") -> Job:
    return Job(job_id, 0.0, Plan(1, 3), {"prompt": "p"}, PAYER, "fail")


def test_the_store_says_which_job_and_scenario() -> None:
    journal = Journal()
    pending = decode(paid(journal, status=503, response_body="{}"), ENDPOINT)
    assert Facts().job_id_of(pending) is None
    facts = Facts(purchases={KEY: _purchase(PurchaseState.PENDING)})
    assert facts.job_id_of(pending) is None  # not settled: there is no job yet
    assert facts.scenario_of(pending) == "slow"
    settled = Facts(purchases={KEY: _purchase(PurchaseState.SETTLED)})
    assert settled.job_id_of(pending) == "job_9"
    poll = decode(recorded(journal, method="GET", path=ENDPOINT + "/job_9"), ENDPOINT)
    image = decode(recorded(journal, method="GET", path="/v1/images/job_9/1.png"), ENDPOINT)
    with_job = Facts(jobs={"job_9": _job()})
    for entry in (poll, image):
        assert with_job.job_id_of(entry) == "job_9"
        assert with_job.scenario_of(entry) == "fail"
        assert with_job.payer_of(entry) == PAYER.lower()


def facilitator_entry(journal: Journal, path: str, answer: dict[str, Any]) -> dict[str, Any]:
    return recorded(
        journal,
        path=path,
        payment=json.dumps(PAYMENT),
        payment_version=2,
        status=200,
        response_body=json.dumps(answer),
    )


def test_the_facilitators_verdicts_join_the_request_they_were_made_for() -> None:
    facilitator, mock = Journal(), Journal()
    verify = facilitator_entry(facilitator, "/verify", {"isValid": True})
    settle = facilitator_entry(facilitator, "/settle", {"success": True, "transaction": "0x1"})
    facilitator_entry(facilitator, "/supported", {})
    entry = paid(mock, duration_ms=60_000.0)  # began a minute ago: both calls fall inside it
    calls = facilitator_calls([verify, settle])
    assert [c.call for c in calls[KEY]] == ["verify", "settle"]
    view = readable(decode(entry, ENDPOINT), Facts(calls=calls))
    assert [(c["call"], c["answer"]) for c in view["facilitator"]] == [
        ("verify", {"isValid": True}),
        ("settle", {"success": True, "transaction": "0x1"}),
    ]
    later = dict(entry, time=entry["time"] + 3600)  # an hour later: a re-send, no calls made
    assert readable(decode(later, ENDPOINT), Facts(calls=calls))["facilitator"] == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"path": "v1/images"}, "starting with /"),
        ({"payer": "x" * 201}, "at most 200"),
    ],
)
def test_bad_filters_say_what_is_wrong(query: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        JournalFilter.from_query(query)


def _mixed_journal() -> list[dict[str, Any]]:
    journal = Journal()
    entries = []
    for n in range(12):
        if n % 3 == 0:
            entries.append(paid(journal))
        elif n % 3 == 1:
            entries.append(recorded(journal, method="GET", path=f"{ENDPOINT}/job_{n % 2}"))
        else:
            entries.append(recorded(journal))
    return entries


@settings(derandomize=True, deadline=None)
@given(
    limit=st.integers(1, 13),
    wanted=st.sampled_from(
        [
            JournalFilter(),
            JournalFilter(payer=PAYER.lower()),
            JournalFilter(job="job_1"),
            JournalFilter(path=ENDPOINT + "/"),
            JournalFilter(payer="0x0000000000000000000000000000000000000001"),
        ]
    ),
)
def test_pages_followed_by_next_show_each_matching_entry_once(
    limit: int, wanted: JournalFilter
) -> None:
    decoded = [decode(e, ENDPOINT) for e in _mixed_journal()]
    expected = [e.seq for e in decoded if wanted.matches(e, Facts())]
    seen: list[int] = []
    since, pages = 0, 0
    while True:
        page = readable_page(decoded, Facts(), wanted, limit, since)
        seen += [entry["seq"] for entry in page["entries"]]
        pages += 1
        assert pages <= len(decoded) + 1
        if not page["more"]:
            break
        since = page["next"]
    assert seen == expected


def test_an_offer_in_brief_reads_the_v2_header_else_the_v1_body() -> None:
    v2 = {"x402Version": 2, "error": "payment_required", "accepts": [{"amount": "50000"}]}
    v1 = {"x402Version": 1, "accepts": [{"maxAmountRequired": "70000", "network": "base"}]}
    assert offer_summary(v2, v1)["amount"] == "50000"
    assert offer_summary(None, v1)["amount"] == "70000"
    assert offer_summary(None, v1)["network"] == "base"
    broken = decoded_header("%not base64%")
    summary = offer_summary(broken, "not json")
    assert summary["amount"] is None
    assert "base64" in summary["undecodable"]


@settings(derandomize=True, deadline=None)
@given(JSON_TEXT, JSON_TEXT)
def test_any_offer_reads_in_brief(header: Any, body: Any) -> None:
    json.dumps(offer_summary(header, body))
