"""The bazaar catalogue (extensions__bazaar.md): resources whose payments this facilitator verified
or settled, each with the discovery info its payload echoed, listed at `GET /discovery/resources`.

Info is validated against its own schema before it is catalogued; a rejected one is said in the
`EXTENSION-RESPONSES` header of the answer. Entries are keyed by resource URL (and tool, for MCP)
and live as long as the process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from x402_core import bazaar
from x402_core.headers import encode_json_header
from x402_core.models.facilitator import VerifyRequestV1, VerifyRequestV2

EXTENSION_RESPONSES = "EXTENSION-RESPONSES"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
"""x402-specification-v2.md §8.1: limit 1-100, 20 by default."""
MAX_ENTRIES = 10_000
"""Resources kept; the least recently seen go first."""


class Catalogue:
    def __init__(self) -> None:
        self._items: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def record(self, request: VerifyRequestV1 | VerifyRequestV2) -> dict[str, Any] | None:
        """Catalogue the resource of a verified or settled payment whose payload carries bazaar
        info; the `bazaar` response for EXTENSION-RESPONSES (None: no bazaar info)."""
        if not isinstance(request, VerifyRequestV2):
            return None
        payload = request.payment_payload
        extension = (payload.extensions or {}).get(bazaar.BAZAAR)
        if extension is None:
            return None
        found = self.problems(extension)
        if found:
            return {"status": "rejected", "rejectedReason": "; ".join(found)[:500]}
        if payload.resource is None:
            return {"status": "rejected", "rejectedReason": "the payload names no resource"}
        kind = extension["info"]["input"]["type"]
        tool = _tool(extension["info"]["input"]) if kind == bazaar.MCP else ""
        item = {
            "resource": payload.resource.url,
            "type": kind,
            "x402Version": 2,
            "accepts": [request.payment_requirements.wire()],
            "lastUpdated": int(time.time()),
            "description": payload.resource.description or "",
            "mimeType": payload.resource.mime_type or "",
            "extensions": {bazaar.BAZAAR: dict(extension)},
        }
        with self._lock:
            self._items.pop((payload.resource.url, tool), None)
            self._items[(payload.resource.url, tool)] = item
            while len(self._items) > MAX_ENTRIES:
                self._items.pop(next(iter(self._items)))
        return {"status": "success"}

    @staticmethod
    def problems(extension: object) -> list[str]:
        """Why bazaar info cannot be catalogued ([]: it can)."""
        return bazaar.problems(extension)

    def page(self, kind: str | None, limit: int, offset: int) -> dict[str, Any]:
        """`{x402Version, items, pagination: {limit, offset, total}}`, oldest first."""
        with self._lock:
            chosen = [i for i in self._items.values() if kind is None or i["type"] == kind]
        return {
            "x402Version": 2,
            "items": chosen[offset : offset + limit],
            "pagination": {"limit": limit, "offset": offset, "total": len(chosen)},
        }


def _tool(info_input: Mapping[str, Any]) -> str:
    """The spec's `tool`, or `toolName` as the official SDK writes it."""
    return str(info_input.get("tool") or info_input.get("toolName") or "")


def extension_responses(bazaar_response: dict[str, Any] | None) -> dict[str, str]:
    """The header that tells the server (and client) what became of its bazaar info."""
    if bazaar_response is None:
        return {}
    return {EXTENSION_RESPONSES: encode_json_header({bazaar.BAZAAR: bazaar_response})}


def discovery_route(catalogue: Catalogue) -> Route:
    async def list_resources(request: Request) -> JSONResponse:
        """`GET /discovery/resources?type=http|mcp&limit=N&offset=M`: the catalogued
        resources, a page at a time."""
        query = request.query_params
        kind = query.get("type") or None
        try:
            limit = _whole(query.get("limit"), DEFAULT_LIMIT, "limit", 1, MAX_LIMIT)
            offset = _whole(query.get("offset"), 0, "offset", 0, 10**9)
            if kind is not None and kind not in bazaar.INPUT_TYPES:
                raise ValueError(f"type is {kind[:40]!r}; expected http or mcp")
        except ValueError as exc:
            return JSONResponse({"error": "invalid_request", "message": str(exc)}, 400)
        return JSONResponse(catalogue.page(kind, limit, offset))

    return Route("/discovery/resources", list_resources, methods=["GET"])


def _whole(text: str | None, default: int, name: str, low: int, high: int) -> int:
    if text is None or text == "":
        return default
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{name} is {text[:40]!r}; expected a whole number from {low} to {high}")
    return int(text)
