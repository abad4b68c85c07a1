"""`POST /v1/images/generate`: validate, ask for payment, verify, create the job, settle.

A job exists if and only if its payment settled: a refused or failed settlement removes the job,
and re-sending a settled payment returns the job it bought instead of charging again.
"""

from __future__ import annotations

import hashlib
import json
import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_server.facilitator_client import FacilitatorUnavailableError
from mock_server.jobs import Job
from mock_server.paywall import Payment, facilitator_body, read_payment, settlement_header
from mock_server.responses import (
    EXPOSED_HEADERS,
    base_url,
    error,
    job_view,
    payment_required,
    resource_url,
)
from mock_server.scenarios import SCENARIO_HEADER, Scenario, UnknownScenarioError
from mock_server.state import ServerState
from mock_server.stores import PaymentRecord
from mock_server.validation import GenerateRequest, InvalidRequestError, parse_generate_request
from x402_core.headers import HeaderError
from x402_core.models import SettleResponse
from x402_core.reasons import Reason
from x402_service.bodies import BodyTooLargeError, read_body

FACILITATOR_RETRY_AFTER = 5


async def generate(request: Request) -> Response:
    state: ServerState = request.app.state.mock
    try:
        body = await read_body(request, state.settings.max_body_bytes)
    except BodyTooLargeError as exc:
        return error(400, "invalid_request", str(exc))
    try:
        wanted = parse_generate_request(body, state.settings.max_prompt_chars)
    except InvalidRequestError as exc:
        return error(400, "invalid_request", exc.message, field=exc.field)
    requested = request.headers.get(SCENARIO_HEADER)
    try:
        scenario = state.scenarios.peek(requested)
    except UnknownScenarioError as exc:
        return error(400, "unknown_scenario", str(exc))
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
    lock = state.payment_locks[payment.key]
    try:
        async with lock:
            return await _purchase(request, state, wanted, payment, scenario, requested)
    finally:
        if not lock.locked():
            state.payment_locks.pop(payment.key, None)


async def _purchase(
    request: Request,
    state: ServerState,
    wanted: GenerateRequest,
    payment: Payment,
    scenario: Scenario,
    requested: str | None,
) -> Response:
    body_hash = hashlib.sha256(json.dumps(wanted.as_dict(), sort_keys=True).encode()).hexdigest()
    record = state.store.get_payment(payment.key)
    if record is not None:
        return _replay(request, state, payment, record, body_hash)
    if scenario.facilitator_down:
        state.scenarios.take(requested)
        return _facilitator_unavailable(
            "the facilitator cannot be reached (scenario facilitator_down)"
        )
    resource = resource_url(request, state)
    fac_body = facilitator_body(payment, state.listing, resource)
    try:
        verified = await state.facilitator.verify(fac_body)
    except FacilitatorUnavailableError as exc:
        return _facilitator_unavailable(str(exc))
    if not verified.is_valid:
        reason = verified.invalid_reason or Reason.INVALID_PAYLOAD
        return payment_required(request, state, reason, verified.invalid_message or "")
    scenario = state.scenarios.take(requested)
    job = Job(
        id="job_" + secrets.token_hex(12),
        created_at=state.clock.now(),
        plan=scenario.plan,
        request=wanted.as_dict(),
        payer=payment.payer,
        scenario=scenario.name,
    )
    state.store.add_job(job)
    try:
        settlement = await _settle(state, scenario, payment, fac_body)
    except FacilitatorUnavailableError as exc:
        state.store.delete_job(job.id)
        return _facilitator_unavailable(str(exc))
    if not settlement.success:
        state.store.delete_job(job.id)
        return payment_required(
            request,
            state,
            settlement.error_reason or Reason.TRANSACTION_FAILED,
            settlement.error_message or "",
            **{payment.response_header: settlement_header(settlement.wire())},
        )
    record = PaymentRecord(payment.key, job.id, body_hash, payment.version, settlement.wire())
    state.store.add_payment(record)
    if scenario.server_error_after_settle and payment.key not in state.errored_once:
        state.errored_once.add(payment.key)
        return error(
            500,
            "internal_error",
            "the server failed after settling (scenario "
            "server_error_after_settle); send the same payment again to get the job",
        )
    return _paid(request, state, job, record, payment)


async def _settle(
    state: ServerState, scenario: Scenario, payment: Payment, fac_body: dict
) -> SettleResponse:
    if scenario.settle_fails:
        return SettleResponse(
            success=False,
            error_reason=Reason.TRANSACTION_FAILED,
            error_message="settlement refused (scenario settle_fails)",
            payer=payment.payer,
            network=fac_body["paymentRequirements"]["network"],
        )
    return await state.facilitator.settle(fac_body)


def _replay(
    request: Request, state: ServerState, payment: Payment, record: PaymentRecord, body_hash: str
) -> Response:
    job = state.store.get_job(record.job_id)
    if record.body_sha256 != body_hash or job is None:
        return payment_required(
            request,
            state,
            Reason.NONCE_ALREADY_USED,
            "this payment already bought another request; sign a new authorization",
        )
    return _paid(request, state, job, record, payment)


def _paid(
    request: Request, state: ServerState, job: Job, record: PaymentRecord, payment: Payment
) -> JSONResponse:
    base = base_url(request, state)
    view = job_view(job, state.clock.now(), base)
    answer = {key: view[key] for key in ("id", "status", *job.request, "created_at")}
    return JSONResponse(
        answer,
        200,
        headers={
            payment.response_header: settlement_header(record.settlement),
            "Location": f"{base}{state.listing.path}/{job.id}",
            "Access-Control-Expose-Headers": EXPOSED_HEADERS,
        },
    )


def _facilitator_unavailable(message: str) -> JSONResponse:
    return error(
        503,
        Reason.FACILITATOR_UNAVAILABLE,
        f"{message}; nothing was charged, try again later",
        retry_after=FACILITATOR_RETRY_AFTER,
    )
