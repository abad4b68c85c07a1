"""The facilitator over real HTTP: answers, bad input never a 5xx, at-most-once settlement."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facilitator_sim.app import create_app
from facilitator_sim.chains.base import Chain
from facilitator_sim.chains.ledger import LedgerChain
from facilitator_sim.config import FacilitatorSettings
from tests.factories import PAY_TO, PRICE, USDC, verify_body
from x402_core.eip3009 import Domain
from x402_core.reasons import Reason
from x402_core.wallets import facilitator_wallet, test_wallet
from x402_service.serving import ServerThread

PAYER = test_wallet(1)


def test_supported_lists_both_versions_and_the_signer(client: httpx.Client) -> None:
    answer = client.get("/supported").json()
    kinds = {(k["x402Version"], k["scheme"], k["network"]) for k in answer["kinds"]}
    assert kinds == {(1, "exact", "base"), (2, "exact", "eip155:8453")}
    assert answer["signers"] == {"eip155:*": [facilitator_wallet().address]}


def test_health_names_the_chain(client: httpx.Client) -> None:
    assert client.get("/health").json()["chain"] == "ledger"


@pytest.mark.parametrize("version", [1, 2])
def test_verify_then_settle_moves_the_price_once(
    client: httpx.Client, ledger: LedgerChain, version: int
) -> None:
    body = verify_body(version)
    assert client.post("/verify", json=body).json() == {"isValid": True, "payer": PAYER.address}
    assert ledger.balance_of(USDC, PAY_TO) == 0
    settled = client.post("/settle", json=body).json()
    assert settled["success"] is True
    assert settled["network"] == ("base" if version == 1 else "eip155:8453")
    assert settled["transaction"].startswith("0x")
    again = client.post("/settle", json=body).json()
    assert again == settled, "a repeated settle reports the transaction already made"
    assert ledger.balance_of(USDC, PAY_TO) == PRICE
    replay = client.post("/verify", json=body).json()
    assert (replay["isValid"], replay["invalidReason"]) == (False, Reason.NONCE_ALREADY_USED)


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"{", 400, Reason.INVALID_PAYLOAD),
        (b"[]", 400, Reason.INVALID_PAYLOAD),
        (b'{"x402Version": 7}', 200, Reason.INVALID_X402_VERSION),
        (b'{"x402Version": 2}', 400, Reason.INVALID_PAYLOAD),
        (b"\xff\xfe", 400, Reason.INVALID_PAYLOAD),
    ],
)
def test_malformed_bodies_get_a_reason(
    client: httpx.Client, body: bytes, status: int, reason: Reason
) -> None:
    verify = client.post("/verify", content=body)
    assert (verify.status_code, verify.json()["isValid"], verify.json()["invalidReason"]) == (
        status,
        False,
        reason,
    )
    settle = client.post("/settle", content=body)
    assert (settle.status_code, settle.json()["success"], settle.json()["errorReason"]) == (
        status,
        False,
        reason,
    )


def test_requirements_errors_are_named_as_such(client: httpx.Client) -> None:
    body = verify_body(2)
    body["paymentRequirements"]["amount"] = "0050000"
    answer = client.post("/verify", json=body)
    assert answer.status_code == 400
    assert answer.json()["invalidReason"] == Reason.INVALID_PAYMENT_REQUIREMENTS
    assert "amount" in answer.json()["invalidMessage"]


def test_mixed_version_fields_are_refused(client: httpx.Client) -> None:
    body = verify_body(1)
    body["paymentRequirements"]["amount"] = "50000"
    assert client.post("/verify", json=body).status_code == 400
    body = verify_body(2)
    body["paymentPayload"]["x402Version"] = 1
    assert client.post("/verify", json=body).status_code == 400


def test_huge_numbers_and_oversized_bodies(ledger: LedgerChain) -> None:
    small = FacilitatorSettings(max_body_bytes=2048)
    with (
        ServerThread(create_app(ledger, small)) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        body = verify_body(2)
        body["paymentPayload"]["payload"]["authorization"]["value"] = str(2**256)
        answer = client.post("/verify", json=body)
        assert answer.status_code == 400
        assert "uint256" in answer.json()["invalidMessage"]
        answer = client.post("/verify", content=b"{" + b" " * 4096 + b"}")
        assert answer.status_code == 400
        assert "2048" in answer.json()["invalidMessage"]


# --- fuzz: thousands of bad bodies, never a 5xx, never a change of state -----------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    return found


def _replace(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(body))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy


# Signed under another chain's domain: whatever else the fuzz changes, this can never settle.
_UNSETTLEABLE = verify_body(2, domain=Domain("USD Coin", "2", 1, USDC))
_FIELD_PATHS = _paths(_UNSETTLEABLE)


@st.composite
def bad_bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["replace", "drop", "raw", "json"]))
    if kind == "raw":
        return draw(st.binary(max_size=200))
    if kind == "json":
        return json.dumps(draw(_json_values)).encode()
    path = draw(st.sampled_from(_FIELD_PATHS))
    if kind == "drop":
        body = json.loads(json.dumps(_UNSETTLEABLE))
        node = body
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
        return json.dumps(body).encode()
    return json.dumps(_replace(_UNSETTLEABLE, path, draw(_json_values))).encode()


def test_fuzzed_bodies_never_5xx_and_change_nothing(
    client: httpx.Client, ledger: LedgerChain
) -> None:
    @settings(max_examples=1500, deadline=None)
    @given(body=bad_bodies(), endpoint=st.sampled_from(["/verify", "/settle"]))
    def check(body: bytes, endpoint: str) -> None:
        answer = client.post(endpoint, content=body)
        assert answer.status_code in (200, 400), answer.text
        data = answer.json()
        assert data.get("isValid", data.get("success")) is False
        assert data.get("invalidReason", data.get("errorReason"))
        assert ledger.balance_of(USDC, PAY_TO) == 0
        assert ledger.balance_of(USDC, PAYER.address) == 10**9

    check()


# --- at most once, also when 50 identical settles arrive together, on both backends ------------


def test_fifty_simultaneous_settles_of_one_authorization_settle_once(chain: Chain) -> None:
    """Every answer reports the one transaction that moved the money (or that it is pending)."""
    body = verify_body(2)
    before = chain.balance_of(USDC, PAY_TO)
    with ServerThread(create_app(chain)) as server, httpx.Client(base_url=server.url) as http:

        def settle(_: int) -> dict[str, Any]:
            return http.post("/settle", json=body, timeout=60).json()

        with ThreadPoolExecutor(max_workers=50) as pool:
            answers = list(pool.map(settle, range(50)))
    transactions = {a["transaction"] for a in answers if a["success"]}
    assert len(transactions) == 1
    others = {(a["errorReason"], a["transaction"]) for a in answers if not a["success"]}
    assert others <= {(Reason.SETTLEMENT_PENDING, tx) for tx in (*transactions, "")}
    assert chain.balance_of(USDC, PAY_TO) - before == PRICE
