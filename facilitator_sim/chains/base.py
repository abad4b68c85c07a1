"""What the facilitator needs of a chain: one small interface, two implementations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from x402_core.eip3009 import Authorization


class ChainError(RuntimeError):
    """The chain could not be reached or answered nonsense (not a payment's fault)."""


class ReceiptTimeoutError(ChainError):
    """A transaction was sent and no receipt came within the wait: its outcome is unknown."""

    def __init__(self, tx_hash: str, seconds: float) -> None:
        super().__init__(f"no receipt for {tx_hash} within {seconds:g} s")
        self.tx_hash = tx_hash


Broadcast = Callable[[str], None]
"""Told the transaction hash after the transaction is signed and before it is sent, so that a
caller can record it durably: from then on the transfer may happen whatever else fails."""


def no_record(tx_hash: str) -> None:
    """A `Broadcast` for callers that keep no record of what they send."""


@dataclass(frozen=True, slots=True)
class TransferOutcome:
    """What became of a submitted transaction: its hash, and the revert reason when it failed."""

    tx_hash: str
    success: bool
    error: str | None = None


class Chain(Protocol):
    """A chain holding EIP-3009 tokens. Calls may block; the app runs them off the event loop
    unless `in_process` says they are cheap in-memory operations."""

    kind: str
    """`ledger` or `evm`."""
    chain_id: int
    rpc_url: str | None
    in_process: bool

    def now(self) -> int:
        """Seconds since the epoch as the next block would see them."""
        ...

    def balance_of(self, token: str, account: str) -> int: ...

    def authorization_used(self, token: str, authorizer: str, nonce: bytes) -> bool:
        """EIP-3009 `authorizationState`: true once the nonce was used or cancelled."""
        ...

    def simulate_transfer(self, token: str, auth: Authorization, signature: bytes) -> str | None:
        """Dry-run `transferWithAuthorization`: None if it would succeed, else the revert reason."""
        ...

    def submit_transfer(
        self,
        token: str,
        auth: Authorization,
        signature: bytes,
        on_broadcast: Broadcast = no_record,
        receipt_timeout: float | None = None,
    ) -> TransferOutcome:
        """Send `transferWithAuthorization` from the facilitator's key and wait for its receipt;
        ReceiptTimeoutError when none comes within `receipt_timeout` seconds (None: a default)."""
        ...

    def transaction_outcome(self, tx_hash: str, wait: float = 0.0) -> TransferOutcome | None:
        """The outcome of a transaction sent earlier, waiting up to `wait` seconds for it to be
        mined; None while it is pending, or when the chain does not know it at all."""
        ...

    def transaction_known(self, tx_hash: str) -> bool:
        """Whether the chain holds the transaction, mined or waiting to be (a node that restarted
        without its state, or never received it, does not)."""
        ...

    def cancel_authorization(
        self, token: str, authorizer: str, nonce: bytes, signature: bytes
    ) -> TransferOutcome:
        """Send `cancelAuthorization` (used by tests and conformance to make a nonce unusable)."""
        ...

    def set_balance(self, token: str, account: str, amount: int) -> None:
        """Give `account` exactly `amount` of `token` (test funding)."""
        ...

    def advance_time(self, seconds: int) -> None:
        """Move the chain's clock forward (tests of validity windows)."""
        ...

    def close(self) -> None: ...
