"""The paid endpoint over HTTP (its method and path from the listing): validate, ask for payment,
then buy (mock_server.checkout) and say the outcome with HTTP statuses and x402 headers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_server.checkout import (
    Bought,
    Conflict,
    Order,
    Outcome,
    Pending,
    Refused,
    Unavailable,
    buy,
    pending_message,
    pending_settlement,
    unavailable_message,
)
from mock_server.extensions import IdentifierError, identifier_required, payment_id_of
from mock_server.paywall import Payment, read_payment, settlement_header
from mock_server.responses import (
    EXPOSED_HEADERS,
    base_url,
    error,
    payment_required,
    purchase_answer,
    resource_url,
)
from mock_server.scenarios import SCENARIO_HEADER, UnknownScenarioError
from mock_server.state import ServerState
from mock_server.validation import InvalidRequestError, read_request
from x402_core.headers import HeaderError
from x402_core.reasons import Reason
from x402_service.bodies import BodyTooLargeError, read_body
from x402_service.journal import note

FACILITATOR_RETRY_AFTER = 5
PENDING_RETRY_AFTER = 2


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
    required = identifier_required(state.settings, scenario)
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
            identifier_required=required,
        )
    try:
        payment_id = payment_id_of(payment, state.settings, required)
    except IdentifierError as exc:
        return error(400, Reason.INVALID_PAYMENT_IDENTIFIER, str(exc))
    order = Order(payment, wanted, resource_url(request, state), requested, payment_id)
    return _answer(request, state, payment, await buy(state, order), required)


def _answer(
    request: Request, state: ServerState, payment: Payment, outcome: Outcome, required: bool
) -> Response:
    if isinstance(outcome, Bought):
        return _bought(request, state, payment, outcome)
    if isinstance(outcome, Refused):
        settlement = outcome.settlement
        headers = {payment.response_header: settlement_header(settlement)} if settlement else {}
        return payment_required(
            request,
            state,
            outcome.reason,
            outcome.message,
            extra_headers=headers,
            identifier_required=required,
        )
    if isinstance(outcome, Pending):
        return _settlement_pending(payment, outcome)
    if isinstance(outcome, Unavailable):
        return error(
            503,
            Reason.FACILITATOR_UNAVAILABLE,
            unavailable_message(outcome),
            retry_after=FACILITATOR_RETRY_AFTER,
        )
    if isinstance(outcome, Conflict):
        return error(409, Reason.PAYMENT_IDENTIFIER_CONFLICT, outcome.message)
    return error(500, "internal_error", outcome.message)


def _bought(request: Request, state: ServerState, payment: Payment, outcome: Bought) -> Response:
    headers = {
        payment.response_header: settlement_header(outcome.purchase.settlement or {}),
        "Access-Control-Expose-Headers": EXPOSED_HEADERS,
    }
    base = base_url(request, state)
    if state.listing.is_job:
        headers["Location"] = f"{base}{state.listing.path}/{outcome.job.id}"
    return JSONResponse(purchase_answer(state, outcome.job, base), 200, headers=headers)


def _settlement_pending(payment: Payment, outcome: Pending) -> JSONResponse:
    """The payment was sent for settlement and its outcome is not known: a true answer that asks
    for the same payment again, never a new one."""
    purchase = outcome.purchase
    answer = error(
        503,
        Reason.SETTLEMENT_PENDING,
        pending_message(purchase),
        transaction=purchase.transaction or None,
        retry_after=PENDING_RETRY_AFTER,
    )
    answer.headers[payment.response_header] = settlement_header(pending_settlement(purchase))
    answer.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return answer
