"""The x402 side of the endpoint: the 402 offer in both versions, reading the payment header,
and the bodies sent to the facilitator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel

from mock_server.scenarios import OfferFlaw
from x402_core.headers import (
    PAYMENT_REQUIRED,
    PAYMENT_RESPONSE,
    PAYMENT_SIGNATURE,
    X_PAYMENT,
    X_PAYMENT_RESPONSE,
    HeaderError,
    decode_header,
    encode_header,
    encode_json_header,
)
from x402_core.listing import Listing, Offer
from x402_core.models import (
    PaymentPayloadV1,
    PaymentPayloadV2,
    PaymentRequiredV1,
    PaymentRequiredV2,
)
from x402_core.networks import BASE, Network
from x402_core.reasons import Reason


@dataclass(frozen=True, slots=True)
class Payment:
    """A decoded payment header: its version, the payload, and the header it came in."""

    version: int
    payload: PaymentPayloadV1 | PaymentPayloadV2

    @property
    def payer(self) -> str:
        return self.payload.payload.authorization.from_

    @property
    def key(self) -> str:
        """What identifies one authorization: (payer, nonce)."""
        auth = self.payload.payload.authorization
        return f"{auth.from_.lower()}:{auth.nonce.lower()}"

    @property
    def response_header(self) -> str:
        return X_PAYMENT_RESPONSE if self.version == 1 else PAYMENT_RESPONSE


UNKNOWN_ASSET = "0x00000000000000000000000000000000DeaDBeef"
UNKNOWN_NETWORK = Network("x402h-unknown", 999_999, BASE.usdc)
UNPAYABLE_OFFERS: dict[OfferFlaw, Callable[[Offer], Offer]] = {
    OfferFlaw.UNKNOWN_NETWORK: lambda offer: replace(offer, network=UNKNOWN_NETWORK),
    OfferFlaw.UNKNOWN_ASSET: lambda offer: replace(
        offer, asset=replace(offer.asset, address=UNKNOWN_ASSET)
    ),
    OfferFlaw.OVERPRICED: lambda offer: replace(offer, amount=offer.amount * 100),
}


def offer(
    listing: Listing,
    resource_url: str,
    versions: frozenset[int],
    error: str,
    flaw: OfferFlaw = OfferFlaw.NONE,
) -> tuple[dict[str, str], dict[str, Any]]:
    """(headers, JSON body) of a 402: v2 in `PAYMENT-REQUIRED`, v1 in the body; `flaw` names an
    unpayable variant of the offer, for scenarios that test a client's refusal."""
    if flaw is OfferFlaw.MALFORMED:
        return {PAYMENT_REQUIRED: "%not base64: a malformed offer%"}, {"x402Version": "one"}
    if flaw:
        listing = replace(listing, offer=UNPAYABLE_OFFERS[flaw](listing.offer))
    headers: dict[str, str] = {}
    v2 = PaymentRequiredV2(
        x402_version=2,
        error=error,
        resource=listing.resource(resource_url),
        accepts=[listing.requirements_v2()],
    )
    if 2 in versions:
        headers[PAYMENT_REQUIRED] = encode_header(v2)
    if 1 in versions:
        body = PaymentRequiredV1(
            x402_version=1, error=error, accepts=[listing.requirements_v1(resource_url)]
        ).wire()
    else:
        body = v2.wire()
    return headers, body


def read_payment(headers: Any, versions: frozenset[int]) -> Payment | None:
    """The payment a request carries (None: none); HeaderError when it cannot be read."""
    v2_value = headers.get(PAYMENT_SIGNATURE)
    v1_value = headers.get(X_PAYMENT)
    if v2_value is not None and v1_value is not None:
        raise HeaderError(
            Reason.INVALID_PAYLOAD, f"send {PAYMENT_SIGNATURE} (v2) or {X_PAYMENT} (v1), not both"
        )
    if v2_value is not None and 2 in versions:
        payload = decode_header(v2_value, PaymentPayloadV2, name=PAYMENT_SIGNATURE)
        return Payment(2, payload)
    if v1_value is not None and 1 in versions:
        return Payment(1, decode_header(v1_value, PaymentPayloadV1, name=X_PAYMENT))
    if v2_value is not None or v1_value is not None:
        raise HeaderError(
            Reason.INVALID_X402_VERSION,
            f"this server accepts x402 {', '.join(f'v{v}' for v in sorted(versions))} only",
        )
    return None


def facilitator_body(payment: Payment, listing: Listing, resource_url: str) -> dict[str, Any]:
    """The `/verify` and `/settle` body: the payment and the requirements of its version."""
    requirements: BaseModel = (
        listing.requirements_v1(resource_url) if payment.version == 1 else listing.requirements_v2()
    )
    return {
        "x402Version": payment.version,
        "paymentPayload": payment.payload.wire(),
        "paymentRequirements": requirements.model_dump(
            by_alias=True, exclude_none=True, mode="json"
        ),
    }


def settlement_header(settlement: dict[str, Any]) -> str:
    return encode_json_header(settlement)
