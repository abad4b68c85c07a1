"""Pure decisions about a 402: what it offers, which offer to pay, what a second 402 means."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import ValidationError

from x402_core.headers import (
    PAYMENT_REQUIRED,
    PAYMENT_RESPONSE,
    PAYMENT_SIGNATURE,
    X_PAYMENT,
    X_PAYMENT_RESPONSE,
    HeaderError,
    decode_header,
    describe_validation_error,
)
from x402_core.models import (
    PaymentPayloadV1,
    PaymentPayloadV2,
    PaymentRequiredV1,
    PaymentRequiredV2,
    PaymentRequirementsV1,
    PaymentRequirementsV2,
    ResourceInfo,
    SettleResponse,
)
from x402_core.networks import (
    UnknownNetworkError,
    asset_on,
    network_by_caip2,
    network_by_v1_name,
)
from x402_core.payment_identifier import echoed, new_id
from x402_core.payments import Terms, UnpayableError, pay_v1, pay_v2, terms_of
from x402_payer.errors import (
    REFUSAL_ERRORS,
    MalformedOfferError,
    NoAcceptableOfferError,
    ProtocolError,
    RefusalReason,
)
from x402_payer.policy import PayerPolicy

Requirements = PaymentRequirementsV1 | PaymentRequirementsV2
SETTLEMENT_PENDING = "settlement_pending"
Payment = PaymentPayloadV1 | PaymentPayloadV2

PAYMENT_HEADER = {1: X_PAYMENT, 2: PAYMENT_SIGNATURE}
"""The request header that carries a payment, by protocol version."""
SETTLEMENT_HEADER = {1: X_PAYMENT_RESPONSE, 2: PAYMENT_RESPONSE}
"""The response header that carries the settlement, by protocol version."""


@dataclass(frozen=True, slots=True)
class Offer:
    """What one 402 answer offers, in each protocol version it spoke."""

    v2: PaymentRequiredV2 | None
    v1: PaymentRequiredV1 | None
    v1_problem: str | None = None
    """Why a body that claimed x402Version 1 was not usable, if it was not."""


@dataclass(frozen=True, slots=True)
class Choice:
    """The requirements the payer will pay, with their terms."""

    version: int
    requirements: Requirements
    terms: Terms
    resource: ResourceInfo | None = None
    extensions: dict[str, Any] | None = None
    """The v2 offer's extensions, echoed in the payment (with a payment-identifier's id)."""


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: RefusalReason
    detail: str


def read_offer(response: httpx.Response) -> Offer:
    """The offers of a 402: the `PAYMENT-REQUIRED` header (v2) and a body saying x402Version 1.

    A `PAYMENT-REQUIRED` header that does not decode is never ignored: MalformedOfferError.
    """
    v2 = None
    header = response.headers.get(PAYMENT_REQUIRED)
    if header is not None:
        try:
            v2 = decode_header(header, PaymentRequiredV2, name=PAYMENT_REQUIRED)
        except HeaderError as exc:
            raise MalformedOfferError(
                f"malformed 402 offer: {exc.message}; expected base64 JSON of a v2 PaymentRequired",
                response=response,
            ) from exc
    v1, problem = _v1_body(response)
    if v2 is None and v1 is None:
        raise MalformedOfferError(
            f"malformed 402 offer: {problem}"
            if problem
            else "the 402 carries neither a PAYMENT-REQUIRED header nor a JSON body with "
            "x402Version 1; expected one of them",
            response=response,
        )
    return Offer(v2=v2, v1=v1, v1_problem=problem)


def _v1_body(response: httpx.Response) -> tuple[PaymentRequiredV1 | None, str | None]:
    try:
        data = response.json()
    except ValueError:
        return None, None
    if not isinstance(data, dict) or data.get("x402Version") != 1:
        return None, None
    try:
        return PaymentRequiredV1.model_validate(data), None
    except ValidationError as exc:
        return None, f"the 402 body says x402Version 1 but {describe_validation_error(exc)}"


def choose_requirement(offer: Offer, policy: PayerPolicy) -> Choice:
    """The first requirements the policy accepts, the preferred version's offers first.

    When none is acceptable, raises the refusal all of them share (PriceTooHighError, ...), or
    NoAcceptableOfferError when their reasons differ; its message lists each one.
    """
    refusals: list[str] = []
    reasons: set[RefusalReason] = set()
    for version, index, requirements in _candidates(offer, policy.prefer_version):
        verdict = assess(requirements, policy)
        if isinstance(verdict, Terms):
            v2 = offer.v2 if version == 2 else None
            resource = None if v2 is None else v2.resource
            extensions = None if v2 is None else v2.extensions
            return Choice(version, requirements, verdict, resource, extensions)
        reasons.add(verdict.reason)
        refusals.append(f"v{version} accepts[{index}]: {verdict.detail}")
    if not refusals:
        raise NoAcceptableOfferError(
            "the 402 lists no payment requirements; expected at least one entry in `accepts`"
        )
    error = REFUSAL_ERRORS[reasons.pop()] if len(reasons) == 1 else NoAcceptableOfferError
    raise error("refused to pay: " + "; ".join(refusals))


def _candidates(offer: Offer, prefer_version: int) -> list[tuple[int, int, Requirements]]:
    by_version: dict[int, list[Requirements]] = {
        2: list(offer.v2.accepts) if offer.v2 else [],
        1: list(offer.v1.accepts) if offer.v1 else [],
    }
    order = (prefer_version, 3 - prefer_version)
    return [(v, i, req) for v in order for i, req in enumerate(by_version[v])]


def assess(requirements: Requirements, policy: PayerPolicy) -> Terms | Refusal:
    """The terms of `requirements` when the policy lets the payer honour them, else why not."""
    if requirements.scheme != "exact":
        return Refusal(
            RefusalReason.UNSUPPORTED_SCHEME,
            f"scheme {requirements.scheme!r} is not supported; expected 'exact'",
        )
    try:
        if isinstance(requirements, PaymentRequirementsV1):
            network = network_by_v1_name(requirements.network)
        else:
            network = network_by_caip2(requirements.network)
    except UnknownNetworkError as exc:
        return Refusal(RefusalReason.UNSUPPORTED_NETWORK, str(exc))
    if not policy.allows(network):
        allowed = ", ".join(sorted(policy.networks))
        return Refusal(
            RefusalReason.UNSUPPORTED_NETWORK,
            f"network {requirements.network!r} is not allowed; expected one of: {allowed}",
        )
    if asset_on(network, requirements.asset) is None:
        return Refusal(
            RefusalReason.UNSUPPORTED_ASSET,
            f"asset {requirements.asset} is not USDC on {network.name}; "
            f"expected {network.usdc.address}",
        )
    amount = int(_amount_of(requirements))
    if amount > policy.max_amount_atomic:
        return Refusal(
            RefusalReason.PRICE_TOO_HIGH,
            f"price {amount} atomic units is above the limit; expected at most "
            f"{policy.max_amount_atomic}",
        )
    try:
        return terms_of(requirements)
    except UnpayableError as exc:
        return Refusal(RefusalReason.MALFORMED_OFFER, str(exc))


def _amount_of(requirements: Requirements) -> str:
    if isinstance(requirements, PaymentRequirementsV1):
        return requirements.max_amount_required
    return requirements.amount


def sign_payment(
    choice: Choice, private_key: bytes, address: str, *, now: int | None = None
) -> Payment:
    """A fresh signed payment answering the chosen requirements (a new nonce every call); a v2
    payment echoes the offer's extensions, with a new payment-identifier id when one is
    declared (re-sends of this payment carry the same id)."""
    if isinstance(choice.requirements, PaymentRequirementsV1):
        return pay_v1(choice.requirements, private_key, address, now=now)
    payment = pay_v2(choice.requirements, private_key, address, choice.resource, now=now)
    if not choice.extensions:
        return payment
    return payment.model_copy(update={"extensions": echoed(choice.extensions, new_id())})


def read_settlement(response: httpx.Response, version: int) -> SettleResponse | None:
    """The settlement header of the answer to a payment, if any; ProtocolError when malformed.

    The version's own header is read first, the other version's as a fallback.
    """
    for name in (SETTLEMENT_HEADER[version], SETTLEMENT_HEADER[3 - version]):
        value = response.headers.get(name)
        if value is not None:
            try:
                return decode_header(value, SettleResponse, name=name)
            except HeaderError as exc:
                raise ProtocolError(
                    f"malformed settlement: {exc.message}; expected base64 JSON of a "
                    "SettleResponse",
                    response=response,
                ) from exc
    return None


def pending_settlement(response: httpx.Response, version: int) -> str | None:
    """The transaction named by a `settlement_pending` answer ('' when none is named yet), or
    None when the answer is not one: the server asks for the same payment again."""
    if response.status_code == httpx.codes.PAYMENT_REQUIRED or response.is_success:
        return None
    failure = read_failure(response, version)
    if failure.reason != SETTLEMENT_PENDING:
        return None
    if failure.settlement is not None and failure.settlement.transaction:
        return failure.settlement.transaction
    try:
        body = response.json()
    except ValueError:
        body = None
    transaction = body.get("transaction") if isinstance(body, dict) else None
    return transaction if isinstance(transaction, str) else ""


@dataclass(frozen=True, slots=True)
class Failure:
    """What a 402 answering a payment says about why the payment was refused."""

    reason: str | None
    explanation: str
    settlement: SettleResponse | None


def read_failure(response: httpx.Response, version: int) -> Failure:
    """The server's reason from a failure settlement header, the v2 header or the v1 body `error`.

    Tolerant: this reads an error answer, so unreadable parts are skipped, never raised.
    """
    try:
        settlement = read_settlement(response, version)
    except ProtocolError:
        settlement = None
    found: list[str] = []
    if settlement is not None and not settlement.success:
        found += [s for s in (settlement.error_reason, settlement.error_message) if s]
    header = response.headers.get(PAYMENT_REQUIRED)
    if header is not None:
        try:
            required = decode_header(header, PaymentRequiredV2, name=PAYMENT_REQUIRED)
        except HeaderError:
            required = None
        if required is not None and required.error:
            found.append(required.error)
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]:
        found.append(body["error"])
    distinct = list(dict.fromkeys(found))
    return Failure(
        reason=distinct[0] if distinct else None,
        explanation="; ".join(distinct) if distinct else "the server gave no reason",
        settlement=settlement,
    )
