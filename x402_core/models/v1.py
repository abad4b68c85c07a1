"""x402 version 1: network names (`base`), `maxAmountRequired`, requirements in the 402 body."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from x402_core.models.fields import Address, ExactEvmPayload, TimeoutSeconds, Uint256, WireModel


class PaymentRequirementsV1(WireModel):
    """One way to pay, as a v1 server offers it."""

    scheme: str = Field(min_length=1, max_length=64)
    network: str = Field(min_length=1, max_length=64)
    max_amount_required: Uint256
    resource: str = Field(max_length=4096)
    description: str = Field(default="", max_length=4096)
    mime_type: str = Field(default="", max_length=256)
    output_schema: dict[str, Any] | None = None
    pay_to: Address
    max_timeout_seconds: TimeoutSeconds
    asset: Address
    extra: dict[str, Any] | None = None


class PaymentRequiredV1(WireModel):
    """The body of a v1 402 answer."""

    x402_version: Literal[1]
    error: str | None = None
    accepts: list[PaymentRequirementsV1]


class PaymentPayloadV1(WireModel):
    """What a v1 client sends in `X-PAYMENT`."""

    x402_version: Literal[1]
    scheme: str = Field(min_length=1, max_length=64)
    network: str = Field(min_length=1, max_length=64)
    payload: ExactEvmPayload
