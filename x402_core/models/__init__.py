"""Strict pydantic models of the x402 wire formats, v1 and v2, camelCase on the wire."""

from x402_core.models.facilitator import (
    SettleResponse,
    SupportedKind,
    SupportedResponse,
    VerifyRequest,
    VerifyResponse,
)
from x402_core.models.fields import ExactEvmPayload, TransferAuthorization, WireModel
from x402_core.models.v1 import PaymentPayloadV1, PaymentRequiredV1, PaymentRequirementsV1
from x402_core.models.v2 import (
    PaymentPayloadV2,
    PaymentRequiredV2,
    PaymentRequirementsV2,
    ResourceInfo,
)

__all__ = [
    "ExactEvmPayload",
    "PaymentPayloadV1",
    "PaymentPayloadV2",
    "PaymentRequiredV1",
    "PaymentRequiredV2",
    "PaymentRequirementsV1",
    "PaymentRequirementsV2",
    "ResourceInfo",
    "SettleResponse",
    "SupportedKind",
    "SupportedResponse",
    "TransferAuthorization",
    "VerifyRequest",
    "VerifyResponse",
    "WireModel",
]
