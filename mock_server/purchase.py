"""The paid endpoint (its method and path from the listing): validate, ask for payment, verify,
claim, settle, answer.

A purchase is claimed in the store (unique by its payment, across every process on the store)
before any money can move, and its job is made in the same store step that marks it settled.
A payment sent again finds its purchase: the job it bought, its refusal, or its settlement
reconciled through the facilitator; never a second charge, never a second job.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_server.crashpoints import CrashPoint, crash_at
from mock_server.facilitator_client import FacilitatorUnavailableError
from mock_server.paywall import Payment, facilitator_body, read_payment, settlement_header
from mock_server.purchases import OPEN_STATES, Purchase, PurchaseState
from mock_server.responses import (
    EXPOSED_HEADERS,
    base_url,
    error,
    job_view,
    payment_required,
    resource_url,
)
from mock_server.scenarios import SCENARIO_HEADER, Fault, UnknownScenarioError, scenario_of
from mock_server.settling import settle_purchase
from mock_server.state import ServerState
from mock_server.validation import InvalidRequestError, read_request
from x402_core.headers import HeaderError
from x402_core.reasons import Reason
from x402_service.bodies import BodyTooLargeError, read_body
from x402_service.journal import note

FACILITATOR_RETRY_AFTER = 5
PENDING_RETRY_AFTER = 2
_CLAIM_POLL_SECONDS = 0.02


async def paid_endpoint(request: Request) -> Response:
    state: ServerState = request.app.state.mock
    try:
        body = await read_body(request, state.settings.max_body_bytes)
    except BodyTooLargeError as exc:
        return error(400, "invalid_request", str(exc))
    try:
        wanted = read_request(
            state.listing, body, request.query_params, state.settings.max_string_chars
        )
    except InvalidRequestError as exc:
        return error(400, "invalid_request", exc.message, field=exc.field)
    requested = request.headers.get(SCENARIO_HEADER)
    try:
        scenario = state.scenarios.peek(requested)
    except UnknownScenarioError as exc:
        return error(400, "unknown_scenario", str(exc))
    note(request.scope, scenario=scenario.name)
    try:
        payment = read_payment(request.headers, state.settings.versions)
    except HeaderError as exc:
        return error(400, exc.reason, exc.message)
    if payment is None:
        return payment_required(
            request,
            state,
            "payment_required",
            "pay with PAYMENT-SIGNATURE (v2) or X-PAYMENT (v1)",
            flaw=scenario.offer,
        )
    request_sha256 = hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()
    existing = state.store.get_purchase(payment.key)
    if existing is not None and existing.state is not PurchaseState.REFUSED:
        return await _sent_again(request, state, payment, existing, request_sha256)
    if scenario.has(Fault.FACILITATOR_DOWN):
        state.scenarios.take(requested)
        return _facilitator_unavailable(
            "the facilitator cannot be reached (scenario facilitator_down)"
        )
    settle_body = facilitator_body(payment, state.listing, resource_url(request, state))
    try:
        verified = await state.facilitator.verify(settle_body)
    except FacilitatorUnavailableError as exc:
        return _facilitator_unavailable(str(exc))
    if not verified.is_valid:
        existing = state.store.get_purchase(payment.key)
        if existing is not None and existing.state is not PurchaseState.REFUSED:
            return await _sent_again(request, state, payment, existing, request_sha256)
        reason = verified.invalid_reason or Reason.INVALID_PAYLOAD
        return payment_required(request, state, reason, verified.invalid_message or "")
    scenario = state.scenarios.take(requested)
    purchase = Purchase(
        key=payment.key,
        request_sha256=request_sha256,
        job_id="job_" + secrets.token_hex(12),
        state=PurchaseState.CLAIMED,
        version=payment.version,
        settle_body=settle_body,
        request=wanted,
        payer=payment.payer,
        scenario=scenario.name,
        created_at=state.clock.now(),
    )
    holder = state.store.claim(purchase)
    if holder is not None:  # a copy of this payment claimed it first
        return await _sent_again(request, state, payment, holder, request_sha256)
    crash_at(CrashPoint.AFTER_CLAIM, state.crash)
    settled = await settle_purchase(state, purchase, first_attempt=True)
    return _answer(request, state, payment, settled)


async def _sent_again(
    request: Request,
    state: ServerState,
    payment: Payment,
    purchase: Purchase,
    request_sha256: str,
) -> Response:
    """A payment the store already holds: its job, its refusal, or its settlement reconciled."""
    if purchase.request_sha256 != request_sha256:
        return payment_required(
            request,
            state,
            Reason.NONCE_ALREADY_USED,
            "this payment already pays for another request; sign a new authorization",
        )
    if purchase.state is PurchaseState.CLAIMED:
        purchase = await _await_claim(state, purchase)
    if purchase.state in OPEN_STATES:
        purchase = await settle_purchase(state, purchase, first_attempt=False)
    return _answer(request, state, payment, purchase)


async def _await_claim(state: ServerState, purchase: Purchase) -> Purchase:
    """Wait while another request (here or in another process) settles this purchase, until
    its lease runs out; then it is anyone's to reconcile."""
    deadline = purchase.updated_at + state.lease_seconds
    while purchase.state is PurchaseState.CLAIMED and time.time() < deadline:
        await asyncio.sleep(_CLAIM_POLL_SECONDS)
        latest = state.store.get_purchase(purchase.key)
        if latest is None:
            break
        purchase = latest
    return purchase


def _answer(request: Request, state: ServerState, payment: Payment, purchase: Purchase) -> Response:
    if purchase.state is PurchaseState.SETTLED:
        return _settled(request, state, payment, purchase)
    if purchase.state is PurchaseState.REFUSED:
        if purchase.reason == Reason.FACILITATOR_UNAVAILABLE:
            return _facilitator_unavailable("the facilitator cannot be reached")
        settlement = purchase.settlement or {}
        headers = {payment.response_header: settlement_header(settlement)} if settlement else {}
        return payment_required(
            request,
            state,
            str(settlement.get("errorReason") or purchase.reason or Reason.TRANSACTION_FAILED),
            str(settlement.get("errorMessage") or ""),
            extra_headers=headers,
        )
    return _settlement_pending(payment, purchase)


def _settled(
    request: Request, state: ServerState, payment: Payment, purchase: Purchase
) -> Response:
    job = state.store.get_job(purchase.job_id)
    if job is None:  # settled by another process a moment ago; its job comes in the same step
        return _settlement_pending(payment, purchase)
    scenario = scenario_of(purchase.scenario)
    if scenario.has(Fault.SERVER_ERROR_AFTER_SETTLE) and purchase.key not in state.errored_once:
        state.errored_once.add(purchase.key)
        return error(
            500,
            "internal_error",
            "the server failed after settling (scenario "
            "server_error_after_settle); send the same payment again to get the job",
        )
    crash_at(CrashPoint.BEFORE_ANSWER, state.crash)
    headers = {
        payment.response_header: settlement_header(purchase.settlement or {}),
        "Access-Control-Expose-Headers": EXPOSED_HEADERS,
    }
    if not state.listing.is_job:  # a synchronous endpoint: the answer itself, the same each time
        return JSONResponse(state.listing.example_output(job.request), 200, headers=headers)
    base = base_url(request, state)
    view = job_view(job, state.clock.now(), base)
    answer = {key: view[key] for key in ("id", "status", *job.request, "created_at")}
    headers["Location"] = f"{base}{state.listing.path}/{job.id}"
    return JSONResponse(answer, 200, headers=headers)


def _settlement_pending(payment: Payment, purchase: Purchase) -> JSONResponse:
    """The payment was sent for settlement and its outcome is not known: a true answer that asks
    for the same payment again, never a new one."""
    transaction = purchase.transaction or None
    named = f" (transaction {transaction})" if transaction else ""
    settlement = {
        "success": False,
        "errorReason": Reason.SETTLEMENT_PENDING.value,
        "payer": purchase.payer,
        "transaction": transaction or "",
        "network": purchase.settle_body["paymentRequirements"]["network"],
    }
    answer = error(
        503,
        Reason.SETTLEMENT_PENDING,
        f"the payment was sent for settlement{named} and its outcome is not known yet; send "
        "the same payment again (the same payment header) to get the job; do not sign a new one",
        transaction=transaction,
        retry_after=PENDING_RETRY_AFTER,
    )
    answer.headers[payment.response_header] = settlement_header(settlement)
    answer.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return answer


def _facilitator_unavailable(message: str) -> JSONResponse:
    return error(
        503,
        Reason.FACILITATOR_UNAVAILABLE,
        f"{message}; nothing was charged, try again later",
        retry_after=FACILITATOR_RETRY_AFTER,
    )
