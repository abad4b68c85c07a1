"""The facilitator's HTTP API: `/verify` and `/settle` bodies and answers, `/supported`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from x402_core.models.fields import WireModel
from x402_core.models.v1 import PaymentPayloadV1, PaymentRequirementsV1
from x402_core.models.v2 import PaymentPayloadV2, PaymentRequirementsV2


class VerifyRequestV1(WireModel):
    x402_version: Literal[1]
    payment_payload: PaymentPayloadV1
    payment_requirements: PaymentRequirementsV1


class VerifyRequestV2(WireModel):
    x402_version: Literal[2]
    payment_payload: PaymentPayloadV2
    payment_requirements: PaymentRequirementsV2


VerifyRequest = VerifyRequestV1 | VerifyRequestV2
"""The body of `/verify` and of `/settle` (they are the same)."""


class VerifyResponse(WireModel):
    is_valid: bool
    invalid_reason: str | None = None
    invalid_message: str | None = None
    payer: str | None = None


class SettleResponse(WireModel):
    success: bool
    error_reason: str | None = None
    error_message: str | None = None
    payer: str | None = None
    transaction: str = ""
    network: str


class SupportedKind(WireModel):
    x402_version: int
    scheme: str
    network: str
    extra: dict[str, str] | None = None


class SupportedResponse(WireModel):
    kinds: list[SupportedKind]
    extensions: list[str] = Field(default_factory=list)
    signers: dict[str, list[str]] = Field(default_factory=dict)
