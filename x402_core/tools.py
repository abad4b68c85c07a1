"""The listed endpoint as MCP tools (transports-v2__mcp.md): the paid tool named from the listing,
the free `get_job` tool of job listings, their input schemas and the `_meta` keys of x402.

Pure: names and schemas derived from a Listing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from x402_core.headers import describe_validation_error
from x402_core.listing import Listing
from x402_core.models import PaymentPayloadV2

PAYMENT_META = "x402/payment"
"""`_meta` key of a tool call's PaymentPayload."""
PAYMENT_RESPONSE_META = "x402/payment-response"
"""`_meta` key of a tool result's SettlementResponse."""
STATUS_TOOL = "get_job"
MCP_PATH = "/mcp"
_VERSION_SEGMENT = re.compile(r"v\d+", re.ASCII)
_NOT_NAME = re.compile(r"[^a-z0-9_]+", re.ASCII)


def paid_tool_name(listing: Listing) -> str:
    """The paid tool's name, from the listing's path (see `tool_name_of_path`)."""
    return tool_name_of_path(listing.path)


def tool_name_of_path(path: str) -> str:
    """The path's last word, then the one before it in the singular (`/v1/images/generate` →
    `generate_image`); a one-word path is that word."""
    words = [
        _NOT_NAME.sub("_", part.lower()).strip("_")
        for part in path.split("/")
        if part and not _VERSION_SEGMENT.fullmatch(part)
    ]
    words = [w for w in words if w] or ["call"]
    if len(words) == 1:
        return words[0]
    noun = words[-2]
    if noun.endswith("s") and len(noun) > 3:
        noun = noun[:-1]
    return f"{words[-1]}_{noun}"


def paid_tool_schema(listing: Listing, max_string_chars: int | None = None) -> dict[str, Any]:
    """The paid tool's `inputSchema`: the listing's request, as its JSON Schema."""
    return listing.input_schema(max_string_chars)


STATUS_TOOL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["job_id"],
    "properties": {"job_id": {"type": "string", "description": "the id the paid tool answered"}},
}


def without_nulls(value: Any) -> Any:
    """`value` with every explicit JSON null member left out: the official SDK's MCP client
    sends optional fields as null (`model_dump` without `exclude_none`)."""
    if isinstance(value, Mapping):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def payment_in_meta(meta: Mapping[str, Any] | None) -> PaymentPayloadV2 | None:
    """The PaymentPayload a tool call carries in `_meta["x402/payment"]` (None: no payment);
    ValueError says why one that is there is not a v2 PaymentPayload object."""
    raw = (meta or {}).get(PAYMENT_META)
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValueError(
            f'_meta["{PAYMENT_META}"] is a {type(raw).__name__}; expected a PaymentPayload object'
        )
    try:
        return PaymentPayloadV2.model_validate(without_nulls(raw))
    except ValidationError as exc:
        raise ValueError(f'_meta["{PAYMENT_META}"]: {describe_validation_error(exc)}') from exc
