"""Chain fixtures: one Anvil per test session (per xdist worker), reset to a snapshot per test."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from facilitator_sim.app import create_app
from facilitator_sim.chains.anvil import AnvilProcess
from facilitator_sim.chains.base import Chain
from facilitator_sim.chains.evm import EvmChain
from facilitator_sim.chains.factory import fund_test_wallets
from facilitator_sim.chains.ledger import LedgerChain
from tests.factories import USDC
from x402_core.wallets import test_wallet
from x402_service.serving import ServerThread


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilProcess]:
    """A local Anvil with Base's chain id. A missing binary errors the tests that need it (the
    session fails, never skips): `make test` installs Anvil, so its absence is a broken set-up."""
    with AnvilProcess.start(chain_id=8453) as process:
        yield process


@pytest.fixture(scope="session")
def evm_snapshot(anvil: AnvilProcess) -> dict[str, str]:
    """The id of the latest snapshot of the set-up chain (token installed, payers funded).
    Anvil's snapshots are single-use, so each test replaces it after reverting to it."""
    chain = EvmChain(anvil.rpc_url)
    try:
        chain.install_token()
        fund_test_wallets(chain)
        return {"id": chain.rpc("evm_snapshot", [])}
    finally:
        chain.close()


@pytest.fixture
def evm_chain(anvil: AnvilProcess, evm_snapshot: dict[str, str]) -> Iterator[EvmChain]:
    """A fresh EvmChain on the set-up state, whatever earlier tests did to the chain."""
    chain = EvmChain(anvil.rpc_url)
    try:
        if not chain.rpc("evm_revert", [evm_snapshot["id"]]):
            raise RuntimeError(f"evm_revert to snapshot {evm_snapshot['id']} failed")
        # evm_revert also takes the clock back to the snapshot's time; now() assumes wall time.
        chain.rpc("evm_setTime", [int(time.time())])
        evm_snapshot["id"] = chain.rpc("evm_snapshot", [])
        yield chain
    finally:
        chain.close()


@pytest.fixture
def ledger_chain() -> LedgerChain:
    chain = LedgerChain(8453)
    fund_test_wallets(chain)
    return chain


@pytest.fixture
def ledger() -> LedgerChain:
    """A bare ledger where only test wallet 1 has money (10**9 atomic units)."""
    chain = LedgerChain()
    chain.set_balance(USDC, test_wallet(1).address, 10**9)
    return chain


@pytest.fixture
def client(ledger: LedgerChain) -> Iterator[httpx.Client]:
    """A facilitator on `ledger`, served over real HTTP, and a client of it."""
    with ServerThread(create_app(ledger)) as server, httpx.Client(base_url=server.url) as http:
        yield http


@pytest.fixture(params=["ledger", pytest.param("evm", marks=pytest.mark.anvil)])
def chain(request: pytest.FixtureRequest) -> Chain:
    """The same test on the embedded ledger and on Anvil."""
    backend: Chain = request.getfixturevalue(f"{request.param}_chain")
    return backend
