"""Settlement under uncertainty: a receipt that comes late, a restart, a chain that forgot.

The facilitator answers `settlement_pending` with the transaction it sent when the receipt wait
runs out, reports that transaction again on a repeated settle instead of sending another, and
keeps its records (and the ledger) in a file across restarts.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from facilitator_sim.case import PaymentCase, case_from_request
from facilitator_sim.chains.anvil import AnvilProcess
from facilitator_sim.chains.base import Chain
from facilitator_sim.chains.evm import EvmChain
from facilitator_sim.chains.factory import fund_test_wallets
from facilitator_sim.chains.ledger import LedgerChain
from facilitator_sim.requests import parse_request
from facilitator_sim.rules import Policy
from facilitator_sim.service import Facilitator
from facilitator_sim.settlements import (
    MemoryRecords,
    SettlementRecord,
    SettlementRecords,
    SettlementState,
    SqliteRecords,
    authorization_key,
)
from tests.factories import PAY_TO, PRICE, USDC, authorization, verify_body
from x402_core.reasons import Reason
from x402_core.wallets import facilitator_wallet, test_wallet

PAYER = test_wallet(1)


def _facilitator(
    chain: Chain, records: SettlementRecords | None = None, timeout: float = 20.0
) -> Facilitator:
    policy = Policy(receipt_timeout_seconds=timeout)
    return Facilitator(chain, facilitator_wallet().address, policy, records=records)


def _settle(facilitator: Facilitator, body: dict) -> dict:
    return facilitator.settle(parse_request(json.dumps(body).encode())).wire()


def _verify(facilitator: Facilitator, body: dict) -> dict:
    return facilitator.verify(parse_request(json.dumps(body).encode())).wire()


@pytest.fixture
def slow_mining(evm_chain: EvmChain) -> Iterator[EvmChain]:
    """Anvil mining a block every 2 s instead of on every transaction."""
    evm_chain.rpc("evm_setAutomine", [False])
    evm_chain.rpc("evm_setIntervalMining", [2])
    try:
        yield evm_chain
    finally:
        evm_chain.rpc("evm_setIntervalMining", [0])
        evm_chain.rpc("evm_setAutomine", [True])
        evm_chain.rpc("evm_mine", [])


@pytest.mark.anvil
def test_a_receipt_slower_than_the_wait_is_pending_then_reported_once(
    slow_mining: EvmChain,
) -> None:
    facilitator = _facilitator(slow_mining, timeout=0.2)
    body = verify_body(2)
    before = slow_mining.balance_of(USDC, PAY_TO)
    first = _settle(facilitator, body)
    assert (first["success"], first["errorReason"]) == (False, Reason.SETTLEMENT_PENDING)
    assert first["transaction"].startswith("0x")
    facilitator.policy = Policy(receipt_timeout_seconds=10)
    again = _settle(facilitator, body)
    assert (again["success"], again["transaction"]) == (True, first["transaction"])
    assert _settle(facilitator, body)["transaction"] == first["transaction"]
    assert slow_mining.balance_of(USDC, PAY_TO) - before == PRICE


def test_a_repeated_settle_reports_the_same_transaction_and_a_verify_says_used(
    ledger_chain: LedgerChain,
) -> None:
    facilitator = _facilitator(ledger_chain)
    body = verify_body(1)
    settled = _settle(facilitator, body)
    assert settled["success"] is True
    assert _settle(facilitator, body) == settled
    verify = _verify(facilitator, body)
    assert (verify["isValid"], verify["invalidReason"]) == (False, Reason.NONCE_ALREADY_USED)
    assert ledger_chain.balance_of(USDC, PAY_TO) == PRICE


def test_another_authorization_with_a_settled_nonce_is_refused(ledger_chain: LedgerChain) -> None:
    facilitator = _facilitator(ledger_chain)
    auth = authorization(PAYER)
    assert _settle(facilitator, verify_body(2, auth=auth))["success"] is True
    twin = authorization(PAYER, nonce=auth.nonce, valid_before=auth.valid_before - 1)
    answer = _settle(facilitator, verify_body(2, auth=twin))
    assert (answer["success"], answer["errorReason"]) == (False, Reason.NONCE_ALREADY_USED)
    assert ledger_chain.balance_of(USDC, PAY_TO) == PRICE


def test_the_ledger_and_the_records_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "facilitator.sqlite"
    body = verify_body(2)
    chain = LedgerChain(state_path=state)
    fund_test_wallets(chain)
    first = _facilitator(chain, SqliteRecords(state))
    settled = _settle(first, body)
    payer_after = chain.balance_of(USDC, PAYER.address)
    chain.close()
    first.records.close()

    again = LedgerChain(state_path=state)
    fund_test_wallets(again)  # a funded wallet keeps what it has
    second = _facilitator(again, SqliteRecords(state))
    assert again.balance_of(USDC, PAY_TO) == PRICE
    assert again.balance_of(USDC, PAYER.address) == payer_after
    assert _settle(second, body) == settled
    assert again.transaction_outcome(settled["transaction"]) is not None
    assert again.balance_of(USDC, PAY_TO) == PRICE


def test_a_chain_that_forgot_a_settlement_never_settles_it_again(tmp_path: Path) -> None:
    """The records say settled; a chain restarted without its state says unused."""
    records = SqliteRecords(tmp_path / "records.sqlite")
    body = verify_body(2)
    forgetful = LedgerChain()
    fund_test_wallets(forgetful)
    settled = _settle(_facilitator(forgetful, records), body)
    fresh = LedgerChain()  # the state is gone
    fund_test_wallets(fresh)
    facilitator = _facilitator(fresh, records)
    assert [r.tx_hash for r in facilitator.disagreements()] == [settled["transaction"]]
    assert _settle(facilitator, body) == settled
    verify = _verify(facilitator, body)
    assert (verify["isValid"], verify["invalidReason"]) == (False, Reason.NONCE_ALREADY_USED)
    assert fresh.balance_of(USDC, PAY_TO) == 0


def test_a_transaction_the_chain_never_got_is_sent_again(ledger_chain: LedgerChain) -> None:
    """A record of a broadcast the chain does not know (it died before mining) with the
    authorization still unused: nothing moved, so the payment is settled now, once."""
    records = MemoryRecords()
    auth = authorization(PAYER)
    body = verify_body(2, auth=auth)
    lost = "0x" + "ab" * 32
    key = authorization_key(USDC, auth)
    facilitator = _facilitator(ledger_chain, records)
    payload = facilitator._payload(_case(body))
    records.claim(SettlementRecord(key, payload, SettlementState.BROADCAST, "eip155:8453", ""))
    records.update(key, SettlementState.BROADCAST, lost)
    answer = _settle(facilitator, body)
    assert answer["success"] is True
    assert answer["transaction"] != lost
    assert ledger_chain.balance_of(USDC, PAY_TO) == PRICE
    assert _settle(facilitator, body) == answer


@pytest.mark.anvil
def test_anvil_killed_without_its_state_then_records_keep_at_most_once(tmp_path: Path) -> None:
    records = SqliteRecords(tmp_path / "records.sqlite")
    body = verify_body(2)
    with AnvilProcess.start() as anvil:
        chain = EvmChain(anvil.rpc_url)
        chain.install_token()
        fund_test_wallets(chain)
        settled = _settle(_facilitator(chain, records), body)
        chain.close()
        anvil.kill()
    with AnvilProcess.start() as anvil:
        chain = EvmChain(anvil.rpc_url)
        chain.install_token()
        fund_test_wallets(chain)
        facilitator = _facilitator(chain, records)
        assert _settle(facilitator, body) == settled
        assert [r.tx_hash for r in facilitator.disagreements()] == [settled["transaction"]]
        assert chain.balance_of(USDC, PAY_TO) == 0, "the chain rolled back; nothing moved again"
        chain.close()


def _case(body: dict) -> PaymentCase:
    return case_from_request(parse_request(json.dumps(body).encode()))


def _view(record: SettlementRecord | None) -> tuple[str, str, str, str] | None:
    if record is None:
        return None
    return (record.key, record.payload, record.state.value, record.tx_hash)


class RecordsMachine(RuleBasedStateMachine):
    """The SQLite records behave as the in-memory ones under any sequence of operations."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.TemporaryDirectory()
        self.memory = MemoryRecords()
        self.sqlite = SqliteRecords(Path(self.directory.name) / "r.sqlite")

    keys = st.sampled_from(["a", "b", "c"])

    @rule(key=keys, payload=st.sampled_from(["p", "q"]))
    def claim(self, key: str, payload: str) -> None:
        record = SettlementRecord(key, payload, SettlementState.SUBMITTING, "n", "x")
        in_memory, in_file = self.memory.claim(record), self.sqlite.claim(record)
        assert _view(in_memory) == _view(in_file)

    @precondition(lambda self: self.memory.all())
    @rule(data=st.data(), state=st.sampled_from(list(SettlementState)))
    def update(self, data: st.DataObject, state: SettlementState) -> None:
        key = data.draw(st.sampled_from(sorted(r.key for r in self.memory.all())))
        self.memory.update(key, state, "0x" + key)
        self.sqlite.update(key, state, "0x" + key)

    @rule(key=keys)
    def release(self, key: str) -> None:
        self.memory.release(key)
        self.sqlite.release(key)

    @invariant()
    def same_records(self) -> None:
        assert {_view(r) for r in self.memory.all()} == {_view(r) for r in self.sqlite.all()}

    def teardown(self) -> None:
        self.sqlite.close()
        self.directory.cleanup()


TestRecordsMachine = RecordsMachine.TestCase
TestRecordsMachine.settings = settings(max_examples=30, derandomize=True, deadline=None)


@given(st.integers(min_value=0, max_value=2**96), st.integers(min_value=0, max_value=2**96))
@settings(max_examples=25, derandomize=True, deadline=None)
def test_the_ledger_file_keeps_any_balance(
    tmp_path_factory: pytest.TempPathFactory, a: int, b: int
) -> None:
    path = tmp_path_factory.mktemp("ledger") / "l.sqlite"
    chain = LedgerChain(state_path=path)
    chain.set_balance(USDC, PAYER.address, a)
    chain.set_balance(USDC, PAY_TO, b)
    chain.advance_time(7)
    chain.close()
    again = LedgerChain(state_path=path)
    assert (again.balance_of(USDC, PAYER.address), again.balance_of(USDC, PAY_TO)) == (a, b)
    assert again.now() - chain.now() in (0, 1)
