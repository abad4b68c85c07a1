"""The listed endpoint as MCP tools (transports-v2__mcp.md): the paid tool named from the listing,
the free `get_job` tool of job listings, their input schemas and the `_meta` keys of x402.

Pure: names and schemas derived from a Listing.
"""

from __future__ import annotations

import re
from typing import Any

from x402_core.listing import Listing

PAYMENT_META = "x402/payment"
"""`_meta` key of a tool call's PaymentPayload."""
PAYMENT_RESPONSE_META = "x402/payment-response"
"""`_meta` key of a tool result's SettlementResponse."""
STATUS_TOOL = "get_job"
MCP_PATH = "/mcp"
_VERSION_SEGMENT = re.compile(r"v\d+", re.ASCII)
_NOT_NAME = re.compile(r"[^a-z0-9_]+", re.ASCII)


def paid_tool_name(listing: Listing) -> str:
    """The paid tool's name: the path's last word, then the one before it in the singular
    (`/v1/images/generate` → `generate_image`); a one-word path is that word."""
    words = [
        _NOT_NAME.sub("_", part.lower()).strip("_")
        for part in listing.path.split("/")
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
