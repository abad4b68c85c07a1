"""Reading `settlement_pending` answers and what a client sent after them, from journal entries."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance.client.pending import is_pending, pending_payment
from conformance.client.runner import ClientRun
from conformance.client.session import ScenarioRun
from x402_core.headers import encode_json_header

PATH = "/v1/images/generate"
REASONS = st.sampled_from(["settlement_pending", "facilitator_unavailable", "", "pending"])


def _entry(
    status: int, body: Any = None, headers: dict[str, str] | None = None, nonce: str = "0x01"
) -> dict[str, Any]:
    payment = {"x402Version": 2, "payload": {"authorization": {"nonce": nonce}}}
    return {
        "method": "POST",
        "path": PATH,
        "time": 0.0,
        "headers": {"payment-signature": "x"},
        "body": '{"prompt": "p"}',
        "payment": payment,
        "status": status,
        "response_headers": headers or {},
        "response_body": "" if body is None else json.dumps(body),
    }


@given(
    status=st.sampled_from([200, 402, 500, 503]),
    body_reason=st.one_of(st.none(), REASONS),
    header_reason=st.one_of(st.none(), REASONS),
    header_name=st.sampled_from(["payment-response", "x-payment-response"]),
)
def test_a_pending_answer_is_a_503_naming_settlement_pending_in_body_or_header(
    status: int, body_reason: str | None, header_reason: str | None, header_name: str
) -> None:
    body = None if body_reason is None else {"error": body_reason}
    headers = {}
    if header_reason is not None:
        settlement = {"success": False, "errorReason": header_reason, "transaction": ""}
        headers[header_name] = encode_json_header(settlement)
    named = "settlement_pending" in (body_reason, header_reason)
    assert is_pending(_entry(status, body, headers)) is (status == 503 and named)


@given(body=st.one_of(st.text(max_size=30), st.binary(max_size=30).map(repr)))
def test_unreadable_answers_are_not_pending(body: str) -> None:
    entry = _entry(503, headers={"payment-response": "%% not base64"})
    entry["response_body"] = body
    assert is_pending(entry) is False


def _run(*entries: dict[str, Any]) -> ScenarioRun:
    return ScenarioRun(
        "settle_pending", 20.0, ClientRun(True, None, 0, False, 1.0), list(entries), PATH
    )


def test_what_followed_the_first_pending_answer() -> None:
    pending = {"error": "settlement_pending"}
    first = _entry(503, pending)
    again = _entry(200, {"id": "job"})
    other = _entry(503, pending, nonce="0x02")
    found = pending_payment(_run(_entry(402, {}), first, again, other))
    assert found is not None
    assert found.entry is first
    assert found.resent() == [again]
    assert found.other_authorizations() == ["0x02"]
    assert pending_payment(_run(_entry(200, {"id": "job"}))) is None
