"""What the facilitator's journal records of a payment: the `paymentPayload` of the body."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers

from x402_core import strictjson

NOT_RECORDED = ("/journal", "/health", "/openapi.json")
"""Reading the journal, health probes and the API document would only bury the payments."""


def body_payment(headers: Headers, body: bytes) -> tuple[dict[str, Any] | None, int | None]:
    try:
        data = strictjson.loads(body)
    except strictjson.JsonError:
        return None, None
    if not isinstance(data, dict) or not isinstance(data.get("paymentPayload"), dict):
        return None, None
    version = data.get("x402Version")
    return data["paymentPayload"], version if isinstance(version, int) else None
