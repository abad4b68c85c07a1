"""A purchase: one payment (payer and nonce) offered for one request, recorded before any money
moves and followed until it is settled (its job exists) or refused (nothing moved).

    claimed ──settle answered──▶ settled | refused
       └──outcome unknown──▶ pending ──reconciled──▶ settled | refused
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class PurchaseState(StrEnum):
    CLAIMED = "claimed"
    """Verified and claimed by one request, which is settling it now."""
    PENDING = "pending"
    """Sent for settlement with an unknown outcome; reconciled through the facilitator."""
    SETTLED = "settled"
    """Settled: its job exists."""
    REFUSED = "refused"
    """Refused by the facilitator: nothing moved; the same payment may be offered again."""


OPEN_STATES = frozenset({PurchaseState.CLAIMED, PurchaseState.PENDING})
"""States whose outcome is not known yet."""


@dataclass(frozen=True, slots=True)
class Purchase:
    key: str
    """`payer:nonce` of the authorization, lowercase."""
    request_sha256: str
    """The request it pays for: the same payment with another request is refused."""
    job_id: str
    """Chosen at the claim, so that every replica answers a re-send with the same job."""
    state: PurchaseState
    version: int
    settle_body: dict[str, Any]
    """The `/settle` body, sent again to reconcile."""
    request: dict[str, Any]
    payer: str
    scenario: str
    created_at: float
    """On the server's job clock."""
    updated_at: float = 0.0
    """Wall-clock time of the last change: a claim older than its lease is reconciled."""
    settlement: dict[str, Any] | None = None
    """The facilitator's last answer: the settlement, or the pending transaction."""
    reason: str = ""
    payment_id: str | None = None
    """The client's payment-identifier, unique in the store: the same id with another payment or
    request is a conflict."""

    @property
    def transaction(self) -> str:
        return str((self.settlement or {}).get("transaction") or "")
