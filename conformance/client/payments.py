"""The payments a client made, each beside the offer it answered: what the payment checks judge.

A payment is compared with the offer of the last 402 the client got before sending it, in the
same scenario and the same protocol version, never with an offer made elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.client.session import ClientSession, Offer, ScenarioRun
from x402_core.eip3009 import Authorization, Domain, SignatureError, recover_signer, transfer_digest
from x402_core.models import (
    PaymentPayloadV1,
    PaymentPayloadV2,
    PaymentRequirementsV1,
    PaymentRequirementsV2,
)
from x402_core.networks import UnknownNetworkError, network_by_v1_name, parse_caip2

SKEW_SECONDS = 30
"""How far validBefore may reach past maxTimeoutSeconds: clocks drift."""

Payload = PaymentPayloadV1 | PaymentPayloadV2
Requirements = PaymentRequirementsV1 | PaymentRequirementsV2


class NotComparable(Exception):  # noqa: N818 (a judgement, not an error)
    """This payment cannot be judged by the check: it says why."""


@dataclass(frozen=True, slots=True)
class MadePayment:
    """One paid request: the decoded payload (None: it did not decode) and the offer it answered."""

    run: ScenarioRun
    entry: dict[str, Any]
    payload: Payload | None
    offer: Offer

    @property
    def sent_at(self) -> float:
        return float(self.entry["time"])

    def answered(self) -> tuple[Requirements, Payload]:
        """(the offered requirements this payment answers, its payload): the option of its
        scheme and network in its own version's offer, else that offer's first option."""
        payload = self.payload
        if isinstance(payload, PaymentPayloadV2):
            if self.offer.v2 is None or not self.offer.v2.accepts:
                raise NotComparable("no readable v2 offer preceded it")
            options: list[Any] = list(self.offer.v2.accepts)
            scheme, network = payload.accepted.scheme, payload.accepted.network
        elif isinstance(payload, PaymentPayloadV1):
            if self.offer.v1 is None or not self.offer.v1.accepts:
                raise NotComparable("no readable v1 offer preceded it")
            options = list(self.offer.v1.accepts)
            scheme, network = payload.scheme, payload.network
        else:
            raise NotComparable("it did not decode (see CLI-002)")
        same = [o for o in options if (o.scheme, o.network) == (scheme, network)]
        return (same or options)[0], payload

    def shown(self) -> dict[str, Any]:
        wire = self.payload.wire() if self.payload is not None else self.entry.get("headers")
        return {"scenario": self.run.scenario, "payment": wire}


def payments(session: ClientSession) -> list[MadePayment]:
    """Every paid request of every scenario, decoded, with the offer the client had."""
    made = []
    for run, entry in session.all_paid():
        version = entry.get("payment_version")
        model: type[Payload] = PaymentPayloadV2 if version == 2 else PaymentPayloadV1
        payload = model.model_validate(entry["payment"]) if entry.get("payment") else None
        made.append(MadePayment(run, entry, payload, run.offer_before(entry)))
    return made


Judge = Callable[[MadePayment], str | None]
"""Names what is wrong with a payment, None when nothing is; raises NotComparable to abstain."""


def accepted_as_offered(payment: MadePayment) -> str | None:
    payload = payment.payload
    if not isinstance(payload, PaymentPayloadV2):
        raise NotComparable("a v1 payment carries no `accepted`")
    if payment.offer.v2 is None:
        raise NotComparable("no readable v2 offer preceded it")
    if payload.accepted in payment.offer.v2.accepts:
        return None
    return "`accepted` is not one of the requirements the 402 before it offered"


def terms_as_offered(payment: MadePayment) -> str | None:
    offer, payload = payment.answered()
    auth = payload.payload.authorization
    amount = offer.amount if isinstance(offer, PaymentRequirementsV2) else offer.max_amount_required
    network = payload.accepted.network if isinstance(payload, PaymentPayloadV2) else payload.network
    if auth.to.lower() != offer.pay_to.lower():
        return f"to is {auth.to}; payTo is {offer.pay_to}"
    if auth.value != amount:
        return f"value is {auth.value}; the amount is {amount}"
    if network != offer.network:
        return f"network is {network}; the offer's is {offer.network}"
    return None


def _chain_id(offer: Requirements) -> int:
    if isinstance(offer, PaymentRequirementsV2):
        namespace, reference = parse_caip2(offer.network)
        if namespace != "eip155" or not reference.isdigit():
            raise NotComparable(f"{offer.network} is not an EVM chain")
        return int(reference)
    try:
        return network_by_v1_name(offer.network).chain_id
    except UnknownNetworkError as exc:
        raise NotComparable(f"the chain id of v1 network {offer.network!r} is unknown") from exc


def signed_under_offered_domain(payment: MadePayment) -> str | None:
    offer, payload = payment.answered()
    extra = offer.extra or {}
    if not isinstance(extra.get("name"), str) or not isinstance(extra.get("version"), str):
        raise NotComparable("the offer gave no EIP-712 domain (extra.name, extra.version)")
    domain = Domain(extra["name"], extra["version"], _chain_id(offer), offer.asset)
    auth = Authorization.from_wire(payload.payload.authorization)
    try:
        signer = recover_signer(
            transfer_digest(domain, auth), bytes.fromhex(payload.payload.signature[2:])
        )
    except (SignatureError, ValueError) as exc:
        return f"the signature does not recover: {exc}"
    if signer.lower() != auth.from_address.lower():
        return f"under {domain}, the signature recovers to {signer}, not from={auth.from_address}"
    return None


def valid_when_sent(payment: MadePayment) -> str | None:
    if payment.payload is None:
        raise NotComparable("it did not decode (see CLI-002)")
    auth = payment.payload.payload.authorization
    sent, after, before = payment.sent_at, int(auth.valid_after), int(auth.valid_before)
    if after > sent:
        return f"validAfter {after} is after the request ({sent:.0f})"
    if before <= sent:
        return f"validBefore {before} had passed at the request ({sent:.0f})"
    return None


def window_within_timeout(payment: MadePayment) -> str | None:
    offer, payload = payment.answered()
    before, sent = int(payload.payload.authorization.valid_before), payment.sent_at
    longest = offer.max_timeout_seconds + SKEW_SECONDS
    if before > sent + longest:
        return (
            f"validBefore is {before - sent:.0f} s ahead; at most maxTimeoutSeconds "
            f"({offer.max_timeout_seconds} s, +{SKEW_SECONDS} s)"
        )
    return None
