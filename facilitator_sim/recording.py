"""What the facilitator's journal records of a payment: the `paymentPayload` of the body."""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import Headers

NOT_RECORDED = ("/journal", "/health")
"""Reading the journal and health probes would only bury the payments."""


def body_payment(headers: Headers, body: bytes) -> tuple[dict[str, Any] | None, int | None]:
    try:
        data = json.loads(body)
    except ValueError:
        return None, None
    if not isinstance(data, dict) or not isinstance(data.get("paymentPayload"), dict):
        return None, None
    version = data.get("x402Version")
    return data["paymentPayload"], version if isinstance(version, int) else None
