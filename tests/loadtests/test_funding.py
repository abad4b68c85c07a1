"""The load wallets on a target: funded through a harness facilitator's admin API, and a clear
one-line message when the facilitator is not one or does not answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from facilitator_sim.app import create_app
from facilitator_sim.chains.ledger import LedgerChain
from loadtests.funding import facilitator_named_by, fund_wallets
from loadtests.wallets import pool
from tests.factories import USDC
from x402_service.serving import ServerThread, free_port

WALLETS = pool(100, 150)
"""More than one balances request holds."""
AMOUNT = 1_000 * 10**6


@pytest.fixture
def ledger() -> LedgerChain:
    return LedgerChain()


@pytest.fixture
def facilitator(ledger: LedgerChain) -> Iterator[str]:
    with ServerThread(create_app(ledger)) as server:
        yield server.url


def test_wallets_short_of_the_amount_are_funded_and_others_left_alone(
    facilitator: str, ledger: LedgerChain
) -> None:
    ledger.set_balance(USDC, WALLETS[0].address, AMOUNT * 3)
    ledger.set_balance(USDC, WALLETS[1].address, AMOUNT - 1)
    funding = fund_wallets(facilitator, WALLETS, AMOUNT)
    assert funding.ok, funding.message
    assert "149 funded with 1000 USDC each, 1 already held" in funding.message
    assert ledger.balance_of(USDC, WALLETS[0].address) == AMOUNT * 3
    assert all(ledger.balance_of(USDC, w.address) == AMOUNT for w in WALLETS[1:])
    again = fund_wallets(facilitator, WALLETS, AMOUNT)
    assert "0 funded" in again.message


def _not_ours() -> Starlette:
    async def health(request: object) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/health", health)])


def test_a_facilitator_without_the_admin_api_is_said_so() -> None:
    with ServerThread(_not_ours()) as server:
        funding = fund_wallets(server.url, WALLETS[:3], AMOUNT)
        assert facilitator_named_by(server.url) is None
    assert not funding.ok
    assert "404: not a harness facilitator; fund the load wallets yourself" in funding.message
    assert "\n" not in funding.message


def test_a_facilitator_that_does_not_answer_is_said_so() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    funding = fund_wallets(url, WALLETS[:3], AMOUNT, timeout=2)
    assert not funding.ok
    assert f"nothing answers at {url}/__facilitator__" in funding.message


def test_the_facilitator_named_by_the_admin_health() -> None:
    async def health(request: object) -> JSONResponse:
        return JSONResponse({"status": "ok", "facilitator_url": "http://127.0.0.1:4021"})

    with ServerThread(Starlette(routes=[Route("/__mock__/health", health)])) as server:
        assert facilitator_named_by(server.url + "/__mock__") == "http://127.0.0.1:4021"
