"""Building signed `exact` EVM payments for given requirements: what every paying client does."""

from __future__ import annotations

import time
from dataclasses import dataclass

from x402_core.eip3009 import (
    Authorization,
    Domain,
    random_nonce,
    sign_authorization,
    validity_window,
)
from x402_core.models import (
    ExactEvmPayload,
    PaymentPayloadV1,
    PaymentPayloadV2,
    PaymentRequirementsV1,
    PaymentRequirementsV2,
    ResourceInfo,
)
from x402_core.networks import Network, network_by_caip2, network_by_v1_name


class UnpayableError(ValueError):
    """Requirements this payer cannot honour (unknown network or asset, missing domain)."""


@dataclass(frozen=True, slots=True)
class Terms:
    """What one payment must say, whichever protocol version carried the offer."""

    network: Network
    asset: str
    pay_to: str
    amount: int
    max_timeout_seconds: int
    domain: Domain


def terms_of(requirements: PaymentRequirementsV1 | PaymentRequirementsV2) -> Terms:
    """The payment terms of v1 or v2 requirements; UnpayableError when they cannot be met."""
    if requirements.scheme != "exact":
        raise UnpayableError(f"scheme {requirements.scheme!r} is not supported; 'exact' is")
    try:
        if isinstance(requirements, PaymentRequirementsV1):
            network = network_by_v1_name(requirements.network)
            amount = int(requirements.max_amount_required)
        else:
            network = network_by_caip2(requirements.network)
            amount = int(requirements.amount)
    except ValueError as exc:
        raise UnpayableError(str(exc)) from exc
    if requirements.asset.lower() != network.usdc.address.lower():
        raise UnpayableError(
            f"asset {requirements.asset} is not USDC on {network.name} ({network.usdc.address})"
        )
    extra = requirements.extra or {}
    name, version = extra.get("name"), extra.get("version")
    if not isinstance(name, str) or not isinstance(version, str):
        raise UnpayableError("requirements.extra lacks the token's EIP-712 name and version")
    return Terms(
        network=network,
        asset=requirements.asset,
        pay_to=requirements.pay_to,
        amount=amount,
        max_timeout_seconds=requirements.max_timeout_seconds,
        domain=Domain(name, version, network.chain_id, requirements.asset),
    )


def sign_exact_payload(
    terms: Terms,
    private_key: bytes,
    payer_address: str,
    *,
    now: int | None = None,
    nonce: bytes | None = None,
) -> ExactEvmPayload:
    """A fresh EIP-3009 authorization of exactly `terms.amount` to `terms.pay_to`, signed."""
    valid_after, valid_before = validity_window(
        int(time.time()) if now is None else now, terms.max_timeout_seconds
    )
    auth = Authorization(
        from_address=payer_address,
        to=terms.pay_to,
        value=terms.amount,
        valid_after=valid_after,
        valid_before=valid_before,
        nonce=random_nonce() if nonce is None else nonce,
    )
    signature = sign_authorization(private_key, terms.domain, auth)
    return ExactEvmPayload(signature="0x" + signature.hex(), authorization=auth.to_wire())


def pay_v1(
    requirements: PaymentRequirementsV1,
    private_key: bytes,
    payer_address: str,
    *,
    now: int | None = None,
    nonce: bytes | None = None,
) -> PaymentPayloadV1:
    """The `X-PAYMENT` payload answering v1 requirements."""
    terms = terms_of(requirements)
    payload = sign_exact_payload(terms, private_key, payer_address, now=now, nonce=nonce)
    return PaymentPayloadV1(
        x402_version=1, scheme=requirements.scheme, network=requirements.network, payload=payload
    )


def pay_v2(
    requirements: PaymentRequirementsV2,
    private_key: bytes,
    payer_address: str,
    resource: ResourceInfo | None = None,
    *,
    now: int | None = None,
    nonce: bytes | None = None,
) -> PaymentPayloadV2:
    """The `PAYMENT-SIGNATURE` payload answering v2 requirements (`accepted` is them, verbatim)."""
    terms = terms_of(requirements)
    payload = sign_exact_payload(terms, private_key, payer_address, now=now, nonce=nonce)
    return PaymentPayloadV2(
        x402_version=2, resource=resource, accepted=requirements, payload=payload
    )
