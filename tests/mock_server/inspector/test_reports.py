"""Uploaded conformance reports: their checks linked to the journal entries their evidence
names, by job id, nonce and transaction, also inside the x402 headers the evidence quotes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mock_server.inspector.reports import (
    KEPT_REPORTS,
    CheckResult,
    ConformanceReport,
    Reports,
    evidence_index,
    identifiers,
    linked_entries,
)
from mock_server.journal_view import Facts, decode
from tests.mock_server.entries import ENDPOINT, NONCE, PAYMENT, paid, recorded
from x402_core.headers import encode_json_header
from x402_service.journal import Journal

TRANSACTION = "0x" + "cd" * 32


def test_identifiers_are_found_in_text_values_and_quoted_headers() -> None:
    settlement = encode_json_header({"success": True, "transaction": "0x" + "EF" * 32})
    evidence = {
        "sent": {"requests": ["GET /v1/images/generate/job_0123456789abcdef01234567 → 200"]},
        "received": {"headers": {"PAYMENT-RESPONSE": settlement}, "body": {"nonce": NONCE}},
        "note": "0x1234 is too short to be anything",
    }
    assert identifiers(evidence) == {"job_0123456789abcdef01234567", "0x" + "ef" * 32, NONCE}


@settings(derandomize=True, deadline=None)
@given(
    st.recursive(
        st.none() | st.integers() | st.text(max_size=30),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(["payment-response", "x", "PAYMENT-REQUIRED"]), inner)
        ),
        max_leaves=10,
    )
)
def test_any_evidence_is_searched_without_failing(evidence: Any) -> None:
    assert all(name == name.lower() for name in identifiers(evidence))


def test_checks_link_to_the_entries_their_evidence_names() -> None:
    journal = Journal()
    decoded = [decode(e, ENDPOINT) for e in (recorded(journal), paid(journal))]
    index = evidence_index(decoded, Facts())
    assert index.by_identifier[NONCE] == [2]
    assert index.by_identifier["job_1"] == [2]
    assert index.by_identifier[TRANSACTION] == [2]
    naming = CheckResult(id="SRV-001", outcome="pass", evidence={"sent": {"payment": PAYMENT}})
    silent = CheckResult(id="SRV-002", outcome="fail", evidence={"note": "no identifiers"})
    assert linked_entries(naming, index) == [2]
    assert linked_entries(silent, index) == []


def test_a_report_as_conformance_writes_it_validates_and_others_do_not() -> None:
    written = {
        "target": "http://127.0.0.1:8402/v1/images/generate",
        "seconds": 1.5,
        "counts": {"MUST pass": 1},
        "details": {},
        "results": [
            {
                "id": "SRV-001",
                "role": "server",
                "level": "MUST",
                "title": "answers 402",
                "spec": "x402",
                "source": "spec",
                "outcome": "pass",
                "evidence": {"note": "ok"},
                "seconds": 0.1,
            }
        ],
    }
    report = ConformanceReport.model_validate(written)
    assert [r.id for r in report.results] == ["SRV-001"]
    for broken in ({"results": "none"}, {"target": "x"}, {"results": [{"outcome": "pass"}]}):
        with pytest.raises(ValidationError):
            ConformanceReport.model_validate(broken)
    json.dumps(report.model_dump())


def test_only_the_latest_reports_are_kept_newest_first() -> None:
    reports = Reports()
    for n in range(KEPT_REPORTS + 2):
        reports.add(f"run-{n}.json", ConformanceReport(results=[]))
    names = [upload.name for upload in reports.all()]
    assert names == [f"run-{n}.json" for n in reversed(range(2, KEPT_REPORTS + 2))]
    assert reports.count == KEPT_REPORTS + 2


def _quoted(url: str, body: Any, status: int, headers: dict[str, str] | None = None) -> dict:
    return {
        "sent": {"request": f"POST {url}", "headers": headers or {}, "body": body},
        "received": {"status": status, "headers": {}, "body": {}},
    }


def test_an_unpaid_request_quoted_whole_links_to_the_entries_it_matches() -> None:
    journal = Journal()
    body = {"model": "nano-banana-2", "prompt": "a fox"}
    entries = [
        recorded(journal),  # 1: the same request, 402
        recorded(journal, body="{}", status=400),  # 2: another body
        paid(journal, status=402),  # 3: the same request with a payment
        recorded(journal, query="a=1"),  # 4: another query
    ]
    index = evidence_index([decode(e, ENDPOINT) for e in entries], Facts())
    url = "http://127.0.0.1:8402" + ENDPOINT
    quoting = CheckResult(id="SRV-001", outcome="pass", evidence=_quoted(url, body, 402))
    assert linked_entries(quoting, index) == [1]
    nested = CheckResult(id="SRV-011", outcome="pass", evidence={"runs": [_quoted(url, {}, 400)]})
    assert linked_entries(nested, index) == [2]
    paying = _quoted(url, body, 402, {"PAYMENT-SIGNATURE": "eyJ4NDAy"})
    assert linked_entries(CheckResult(id="SRV-014", outcome="pass", evidence=paying), index) == []
