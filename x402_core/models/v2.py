"""x402 version 2: CAIP-2 networks, `amount`, requirements in the `PAYMENT-REQUIRED` header."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from x402_core.models.fields import Address, ExactEvmPayload, TimeoutSeconds, Uint256, WireModel


class ResourceInfo(WireModel):
    """The resource being paid for."""

    url: str = Field(max_length=4096)
    description: str | None = Field(default=None, max_length=4096)
    mime_type: str | None = Field(default=None, max_length=256)


class PaymentRequirementsV2(WireModel):
    """One way to pay, as a v2 server offers it."""

    scheme: str = Field(min_length=1, max_length=64)
    network: str = Field(min_length=1, max_length=64)
    amount: Uint256
    asset: Address
    pay_to: Address
    max_timeout_seconds: TimeoutSeconds
    extra: dict[str, Any] | None = None


class PaymentRequiredV2(WireModel):
    """The decoded `PAYMENT-REQUIRED` header."""

    x402_version: Literal[2]
    error: str | None = None
    resource: ResourceInfo | None = None
    accepts: list[PaymentRequirementsV2]
    extensions: dict[str, Any] | None = None


class PaymentPayloadV2(WireModel):
    """What a v2 client sends in `PAYMENT-SIGNATURE`: the chosen requirements and the payload."""

    x402_version: Literal[2]
    resource: ResourceInfo | None = None
    accepted: PaymentRequirementsV2
    payload: ExactEvmPayload
    extensions: dict[str, Any] | None = None
