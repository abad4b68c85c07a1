"""One payment to verify, whichever protocol version carried it: the rules read only this."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from x402_core.eip3009 import Authorization
from x402_core.models import PaymentRequirementsV1, PaymentRequirementsV2
from x402_core.models.facilitator import VerifyRequestV1, VerifyRequestV2
from x402_core.payment_identifier import IdentifierError, identifier_in


@dataclass(frozen=True, slots=True)
class PaymentCase:
    """The requirements a server set and the payment a client sent, normalized across versions."""

    version: int
    scheme: str
    network: str
    payload_scheme: str
    payload_network: str
    amount: int
    asset: str
    pay_to: str
    max_timeout_seconds: int
    extra: dict[str, Any] | None
    accepted_differs: tuple[str, ...]
    """Fields where a v2 payload's `accepted` is not the server's requirements (v1: none)."""
    authorization: Authorization
    signature: bytes
    payment_id: str | None = None
    """A well-formed payment-identifier of a v2 payload (a malformed one is the server's 400)."""

    @property
    def payer(self) -> str:
        return self.authorization.from_address


def case_from_request(request: VerifyRequestV1 | VerifyRequestV2) -> PaymentCase:
    """Normalize a validated `/verify` or `/settle` body."""
    if isinstance(request, VerifyRequestV1):
        v1 = request.payment_requirements
        return _case(
            request,
            v1,
            request.payment_payload.scheme,
            request.payment_payload.network,
            int(v1.max_amount_required),
            (),
        )
    accepted = request.payment_payload.accepted
    v2 = request.payment_requirements
    differs = _differing_fields(accepted.wire(), v2.wire())
    case = _case(request, v2, accepted.scheme, accepted.network, int(v2.amount), differs)
    try:
        payment_id = identifier_in(request.payment_payload.extensions)
    except IdentifierError:
        payment_id = None
    return replace(case, payment_id=payment_id)


def _case(
    request: VerifyRequestV1 | VerifyRequestV2,
    req: PaymentRequirementsV1 | PaymentRequirementsV2,
    payload_scheme: str,
    payload_network: str,
    amount: int,
    accepted_differs: tuple[str, ...],
) -> PaymentCase:
    exact = request.payment_payload.payload
    return PaymentCase(
        version=request.x402_version,
        scheme=req.scheme,
        network=req.network,
        payload_scheme=payload_scheme,
        payload_network=payload_network,
        amount=amount,
        asset=req.asset,
        pay_to=req.pay_to,
        max_timeout_seconds=req.max_timeout_seconds,
        extra=req.extra,
        accepted_differs=accepted_differs,
        authorization=Authorization.from_wire(exact.authorization),
        signature=bytes.fromhex(exact.signature[2:]),
    )


def _differing_fields(accepted: dict[str, Any], required: dict[str, Any]) -> tuple[str, ...]:
    """Names of fields that differ; addresses compare without regard to case."""
    differ = []
    for key in sorted(accepted.keys() | required.keys()):
        a, b = accepted.get(key), required.get(key)
        if isinstance(a, str) and isinstance(b, str) and a.startswith("0x"):
            a, b = a.lower(), b.lower()
        if a != b:
            differ.append(key)
    return tuple(differ)
