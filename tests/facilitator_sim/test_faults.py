"""Facilitator faults over real HTTP: each changes the answer or its timing, never the money."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facilitator_sim.app import create_app
from facilitator_sim.chains.ledger import LedgerChain
from facilitator_sim.faults import (
    MAX_COUNT,
    MAX_SECONDS,
    FacilitatorFault,
    FaultRequest,
    Faults,
)
from tests.factories import PAY_TO, PRICE, USDC, verify_body
from x402_core.reasons import Reason
from x402_core.wallets import test_wallet
from x402_service.serving import ServerThread

PAYER = test_wallet(1)
JSON = {"Content-Type": "application/json"}
FAULTS = "/__facilitator__/faults"


def _arm(client: httpx.Client, **fault: Any) -> dict[str, Any]:
    answer = client.post(FAULTS, json=fault)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _settled_again(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    """A repeated settle with no fault armed: the transaction the first one made."""
    client.delete(FAULTS).raise_for_status()
    again = client.post("/settle", json=body)
    assert again.status_code == 200
    return again.json()


@pytest.mark.parametrize(
    ("fault", "status", "content_type"),
    [
        ("error_after_settle", 500, "text/plain"),
        ("html_after_settle", 502, "text/html"),
        ("truncated_after_settle", 200, "application/json"),
    ],
)
def test_a_garbled_answer_hides_a_real_settlement(
    client: httpx.Client, ledger: LedgerChain, fault: str, status: int, content_type: str
) -> None:
    _arm(client, settle=fault, count=1)
    body = verify_body()
    answer = client.post("/settle", json=body)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith(content_type)
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.content)
    assert ledger.balance_of(USDC, PAY_TO) == PRICE
    again = _settled_again(client, body)
    assert again["success"] is True
    assert ledger.balance_of(USDC, PAY_TO) == PRICE, "the repeat made no second transfer"
    applied = client.get(FAULTS).json()["applied"]
    assert [(a["fault"], a["status"]) for a in applied] == [(fault, status)]
    assert applied[0]["settlement"]["transaction"] == again["transaction"]
    assert applied[0]["nonce"] == body["paymentPayload"]["payload"]["authorization"]["nonce"]


def test_pending_names_the_real_transaction_and_a_repeat_reports_it_settled(
    client: httpx.Client, ledger: LedgerChain
) -> None:
    _arm(client, settle="pending")
    body = verify_body(1)
    pending = client.post("/settle", json=body).json()
    assert pending["success"] is False
    assert pending["errorReason"] == Reason.SETTLEMENT_PENDING
    assert pending["network"] == "base"
    assert ledger.balance_of(USDC, PAY_TO) == PRICE
    assert client.post("/settle", json=body).json() == pending, "armed until cleared"
    again = _settled_again(client, body)
    assert again["success"] is True
    assert again["transaction"] == pending["transaction"]
    assert ledger.balance_of(USDC, PAY_TO) == PRICE


def test_a_timeout_after_broadcast_times_the_caller_out_after_the_transfer(
    client: httpx.Client, ledger: LedgerChain
) -> None:
    _arm(client, settle="timeout_after_broadcast", count=1, seconds=0.3)
    body = verify_body()
    with pytest.raises(httpx.ReadTimeout):
        client.post("/settle", json=body, timeout=0.3)
    assert ledger.balance_of(USDC, PAY_TO) == PRICE
    again = _settled_again(client, body)
    assert again["success"] is True
    assert ledger.balance_of(USDC, PAY_TO) == PRICE


def test_slow_delays_verify_and_settle_then_behaves(
    client: httpx.Client, ledger: LedgerChain
) -> None:
    _arm(client, settle="slow", seconds=0.5)
    body = verify_body()
    with pytest.raises(httpx.ReadTimeout):
        client.post("/verify", json=body, timeout=0.2)
    assert client.post("/verify", json=body, timeout=5).json()["isValid"] is True
    assert client.post("/settle", json=body, timeout=5).json()["success"] is True
    assert ledger.balance_of(USDC, PAY_TO) == PRICE


def test_a_refused_settle_passes_through_and_keeps_the_fault_armed(
    client: httpx.Client, ledger: LedgerChain
) -> None:
    _arm(client, settle="error_after_settle", count=1)
    broke = test_wallet(150)
    refused = client.post("/settle", json=verify_body(wallet=broke))
    assert refused.status_code == 200
    assert refused.json()["errorReason"] == Reason.INSUFFICIENT_FUNDS
    assert client.get(FAULTS).json()["armed"] == [
        {"settle": "error_after_settle", "seconds": 0.0, "remaining": 1}
    ]
    assert client.post("/settle", json=verify_body()).status_code == 500
    assert client.get(FAULTS).json()["armed"] == []


def test_faults_apply_in_the_order_armed_for_their_count(client: httpx.Client) -> None:
    _arm(client, settle="error_after_settle", count=2)
    view = _arm(client, settle="pending", count=1)
    assert [a["settle"] for a in view["armed"]] == ["error_after_settle", "pending"]
    statuses = [client.post("/settle", json=verify_body()) for _ in range(4)]
    assert [s.status_code for s in statuses] == [500, 500, 200, 200]
    assert statuses[2].json()["errorReason"] == Reason.SETTLEMENT_PENDING
    assert statuses[3].json()["success"] is True
    assert client.get(FAULTS).json()["armed"] == []


def test_delete_clears_every_fault(client: httpx.Client) -> None:
    _arm(client, settle="html_after_settle")
    _arm(client, settle="slow", seconds=0.01)
    assert client.delete(FAULTS).json()["armed"] == []
    assert client.post("/settle", json=verify_body()).json()["success"] is True


def test_the_journal_records_the_faulty_answer(client: httpx.Client) -> None:
    _arm(client, settle="error_after_settle", count=1)
    client.post("/settle", json=verify_body())
    settles = [e for e in client.get("/journal").json()["entries"] if e["path"] == "/settle"]
    assert [e["status"] for e in settles] == [500]


BAD_FAULTS: list[Any] = [
    {},
    {"settle": "explode"},
    {"settle": "pending", "count": 0},
    {"settle": "pending", "count": MAX_COUNT + 1},
    {"settle": "pending", "count": "2"},
    {"settle": "pending", "count": 1.5},
    {"settle": "slow", "seconds": 0},
    {"settle": "slow", "seconds": MAX_SECONDS + 1},
    {"settle": "slow", "seconds": "1"},
    {"settle": "pending", "seconds": 1},
    {"settle": "pending", "verify": "slow"},
    ["pending"],
    "pending",
]


@pytest.mark.parametrize("body", BAD_FAULTS)
def test_bad_fault_requests_are_400_and_arm_nothing(client: httpx.Client, body: Any) -> None:
    answer = client.post(FAULTS, content=json.dumps(body), headers=JSON)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_request"
    assert "expected" in answer.json()["message"]
    assert client.get(FAULTS).json()["armed"] == []


def test_bodies_that_are_not_json_or_too_big_are_400(client: httpx.Client) -> None:
    assert client.post(FAULTS, content=b"\xff{", headers=JSON).status_code == 400
    assert client.post(FAULTS, content=b"{" * 5000, headers=JSON).status_code == 400
    assert client.get(FAULTS).json()["armed"] == []


@pytest.fixture(scope="module")
def shared_client() -> Iterator[httpx.Client]:
    with (
        ServerThread(create_app(LedgerChain())) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        yield http


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fault=st.sampled_from([*FacilitatorFault, "other"]),
    count=st.one_of(
        st.none(),
        st.integers(-3, MAX_COUNT + 3),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    seconds=st.one_of(st.none(), st.floats(-1, MAX_SECONDS + 1, allow_nan=False)),
)
def test_a_fault_is_armed_exactly_when_its_request_is_valid(
    shared_client: httpx.Client, fault: str, count: Any, seconds: float | None
) -> None:
    shared_client.delete(FAULTS).raise_for_status()
    body = {"settle": fault, "count": count, "seconds": seconds}
    answer = shared_client.post(FAULTS, json={k: v for k, v in body.items() if v is not None})
    takes_seconds = fault in ("timeout_after_broadcast", "slow")
    valid = (
        fault in set(FacilitatorFault)
        and (count is None or (type(count) is int and 1 <= count <= MAX_COUNT))
        and (seconds is None or (takes_seconds and 0 < seconds <= MAX_SECONDS))
    )
    assert answer.status_code == (200 if valid else 400), answer.text
    armed = shared_client.get(FAULTS).json()["armed"]
    assert len(armed) == (1 if valid else 0)
    if valid:
        assert armed[0]["remaining"] == count


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.integers(1, 4), max_size=5),
    last_until_cleared=st.booleans(),
    settles=st.integers(0, 25),
)
def test_armed_faults_apply_in_order_each_for_its_count(
    counts: list[int], last_until_cleared: bool, settles: int
) -> None:
    faults = Faults()
    kinds = list(FacilitatorFault)
    wanted = [(kinds[i % len(kinds)], count) for i, count in enumerate(counts)]
    for fault, count in wanted:
        faults.arm(FaultRequest(settle=fault, count=count))
    if last_until_cleared:
        faults.arm(FaultRequest(settle=FacilitatorFault.PENDING))
    applied = []
    for _ in range(settles):
        armed = faults.head()
        if armed is not None and faults.take(armed):
            applied.append(armed.fault)
    expected = [fault for fault, count in wanted for _ in range(count)]
    expected += [FacilitatorFault.PENDING] * (settles if last_until_cleared else 0)
    assert applied == expected[:settles]
    left = faults.view()["armed"]
    assert sum(a["remaining"] or 0 for a in left) == max(0, sum(counts) - settles)
    faults.clear()
    assert faults.head() is None


def test_every_fault_is_in_the_facilitator_doc() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "facilitator.md").read_text()
    for fault in FacilitatorFault:
        assert f"| `{fault.value}` |" in doc, f"docs/facilitator.md does not describe {fault}"
