"""A mock world per test: a funded ledger, the real facilitator and the mock, over real HTTP."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from facilitator_sim.app import create_app as create_facilitator_app
from facilitator_sim.chains.factory import fund_test_wallets
from facilitator_sim.chains.ledger import LedgerChain
from mock_server.app import create_app
from mock_server.config import ServerSettings
from mock_server.purchases import PurchaseState
from mock_server.state import ServerState
from tests.factories import PAY_TO, USDC
from x402_core.headers import (
    PAYMENT_REQUIRED,
    PAYMENT_SIGNATURE,
    X_PAYMENT,
    decode_header,
    encode_header,
)
from x402_core.models import PaymentRequiredV1, PaymentRequiredV2
from x402_core.payments import pay_v1, pay_v2
from x402_core.wallets import TestWallet, test_wallet
from x402_service.serving import ServerThread

BODY = {"model": "nano-banana-2", "prompt": "a red fox in snow"}


@dataclass
class World:
    chain: LedgerChain
    url: str
    http: httpx.Client
    state: ServerState

    def offer(self, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post("/v1/images/generate", json=body or BODY)

    def payment_header(
        self, version: int = 2, wallet: TestWallet | None = None, **kwargs: Any
    ) -> dict[str, str]:
        """A fresh signed payment for the current offer, as the header of its version."""
        wallet = wallet or test_wallet(1)
        answer = self.offer()
        if version == 2:
            offer = decode_header(answer.headers[PAYMENT_REQUIRED], PaymentRequiredV2)
            payload = pay_v2(offer.accepts[0], wallet.private_key, wallet.address, **kwargs)
            return {PAYMENT_SIGNATURE: encode_header(payload)}
        offer_v1 = PaymentRequiredV1.model_validate(answer.json())
        payload_v1 = pay_v1(offer_v1.accepts[0], wallet.private_key, wallet.address, **kwargs)
        return {X_PAYMENT: encode_header(payload_v1)}

    def pay(
        self,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        version: int = 2,
        **extra_headers: str,
    ) -> httpx.Response:
        headers = headers or self.payment_header(version)
        return self.http.post(
            "/v1/images/generate", json=body or BODY, headers={**headers, **extra_headers}
        )

    def charged(self) -> int:
        return self.chain.balance_of(USDC, PAY_TO)

    def assert_invariants(self) -> None:
        """No job without a settlement, no settlement without a job, each charged once."""
        jobs = self.state.store.jobs()
        settled = self.state.store.purchases(frozenset({PurchaseState.SETTLED}))
        assert {p.job_id for p in settled} == {j.id for j in jobs}
        assert len(settled) == len(jobs)
        assert self.charged() == 50_000 * len(jobs)


@pytest.fixture
def make_world() -> Iterator[Callable[..., World]]:
    with ExitStack() as stack:

        def make(**settings: Any) -> World:
            chain = LedgerChain()
            fund_test_wallets(chain)
            facilitator = stack.enter_context(ServerThread(create_facilitator_app(chain)))
            server_settings = dataclasses.replace(
                ServerSettings(facilitator_url=facilitator.url), **settings
            )
            app = create_app(server_settings)
            server = stack.enter_context(ServerThread(app))
            http = stack.enter_context(httpx.Client(base_url=server.url, timeout=30))
            return World(chain, server.url, http, app.state.mock)

        yield make


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world()
