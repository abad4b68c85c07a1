"""Anvil specifics: finding and starting it, forks, state files, nonces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from facilitator_sim.chains import anvil as anvil_module
from facilitator_sim.chains.anvil import (
    AnvilNotFoundError,
    AnvilProcess,
    AnvilStartError,
    find_anvil,
)
from facilitator_sim.chains.base import ChainError
from facilitator_sim.chains.evm import GAS_LIMIT, EvmChain
from facilitator_sim.chains.factory import fund_test_wallets, open_chain
from facilitator_sim.chains.ledger import REVERT_USED
from tests.factories import PAY_TO, PRICE, TOKEN_DOMAIN, USDC, authorization
from x402_core.eip3009 import Authorization, cancel_digest, sign_authorization, sign_digest
from x402_core.wallets import STARTING_USDC_ATOMIC, facilitator_wallet, test_wallet

pytestmark = pytest.mark.anvil

PAYER = test_wallet(1)


def _signed(**changes: Any) -> tuple[Authorization, bytes]:
    auth = authorization(PAYER, **changes)
    return auth, sign_authorization(PAYER.private_key, TOKEN_DOMAIN, auth)


# ------------------------------------------------------------------ finding and starting Anvil


def test_anvil_bin_pointing_at_a_missing_file_is_named_in_the_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-anvil"
    monkeypatch.setenv("ANVIL_BIN", str(missing))

    with pytest.raises(AnvilNotFoundError, match="ANVIL_BIN") as raised:
        AnvilProcess.start()

    assert str(missing) in str(raised.value)


def test_an_explicit_binary_that_is_missing_is_an_error_too(tmp_path: Path) -> None:
    with pytest.raises(AnvilNotFoundError, match="anvil_bin argument"):
        find_anvil(tmp_path / "anvil")


def test_without_anvil_anywhere_the_error_says_where_it_looked_and_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ANVIL_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(anvil_module, "__file__", str(tmp_path / "pkg" / "anvil.py"))

    with pytest.raises(AnvilNotFoundError) as raised:
        find_anvil()

    message = str(raised.value)
    assert "npm install" in message
    assert "ANVIL_BIN" in message
    assert str(tmp_path / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil") in message


def test_the_projects_anvil_is_found_from_the_package_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ANVIL_BIN", raising=False)
    monkeypatch.chdir(tmp_path)
    project = Path(anvil_module.__file__).resolve().parents[2]

    assert find_anvil() == project / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"


def test_anvil_that_exits_at_start_up_raises_with_its_output() -> None:
    with pytest.raises(AnvilStartError, match="no-such-flag"):
        AnvilProcess.start(extra_args=["--no-such-flag"], startup_timeout=10)


def test_a_taken_port_is_reported(anvil: AnvilProcess) -> None:
    with pytest.raises(AnvilStartError, match="Address already in use"):
        AnvilProcess.start(port=anvil.port, startup_timeout=10)


def test_stop_ends_the_process_and_may_be_called_twice() -> None:
    process = AnvilProcess.start()
    process.stop()
    process.stop()

    with pytest.raises(ChainError):
        EvmChain(process.rpc_url, request_timeout=2)


# ------------------------------------------------------------------ EvmChain on Anvil


def test_settlement_gas_stays_well_under_the_fixed_limit(evm_chain: EvmChain) -> None:
    auth, signature = _signed(to="0x00000000000000000000000000000000000b0b01")  # new payee
    cancelled = authorization(PAYER)
    cancel_signature = sign_digest(
        PAYER.private_key, cancel_digest(TOKEN_DOMAIN, PAYER.address, cancelled.nonce)
    )

    transfer = evm_chain.submit_transfer(USDC, auth, signature)
    cancel = evm_chain.cancel_authorization(USDC, PAYER.address, cancelled.nonce, cancel_signature)

    for outcome in (transfer, cancel):
        receipt = evm_chain.rpc("eth_getTransactionReceipt", [outcome.tx_hash])
        assert int(receipt["gasUsed"], 16) < GAS_LIMIT // 2


def test_a_nonce_taken_by_another_sender_is_resynced(
    anvil: AnvilProcess, evm_chain: EvmChain
) -> None:
    assert evm_chain.submit_transfer(USDC, *_signed()).success
    other = EvmChain(anvil.rpc_url, facilitator_wallet().private_key)
    try:
        assert other.submit_transfer(USDC, *_signed()).success
    finally:
        other.close()

    # evm_chain's next nonce is now taken: the node says "nonce too low", it resyncs and sends.
    assert evm_chain.submit_transfer(USDC, *_signed()).success


def test_a_revert_under_a_live_chain_does_not_strand_its_next_transaction(
    evm_chain: EvmChain,
) -> None:
    snapshot = evm_chain.rpc("evm_snapshot", [])
    assert evm_chain.submit_transfer(USDC, *_signed()).success
    assert evm_chain.rpc("evm_revert", [snapshot])

    # Its local nonce is one ahead of the chain now: Anvil queues the transaction silently until
    # the gap is filled.
    auth, signature = _signed()
    outcome = evm_chain.submit_transfer(USDC, auth, signature)

    assert outcome.success
    assert evm_chain.balance_of(USDC, PAYER.address) == STARTING_USDC_ATOMIC - PRICE


def test_a_fork_sees_the_token_and_balances_and_settles_on_its_own(
    anvil: AnvilProcess, evm_chain: EvmChain
) -> None:
    assert evm_chain.submit_transfer(USDC, *_signed()).success

    with AnvilProcess.start(fork_url=anvil.rpc_url) as fork_process:
        fork = EvmChain(fork_process.rpc_url)
        try:
            assert fork.chain_id == 8453
            assert fork.install_token() is False
            assert fork.balance_of(USDC, PAYER.address) == STARTING_USDC_ATOMIC - PRICE
            assert fork.submit_transfer(USDC, *_signed()).success
            assert fork.balance_of(USDC, PAYER.address) == STARTING_USDC_ATOMIC - 2 * PRICE
        finally:
            fork.close()

    assert evm_chain.balance_of(USDC, PAYER.address) == STARTING_USDC_ATOMIC - PRICE


def test_the_state_file_keeps_balances_and_used_nonces_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "anvil-state.json"
    auth, signature = _signed()

    with open_chain("anvil", state_path=state) as first:
        assert first.chain.submit_transfer(USDC, auth, signature).success
    assert state.is_file()

    with AnvilProcess.start(state_path=state) as again:
        chain = EvmChain(again.rpc_url)
        try:
            assert chain.install_token() is False
            assert chain.balance_of(USDC, PAYER.address) == STARTING_USDC_ATOMIC - PRICE
            assert chain.balance_of(USDC, PAY_TO) == PRICE
            assert chain.authorization_used(USDC, PAYER.address, auth.nonce)
            replay = chain.submit_transfer(USDC, auth, signature)
            assert (replay.success, replay.error) == (False, REVERT_USED)
        finally:
            chain.close()


def test_open_chain_stops_the_anvil_it_started() -> None:
    with open_chain("anvil") as opened:
        assert opened.anvil is not None
        assert opened.token == USDC
        assert opened.chain.balance_of(USDC, PAYER.address) == STARTING_USDC_ATOMIC
        url = opened.anvil.rpc_url

    with pytest.raises(ChainError):
        EvmChain(url, request_timeout=2)


def test_open_chain_stops_anvil_when_set_up_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[AnvilProcess] = []
    real_start = AnvilProcess.start

    def start(**kwargs: Any) -> AnvilProcess:
        started.append(real_start(**kwargs))
        return started[-1]

    def fail(chain: object) -> list[object]:
        raise ChainError("funding failed")

    monkeypatch.setattr(AnvilProcess, "start", start)
    monkeypatch.setattr("facilitator_sim.chains.factory.fund_test_wallets", fail)

    with pytest.raises(ChainError, match="funding failed"):
        open_chain("anvil")

    with pytest.raises(ChainError):
        EvmChain(started[0].rpc_url, request_timeout=2)


def test_fund_test_wallets_funds_empty_wallets_and_keeps_others(evm_chain: EvmChain) -> None:
    other = test_wallet(2)
    evm_chain.set_balance(USDC, PAYER.address, 0)
    evm_chain.set_balance(USDC, other.address, 7)

    wallets = fund_test_wallets(evm_chain)

    assert [w.index for w in wallets] == list(range(1, 10))
    assert evm_chain.balance_of(USDC, PAYER.address) == STARTING_USDC_ATOMIC
    assert evm_chain.balance_of(USDC, other.address) == 7
