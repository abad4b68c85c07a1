"""The x402 HTTP headers: base64 of JSON, with a distinct error for each way decoding fails."""

from __future__ import annotations

import base64
import binascii
import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from x402_core import strictjson
from x402_core.reasons import Reason

PAYMENT_REQUIRED = "PAYMENT-REQUIRED"
PAYMENT_SIGNATURE = "PAYMENT-SIGNATURE"
PAYMENT_RESPONSE = "PAYMENT-RESPONSE"
X_PAYMENT = "X-PAYMENT"
X_PAYMENT_RESPONSE = "X-PAYMENT-RESPONSE"

MAX_HEADER_CHARS = 16 * 1024
"""Longest header value accepted; a real payment header is well under 2 KiB."""

ModelT = TypeVar("ModelT", bound=BaseModel)


class HeaderError(ValueError):
    """A header that could not be decoded; `reason` is the wire string that says why."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def encode_json_header(data: object) -> str:
    """Base64 (standard alphabet, padded) of compact JSON."""
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.b64encode(raw).decode("ascii")


def encode_header(model: BaseModel) -> str:
    """A wire model as a header value."""
    return encode_json_header(model.model_dump(by_alias=True, exclude_none=True, mode="json"))


def decode_json_header(
    value: str, *, name: str = "header", max_chars: int | None = MAX_HEADER_CHARS
) -> object:
    """The JSON inside a header value; HeaderError on size (beyond `max_chars`, None: any),
    base64 or JSON trouble."""
    if max_chars is not None and len(value) > max_chars:
        raise HeaderError(
            Reason.HEADER_TOO_LARGE,
            f"{name} is {len(value)} characters; at most {max_chars} are accepted",
        )
    stripped = value.strip()
    try:
        raw = base64.b64decode(_padded(stripped), altchars=_altchars(stripped), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise HeaderError(Reason.HEADER_BAD_BASE64, f"{name} is not valid base64: {exc}") from exc
    try:
        return strictjson.loads(raw)
    except strictjson.JsonError as exc:
        raise HeaderError(
            Reason.HEADER_BAD_JSON, f"{name} does not hold UTF-8 JSON after base64: {exc}"
        ) from exc


def decode_header(
    value: str,
    model: type[ModelT],
    *,
    name: str = "header",
    max_chars: int | None = MAX_HEADER_CHARS,
) -> ModelT:
    """A header value decoded into `model`; HeaderError names the first schema violation."""
    data = decode_json_header(value, name=name, max_chars=max_chars)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise HeaderError(
            Reason.INVALID_PAYLOAD, f"{name}: {describe_validation_error(exc)}"
        ) from exc


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming each failing field and what was expected of it."""
    parts = []
    for error in exc.errors(include_url=False)[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "(body)"
        parts.append(f"{where}: {error['msg']}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _padded(value: str) -> str:
    return value + "=" * (-len(value) % 4)


def _altchars(value: str) -> bytes | None:
    """Accept the URL-safe alphabet too: some clients send it."""
    return b"-_" if ("-" in value or "_" in value) else None
