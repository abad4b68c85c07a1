"""Buying with a payment, whatever carried it (an HTTP header or an MCP tool call): verify, claim,
settle. The outcome says what happened; each transport says it in its own words.

A purchase is claimed in the store (unique by its payment, and by its payment-identifier, across
every process on the store) before any money can move, and its job is made in the same store
step that marks it settled. A payment sent again finds its purchase: the job it bought, its
refusal, or its settlement reconciled through the facilitator; never a second charge, never a
second job. The same payment-identifier with another payment or request is a conflict.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from mock_server.crashpoints import CrashPoint, crash_at
from mock_server.facilitator_client import FacilitatorUnavailableError
from mock_server.jobs import Job
from mock_server.paywall import Payment, facilitator_body
from mock_server.purchases import OPEN_STATES, Purchase, PurchaseState
from mock_server.scenarios import Fault, scenario_of
from mock_server.settling import settle_purchase
from mock_server.state import ServerState
from x402_core.reasons import Reason

CLAIM_POLL_SECONDS = 0.02


@dataclass(frozen=True, slots=True)
class Order:
    """A payment offered for a checked request."""

    payment: Payment
    request: dict[str, Any]
    resource_url: str
    requested_scenario: str | None
    payment_id: str | None = None

    @property
    def request_sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.request, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Bought:
    """Settled: the job (or the synchronous answer's request) it bought."""

    purchase: Purchase
    job: Job


@dataclass(frozen=True, slots=True)
class Pending:
    """Sent for settlement, outcome unknown: ask for the same payment again, never a new one."""

    purchase: Purchase


@dataclass(frozen=True, slots=True)
class Refused:
    """Nothing moved: the facilitator's (or the scenario's) reason."""

    reason: str
    message: str
    settlement: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Unavailable:
    """The facilitator could not be reached before anything moved: nothing was charged."""

    message: str


@dataclass(frozen=True, slots=True)
class Conflict:
    """The payment-identifier already belongs to another payment or request."""

    message: str


@dataclass(frozen=True, slots=True)
class ServerFault:
    """The scenario's deliberate 500 after settling; the same payment again gets the job."""

    message: str


Outcome = Bought | Pending | Refused | Unavailable | Conflict | ServerFault


async def buy(state: ServerState, order: Order) -> Outcome:
    """Settle `order` at most once, or find what an earlier copy of it bought."""
    payment, sha = order.payment, order.request_sha256
    conflict = _id_conflict(state, order)
    if conflict is not None:
        return conflict
    existing = state.store.get_purchase(payment.key)
    if existing is not None and existing.state is not PurchaseState.REFUSED:
        return await _sent_again(state, existing, sha)
    if state.scenarios.peek(order.requested_scenario).has(Fault.FACILITATOR_DOWN):
        state.scenarios.take(order.requested_scenario)
        return Unavailable("the facilitator cannot be reached (scenario facilitator_down)")
    settle_body = facilitator_body(payment, state.listing, order.resource_url)
    try:
        verified = await state.facilitator.verify(settle_body)
    except FacilitatorUnavailableError as exc:
        return Unavailable(str(exc))
    if not verified.is_valid:
        existing = state.store.get_purchase(payment.key)
        if existing is not None and existing.state is not PurchaseState.REFUSED:
            return await _sent_again(state, existing, sha)
        reason = verified.invalid_reason or Reason.INVALID_PAYLOAD
        return Refused(reason, verified.invalid_message or "")
    scenario = state.scenarios.take(order.requested_scenario)
    purchase = Purchase(
        key=payment.key,
        request_sha256=sha,
        job_id="job_" + secrets.token_hex(12),
        state=PurchaseState.CLAIMED,
        version=payment.version,
        settle_body=settle_body,
        request=order.request,
        payer=payment.payer,
        scenario=scenario.name,
        created_at=state.clock.now(),
        payment_id=order.payment_id,
    )
    holder = state.store.claim(purchase)
    if holder is not None:  # a copy of this payment (or another with its id) claimed first
        if holder.key != purchase.key:
            return _conflict(order)
        return await _sent_again(state, holder, sha)
    crash_at(CrashPoint.AFTER_CLAIM, state.crash)
    return _outcome(state, await settle_purchase(state, purchase, first_attempt=True))


def _id_conflict(state: ServerState, order: Order) -> Conflict | None:
    if order.payment_id is None:
        return None
    holder = state.store.purchase_with_id(order.payment_id)
    if holder is None or holder.state is PurchaseState.REFUSED:
        return None
    if holder.key != order.payment.key or holder.request_sha256 != order.request_sha256:
        return _conflict(order)
    return None


def _conflict(order: Order) -> Conflict:
    return Conflict(
        f"payment identifier {order.payment_id!r} was used for another payment or request; "
        "send that same payment and request again, or a new payment with a new id"
    )


async def _sent_again(state: ServerState, purchase: Purchase, request_sha256: str) -> Outcome:
    """A payment the store already holds: its job, its refusal, or its settlement reconciled."""
    if purchase.request_sha256 != request_sha256:
        return Refused(
            Reason.NONCE_ALREADY_USED,
            "this payment already pays for another request; sign a new authorization",
        )
    if purchase.state is PurchaseState.CLAIMED:
        purchase = await _await_claim(state, purchase)
    if purchase.state in OPEN_STATES:
        purchase = await settle_purchase(state, purchase, first_attempt=False)
    return _outcome(state, purchase)


async def _await_claim(state: ServerState, purchase: Purchase) -> Purchase:
    """Wait while another request (here or in another process) settles this purchase, until
    its lease runs out; then it is anyone's to reconcile."""
    deadline = purchase.updated_at + state.lease_seconds
    while purchase.state is PurchaseState.CLAIMED and time.time() < deadline:
        await asyncio.sleep(CLAIM_POLL_SECONDS)
        latest = state.store.get_purchase(purchase.key)
        if latest is None:
            break
        purchase = latest
    return purchase


def _outcome(state: ServerState, purchase: Purchase) -> Outcome:
    if purchase.state is PurchaseState.SETTLED:
        job = state.store.get_job(purchase.job_id)
        if job is None:  # settled by another process a moment ago; its job comes in that step
            return Pending(purchase)
        scenario = scenario_of(purchase.scenario)
        if scenario.has(Fault.SERVER_ERROR_AFTER_SETTLE) and purchase.key not in state.errored_once:
            state.errored_once.add(purchase.key)
            return ServerFault(
                "the server failed after settling (scenario server_error_after_settle); send "
                "the same payment again to get the job"
            )
        crash_at(CrashPoint.BEFORE_ANSWER, state.crash)
        return Bought(purchase, job)
    if purchase.state is PurchaseState.REFUSED:
        if purchase.reason == Reason.FACILITATOR_UNAVAILABLE:
            return Unavailable("the facilitator cannot be reached")
        settlement = purchase.settlement or {}
        return Refused(
            str(settlement.get("errorReason") or purchase.reason or Reason.TRANSACTION_FAILED),
            str(settlement.get("errorMessage") or ""),
            settlement or None,
        )
    return Pending(purchase)


def pending_settlement(purchase: Purchase) -> dict[str, Any]:
    """The SettlementResponse of a purchase whose outcome is not known yet."""
    return {
        "success": False,
        "errorReason": Reason.SETTLEMENT_PENDING.value,
        "payer": purchase.payer,
        "transaction": purchase.transaction,
        "network": purchase.settle_body["paymentRequirements"]["network"],
    }


def pending_message(purchase: Purchase) -> str:
    named = f" (transaction {purchase.transaction})" if purchase.transaction else ""
    return (
        f"the payment was sent for settlement{named} and its outcome is not known yet; send "
        "the same payment again to get the job; do not sign a new one"
    )


def unavailable_message(outcome: Unavailable) -> str:
    return f"{outcome.message}; nothing was charged, try again later"
