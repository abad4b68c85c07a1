"""A client's MCP tool calls as the mock's journal recorded them, read as the HTTP exchanges they
stand for, so that the same money checks judge clients of either transport.

A call of the paid tool is a `POST` of the endpoint with the arguments as body, its payment (from
`_meta["x402/payment"]`) under `PAYMENT-SIGNATURE`; a PaymentRequired result is a `402` with it in
`PAYMENT-REQUIRED`, a job a `200`, `_meta["x402/payment-response"]` the `PAYMENT-RESPONSE`. A
`get_job` call is a `GET` of the job's status URL, its `retry_after` the `Retry-After`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from x402_core.headers import encode_json_header
from x402_core.tools import MCP_PATH, PAYMENT_META, PAYMENT_RESPONSE_META, STATUS_TOOL

ERROR_STATUSES = {
    "settlement_pending": 503,
    "facilitator_unavailable": 503,
    "unavailable": 503,
    "payment_identifier_conflict": 409,
    "rate_limited": 429,
    "not_found": 404,
    "unknown_tool": 404,
    "internal_error": 500,
}
"""The HTTP status each error code of a tool result stands for (others: 400)."""


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One `tools/call` and its result, as recorded."""

    entry: dict[str, Any]
    name: str
    arguments: Any
    meta: dict[str, Any]
    result: dict[str, Any]
    """The JSON-RPC result ({} when the call got a JSON-RPC error instead)."""

    @property
    def structured(self) -> dict[str, Any]:
        """`structuredContent`, else the JSON of `content[0].text`, else {}."""
        found = self.result.get("structuredContent")
        if isinstance(found, dict):
            return found
        content = self.result.get("content")
        if isinstance(content, list) and content and isinstance(content[0], dict):
            try:
                parsed = json.loads(str(content[0].get("text", "")))
            except ValueError:
                return {}
            return parsed if isinstance(parsed, dict) else {}
        return {}

    @property
    def status(self) -> int:
        if not self.result:
            return 400
        if not self.result.get("isError"):
            return 200
        found = self.structured
        if "accepts" in found or "x402Version" in found:
            return 402
        return ERROR_STATUSES.get(str(found.get("error")), 400)


def tool_calls(entries: list[dict[str, Any]]) -> list[ToolCall]:
    """Every recorded `tools/call`, in order."""
    return [call for call in map(_tool_call, entries) if call is not None]


def _tool_call(entry: dict[str, Any]) -> ToolCall | None:
    if entry["method"] != "POST" or entry["path"] != MCP_PATH:
        return None
    request, answer = _json(entry["body"]), _json(entry["response_body"])
    if not isinstance(request, dict) or request.get("method") != "tools/call":
        return None
    params = request.get("params")
    params = params if isinstance(params, dict) else {}
    meta = params.get("_meta")
    meta = meta if isinstance(meta, dict) else {}
    result = answer.get("result") if isinstance(answer, dict) else None
    return ToolCall(
        entry,
        str(params.get("name", "")),
        params.get("arguments"),
        meta,
        result if isinstance(result, dict) else {},
    )


def as_http(entries: list[dict[str, Any]], endpoint_path: str, paid_tool: str) -> list[dict]:
    """The journal with each tool call read as its HTTP exchange; other MCP messages (initialize,
    tools/list, notifications) left out, every other request kept as it is."""
    read = []
    for entry in entries:
        call = _tool_call(entry)
        if call is not None:
            read.append(_exchange(call, endpoint_path, paid_tool))
        elif entry["path"] != MCP_PATH:
            read.append(entry)
    return read


def _exchange(call: ToolCall, endpoint_path: str, paid_tool: str) -> dict[str, Any]:
    structured, status = call.structured, call.status
    headers: dict[str, str] = {}
    answer_headers: dict[str, str] = {}
    if PAYMENT_META in call.meta:
        payment = call.meta[PAYMENT_META]
        headers["payment-signature"] = (
            encode_json_header(payment) if isinstance(payment, dict) else str(payment)
        )
    if status == 402:
        answer_headers["payment-required"] = encode_json_header(structured)
    settlement = (call.result.get("_meta") or {}).get(PAYMENT_RESPONSE_META)
    if isinstance(settlement, dict):
        answer_headers["payment-response"] = encode_json_header(settlement)
    if isinstance(structured.get("retry_after"), int):
        answer_headers["retry-after"] = str(structured["retry_after"])
    if call.name == paid_tool:
        method, path, body = "POST", endpoint_path, json.dumps(call.arguments)
    elif call.name == STATUS_TOOL:
        job_id = (call.arguments or {}).get("job_id") if isinstance(call.arguments, dict) else ""
        method, path, body = "GET", f"{endpoint_path}/{job_id}", ""
    else:
        method, path, body = "POST", f"{MCP_PATH}/tools/{call.name}", json.dumps(call.arguments)
    return {
        **call.entry,
        "method": method,
        "path": path,
        "headers": {**call.entry["headers"], **headers},
        "body": body,
        "status": status,
        "response_headers": answer_headers,
        "response_body": "" if status == 402 else json.dumps(structured),
    }


def _json(text: str) -> Any:
    try:
        return json.loads(text or "null")
    except ValueError:
        return None
