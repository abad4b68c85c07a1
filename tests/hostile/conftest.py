"""One mock and one facilitator on a funded ledger for the hostile suite, and what must not change.

Every hostile test ends by checking that no job, settlement or balance moved, that the default
scenario and the clock are as they were, and that both journals still read to the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from conformance.journal import read_journal
from facilitator_sim.app import create_app as create_facilitator_app
from facilitator_sim.chains.factory import fund_test_wallets
from facilitator_sim.chains.ledger import LedgerChain
from mock_server.app import create_app as create_mock_app
from mock_server.config import ServerSettings
from mock_server.state import ServerState
from tests.factories import PAY_TO, USDC
from x402_core.wallets import payer_wallets
from x402_service.serving import ServerThread


@dataclass
class Targets:
    chain: LedgerChain
    mock_url: str
    facilitator_url: str
    mock: ServerState

    def state(self) -> dict[str, Any]:
        """Everything a hostile request must leave as it was."""
        accounts = [PAY_TO, *(w.address for w in payer_wallets())]
        with httpx.Client(base_url=self.mock_url, timeout=30) as http:
            scenarios = http.get("/__mock__/scenarios").raise_for_status().json()
            health = http.get("/__mock__/health").raise_for_status().json()
        return {
            "jobs": len(self.mock.store.jobs()),
            "purchases": len(self.mock.store.purchases()),
            "balances": [self.chain.balance_of(USDC, account) for account in accounts],
            "scenario": scenarios["default"],
            "queued": scenarios["queued"],
            "clock": health["now"],
        }

    def journals(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Both journals, read page by page to the end (a 5xx or non-JSON page fails here)."""
        with (
            httpx.Client(base_url=self.mock_url + "/__mock__", timeout=30) as mock,
            httpx.Client(base_url=self.facilitator_url, timeout=30) as facilitator,
        ):
            return read_journal(mock), read_journal(facilitator)


@pytest.fixture(scope="module")
def targets() -> Iterator[Targets]:
    with ExitStack() as stack:
        chain = LedgerChain()
        fund_test_wallets(chain)
        facilitator = stack.enter_context(ServerThread(create_facilitator_app(chain)))
        app = create_mock_app(ServerSettings(facilitator_url=facilitator.url, clock="test"))
        mock = stack.enter_context(ServerThread(app))
        yield Targets(chain, mock.url, facilitator.url, app.state.mock)


@pytest.fixture
def unchanged(targets: Targets) -> Iterator[Targets]:
    """The targets; after the test, their state is what it was before it."""
    before = targets.state()
    yield targets
    targets.journals()
    assert targets.state() == before
