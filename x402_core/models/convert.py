"""Conversions between v1 and v2 where both say the same thing."""

from __future__ import annotations

from x402_core.models.v1 import PaymentPayloadV1, PaymentRequirementsV1
from x402_core.models.v2 import PaymentPayloadV2, PaymentRequirementsV2, ResourceInfo
from x402_core.networks import network_by_caip2, network_by_v1_name


def requirements_v1_to_v2(req: PaymentRequirementsV1) -> PaymentRequirementsV2:
    """The v2 spelling of v1 requirements (the resource fields move to `ResourceInfo`)."""
    return PaymentRequirementsV2(
        scheme=req.scheme,
        network=network_by_v1_name(req.network).caip2,
        amount=req.max_amount_required,
        asset=req.asset,
        pay_to=req.pay_to,
        max_timeout_seconds=req.max_timeout_seconds,
        extra=req.extra,
    )


def resource_of_v1(req: PaymentRequirementsV1) -> ResourceInfo:
    """The v2 `resource` object that v1 requirements carry inline."""
    return ResourceInfo(url=req.resource, description=req.description, mime_type=req.mime_type)


def requirements_v2_to_v1(
    req: PaymentRequirementsV2,
    resource: ResourceInfo,
    output_schema: dict | None = None,
) -> PaymentRequirementsV1:
    """The v1 spelling of v2 requirements for `resource`."""
    return PaymentRequirementsV1(
        scheme=req.scheme,
        network=network_by_caip2(req.network).name,
        max_amount_required=req.amount,
        resource=resource.url,
        description=resource.description or "",
        mime_type=resource.mime_type or "",
        output_schema=output_schema,
        pay_to=req.pay_to,
        max_timeout_seconds=req.max_timeout_seconds,
        asset=req.asset,
        extra=req.extra,
    )


def payload_v1_to_v2(payload: PaymentPayloadV1, req: PaymentRequirementsV1) -> PaymentPayloadV2:
    """A v1 payment as v2 would carry it, `accepted` being the v1 requirements it answers."""
    return PaymentPayloadV2(
        x402_version=2,
        resource=resource_of_v1(req),
        accepted=requirements_v1_to_v2(req),
        payload=payload.payload,
    )
