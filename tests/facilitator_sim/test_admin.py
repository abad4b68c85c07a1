"""The facilitator's admin API over real HTTP: balances read and set, bad input refused with 400."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facilitator_sim.admin import MAX_ADDRESSES, MAX_AMOUNT_EXCLUSIVE
from facilitator_sim.app import create_app
from facilitator_sim.chains.base import Chain
from facilitator_sim.chains.ledger import LedgerChain
from tests.factories import USDC
from x402_core.wallets import STARTING_USDC_ATOMIC, test_wallet
from x402_service.serving import ServerThread

FUNDED = test_wallet(1)
FRESH = test_wallet(150)


JSON = {"content-type": "application/json"}
"""Admin requests with a body send it as JSON (others are refused before they are read)."""


@pytest.fixture
def admin(chain: Chain) -> Iterator[httpx.Client]:
    with (
        ServerThread(create_app(chain)) as server,
        httpx.Client(base_url=server.url + "/__facilitator__") as http,
    ):
        yield http


def test_balances_of_several_addresses(admin: httpx.Client) -> None:
    answer = admin.get("/balances", params={"address": [FUNDED.address, FRESH.address]})
    assert answer.status_code == 200
    assert answer.json() == {
        "asset": USDC,
        "balances": {FUNDED.address: STARTING_USDC_ATOMIC, FRESH.address: 0},
    }


def test_fund_sets_the_balance_on_the_chain(admin: httpx.Client, chain: Chain) -> None:
    answer = admin.post("/fund", json={"address": FRESH.address, "amount": 1234})
    assert answer.status_code == 200
    assert answer.json() == {"asset": USDC, "address": FRESH.address, "balance": 1234}
    assert chain.balance_of(USDC, FRESH.address) == 1234
    admin.post("/fund", json={"address": FRESH.address, "amount": 0}).raise_for_status()
    assert chain.balance_of(USDC, FRESH.address) == 0


@pytest.mark.parametrize(
    "addresses",
    [[], ["0x1234"], [FUNDED.address, "not an address"], [FUNDED.address] * (MAX_ADDRESSES + 1)],
    ids=["none", "short", "one-bad", "too-many"],
)
def test_bad_balance_queries_are_400(admin: httpx.Client, addresses: list[str]) -> None:
    answer = admin.get("/balances", params={"address": addresses})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert "address" in answer.json()["message"]


@pytest.fixture(scope="module")
def ledger_admin() -> Iterator[tuple[httpx.Client, LedgerChain]]:
    chain = LedgerChain()
    with (
        ServerThread(create_app(chain)) as server,
        httpx.Client(base_url=server.url + "/__facilitator__", headers=JSON) as http,
    ):
        yield http, chain


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "text/plain"},
        {"content-type": "application/x-www-form-urlencoded"},
        {"origin": "https://attacker.example", **{"content-type": "application/json"}},
        {"host": "attacker.example", **{"content-type": "application/json"}},
    ],
)
def test_a_cross_site_or_rebound_fund_request_changes_nothing(
    ledger_admin: tuple[httpx.Client, LedgerChain], headers: dict[str, str]
) -> None:
    http, chain = ledger_admin
    body = json.dumps({"address": FRESH.address, "amount": 5})
    answer = http.post("/fund", content=body, headers=headers)
    assert answer.status_code in (403, 415)
    assert chain.balance_of(USDC, FRESH.address) == 0


BAD_BODIES: list[Any] = [
    {"address": FRESH.address, "amount": -1},
    {"address": FRESH.address, "amount": MAX_AMOUNT_EXCLUSIVE},
    {"address": FRESH.address, "amount": "5"},
    {"address": FRESH.address, "amount": 1.5},
    {"address": FRESH.address, "amount": True},
    {"address": FRESH.address},
    {"amount": 5},
    {"address": FRESH.address[:-1], "amount": 5},
    {"address": FRESH.address, "amount": 5, "asset": USDC},
    [FRESH.address, 5],
    "fund me",
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_fund_requests_are_400_and_change_nothing(
    ledger_admin: tuple[httpx.Client, LedgerChain], body: Any
) -> None:
    http, chain = ledger_admin
    chain.set_balance(USDC, FRESH.address, 77)
    answer = http.post("/fund", content=json.dumps(body))
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_request"
    assert chain.balance_of(USDC, FRESH.address) == 77


def test_a_body_that_is_not_json_is_400(ledger_admin: tuple[httpx.Client, LedgerChain]) -> None:
    http, _ = ledger_admin
    assert http.post("/fund", content=b"\xff{").status_code == 400
    assert http.post("/fund", content=b"{" * 5000).status_code == 400


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amount=st.integers(min_value=-(2**100), max_value=2**100))
def test_amounts_within_range_are_set_and_others_refused(
    ledger_admin: tuple[httpx.Client, LedgerChain], amount: int
) -> None:
    http, chain = ledger_admin
    chain.set_balance(USDC, FRESH.address, 77)
    answer = http.post("/fund", json={"address": FRESH.address, "amount": amount})
    if 0 <= amount < MAX_AMOUNT_EXCLUSIVE:
        assert answer.status_code == 200
        assert chain.balance_of(USDC, FRESH.address) == amount
    else:
        assert answer.status_code == 400
        assert chain.balance_of(USDC, FRESH.address) == 77
