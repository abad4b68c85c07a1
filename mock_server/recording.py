"""What the mock's journal records of a payment: the decoded payment header, or the payment in an
MCP tool call's `_meta`, when it decodes."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers

from mock_server.paywall import read_payment
from x402_core import strictjson
from x402_core.headers import HeaderError
from x402_core.tools import PAYMENT_META, payment_in_meta
from x402_service.journal import PaymentReader

NOT_RECORDED_PREFIX = "/__mock__"


def header_payment_reader(versions: frozenset[int]) -> PaymentReader:
    """The payment of a paid request's header, or of an MCP tool call's `_meta`."""

    def read(headers: Headers, body: bytes) -> tuple[dict[str, Any] | None, int | None]:
        try:
            decoded = read_payment(headers, versions)
        except HeaderError:
            return None, None  # the malformed header itself is in the recorded headers
        if decoded is None:
            return meta_payment(body)
        return decoded.payload.wire(), decoded.version

    return read


def meta_payment(body: bytes) -> tuple[dict[str, Any] | None, int | None]:
    """The PaymentPayload of a `tools/call` body (None when it does not decode: the body
    itself is recorded)."""
    if PAYMENT_META.encode() not in body:  # the usual case, read without parsing
        return None, None
    try:
        message = strictjson.loads(body)
        params = message.get("params") if isinstance(message, dict) else None
        meta = params.get("_meta") if isinstance(params, dict) else None
        payload = payment_in_meta(meta if isinstance(meta, dict) else None)
    except (strictjson.JsonError, ValueError):
        return None, None
    return (None, None) if payload is None else (payload.wire(), 2)
