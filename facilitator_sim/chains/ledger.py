"""The embedded chain: a Python model of an EIP-3009 token, the default backend.

It follows the project's token contract (and USDC's FiatToken v2) check for check, with the same
revert strings, so the ledger and Anvil give the same outcomes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from facilitator_sim.chains.base import Broadcast, TransferOutcome, no_record
from facilitator_sim.chains.ledger_file import LedgerFile
from x402_core.eip3009 import (
    Authorization,
    Domain,
    SignatureError,
    cancel_digest,
    recover_address,
    transfer_digest,
)
from x402_core.keccak import keccak
from x402_core.networks import network_by_chain_id

REVERT_NOT_YET_VALID = "FiatTokenV2: authorization is not yet valid"
REVERT_EXPIRED = "FiatTokenV2: authorization is expired"
REVERT_USED = "FiatTokenV2: authorization is used or canceled"
REVERT_SIGNATURE = "FiatTokenV2: invalid signature"
REVERT_BALANCE = "ERC20: transfer amount exceeds balance"
REVERT_ZERO_ADDRESS = "ERC20: transfer to the zero address"
_ZERO_ADDRESS = "0x" + "00" * 20


@dataclass
class _TokenState:
    domain: Domain
    balances: dict[str, int] = field(default_factory=dict)
    used: set[tuple[str, bytes]] = field(default_factory=set)


class LedgerChain:
    """An in-memory chain with the network's USDC on it; time is the wall clock plus an offset.
    With `state_path` every change is also written to that SQLite file and read back at start."""

    kind = "ledger"
    rpc_url: str | None = None
    in_process = True

    def __init__(self, chain_id: int = 8453, state_path: Path | None = None) -> None:
        self.chain_id = chain_id
        usdc = network_by_chain_id(chain_id).usdc
        domain = Domain(usdc.eip712_name, usdc.eip712_version, chain_id, usdc.address)
        self._tokens = {usdc.address.lower(): _TokenState(domain)}
        self._time_offset = 0
        self._lock = threading.Lock()
        self._tx_count = 0
        self._transactions: dict[str, TransferOutcome] = {}
        self._file = None if state_path is None else LedgerFile(state_path)
        if self._file is not None:
            self._restore(self._file)

    def _restore(self, file: LedgerFile) -> None:
        snapshot = file.load()
        for (token, account), amount in snapshot.balances.items():
            self._token(token).balances[account] = amount
        for token, authorizer, nonce in snapshot.used:
            self._token(token).used.add((authorizer, nonce))
        self._transactions = {
            tx: TransferOutcome(tx, ok, error) for tx, (ok, error) in snapshot.transactions.items()
        }
        self._tx_count = snapshot.tx_count
        self._time_offset = snapshot.time_offset

    @property
    def state_path(self) -> Path | None:
        return None if self._file is None else self._file.path

    def now(self) -> int:
        return int(time.time()) + self._time_offset

    def advance_time(self, seconds: int) -> None:
        with self._lock:
            self._time_offset += seconds
            if self._file is not None:
                self._file.write(time_offset=self._time_offset)

    def balance_of(self, token: str, account: str) -> int:
        return self._token(token).balances.get(account.lower(), 0)

    def set_balance(self, token: str, account: str, amount: int) -> None:
        with self._lock:
            self._token(token).balances[account.lower()] = amount
            if self._file is not None:
                self._file.write(balances={(token.lower(), account.lower()): amount})

    def authorization_used(self, token: str, authorizer: str, nonce: bytes) -> bool:
        return (authorizer.lower(), nonce) in self._token(token).used

    def simulate_transfer(self, token: str, auth: Authorization, signature: bytes) -> str | None:
        return self._transfer_revert(self._token(token), auth, signature)

    def submit_transfer(
        self,
        token: str,
        auth: Authorization,
        signature: bytes,
        on_broadcast: Broadcast = no_record,
        receipt_timeout: float | None = None,
    ) -> TransferOutcome:
        """Transfers at once: the ledger mines every transaction as it arrives."""
        state = self._token(token)
        with self._lock:
            tx_hash = self._next_tx_hash(auth.from_address, auth.nonce)
            on_broadcast(tx_hash)
            revert = self._transfer_revert(state, auth, signature)
            if revert is not None:
                return self._mined(TransferOutcome(tx_hash, success=False, error=revert))
            sender, receiver = auth.from_address.lower(), auth.to.lower()
            state.used.add((sender, auth.nonce))
            state.balances[sender] -= auth.value
            state.balances[receiver] = state.balances.get(receiver, 0) + auth.value
            outcome = TransferOutcome(tx_hash, success=True)
            self._mined(
                outcome,
                balances={
                    (token.lower(), sender): state.balances[sender],
                    (token.lower(), receiver): state.balances[receiver],
                },
                used=(token.lower(), sender, auth.nonce),
            )
            return outcome

    def transaction_outcome(self, tx_hash: str, wait: float = 0.0) -> TransferOutcome | None:
        return self._transactions.get(tx_hash)

    def transaction_known(self, tx_hash: str) -> bool:
        return tx_hash in self._transactions

    def cancel_authorization(
        self, token: str, authorizer: str, nonce: bytes, signature: bytes
    ) -> TransferOutcome:
        state = self._token(token)
        with self._lock:
            tx_hash = self._next_tx_hash(authorizer, nonce)
            if (authorizer.lower(), nonce) in state.used:
                return self._mined(TransferOutcome(tx_hash, success=False, error=REVERT_USED))
            if not _signed_by(
                cancel_digest(state.domain, authorizer, nonce), signature, authorizer
            ):
                return self._mined(TransferOutcome(tx_hash, success=False, error=REVERT_SIGNATURE))
            state.used.add((authorizer.lower(), nonce))
            outcome = TransferOutcome(tx_hash, success=True)
            return self._mined(outcome, used=(token.lower(), authorizer.lower(), nonce))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def _mined(
        self,
        outcome: TransferOutcome,
        balances: dict[tuple[str, str], int] | None = None,
        used: tuple[str, str, bytes] | None = None,
    ) -> TransferOutcome:
        """Record a transaction (and the state it changed) as mined; caller holds the lock."""
        self._transactions[outcome.tx_hash] = outcome
        if self._file is not None:
            self._file.write(
                balances=balances,
                used=used,
                transaction=(outcome.tx_hash, outcome.success, outcome.error),
                tx_count=self._tx_count,
            )
        return outcome

    def _token(self, token: str) -> _TokenState:
        try:
            return self._tokens[token.lower()]
        except KeyError:
            raise ValueError(f"no token at {token} on the ledger (chain {self.chain_id})") from None

    def _transfer_revert(
        self, state: _TokenState, auth: Authorization, signature: bytes
    ) -> str | None:
        now = self.now()
        if now <= auth.valid_after:
            return REVERT_NOT_YET_VALID
        if now >= auth.valid_before:
            return REVERT_EXPIRED
        if (auth.from_address.lower(), auth.nonce) in state.used:
            return REVERT_USED
        if not _signed_by(transfer_digest(state.domain, auth), signature, auth.from_address):
            return REVERT_SIGNATURE
        if auth.to.lower() == _ZERO_ADDRESS:
            return REVERT_ZERO_ADDRESS
        if state.balances.get(auth.from_address.lower(), 0) < auth.value:
            return REVERT_BALANCE
        return None

    def _next_tx_hash(self, sender: str, nonce: bytes) -> str:
        """Deterministic: the same sequence of operations gives the same hashes."""
        self._tx_count += 1
        material = self.chain_id.to_bytes(32, "big") + self._tx_count.to_bytes(32, "big")
        return "0x" + keccak(material + bytes.fromhex(sender[2:]) + nonce).hex()


def _signed_by(digest: bytes, signature: bytes, expected: str) -> bool:
    try:
        return recover_address(digest, signature) == expected.lower()
    except SignatureError:
        return False
