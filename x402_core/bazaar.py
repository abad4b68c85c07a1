"""The `bazaar` discovery extension (extensions__bazaar.md): what a 402 says about how to call the
endpoint, derived from its listing, and checking an extension's `info` against its `schema`.

Pure: dictionaries in, dictionaries and problem strings out (jsonschema validates; no schema is
ever fetched: external `$ref`/`$id` are refused).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator, SchemaError

from x402_core.listing import InputLocation, Listing
from x402_core.tools import paid_tool_name, paid_tool_schema

BAZAAR = "bazaar"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
MCP_TRANSPORT = "streamable-http"
HTTP = "http"
MCP = "mcp"
INPUT_TYPES = (HTTP, MCP)


def _output(listing: Listing) -> tuple[dict[str, Any], dict[str, Any]]:
    """(`info.output`, its schema): JSON like the listing's example answer."""
    info = {"type": "json", "example": listing.example_output(listing.example_request())}
    schema = {
        "type": "object",
        "properties": {"type": {"type": "string"}, "example": listing.output_schema},
        "required": ["type"],
    }
    return info, schema


def _extension(input_info: dict[str, Any], input_schema: dict[str, Any], listing: Listing) -> dict:
    output_info, output_schema = _output(listing)
    return {
        "info": {"input": input_info, "output": output_info},
        "schema": {
            "$schema": DRAFT_2020_12,
            "type": "object",
            "properties": {"input": input_schema, "output": output_schema},
            "required": ["input"],
        },
    }


def http_extension(listing: Listing, max_string_chars: int | None = None) -> dict[str, Any]:
    """`extensions.bazaar` of the endpoint's 402: its method, its JSON body (or query
    parameters) with the schema that validates them, and its output."""
    request_schema = listing.input_schema(max_string_chars)
    if listing.location is InputLocation.BODY:
        info = {
            "type": HTTP,
            "method": listing.method,
            "bodyType": "json",
            "body": listing.example_request(),
        }
        properties = {
            "type": {"type": "string", "const": HTTP},
            "method": {"type": "string", "enum": ["POST", "PUT", "PATCH"]},
            "bodyType": {"type": "string", "enum": ["json", "form-data", "text"]},
            "body": request_schema,
        }
        required = ["type", "method", "bodyType", "body"]
    else:
        info = {"type": HTTP, "method": listing.method, "queryParams": listing.example_request()}
        properties = {
            "type": {"type": "string", "const": HTTP},
            "method": {"type": "string", "enum": ["GET", "HEAD", "DELETE"]},
            "queryParams": request_schema,
        }
        required = ["type", "method"]
    properties["headers"] = {"type": "object", "additionalProperties": {"type": "string"}}
    schema = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    return _extension(info, schema, listing)


def mcp_extension(listing: Listing, max_string_chars: int | None = None) -> dict[str, Any]:
    """`extensions.bazaar` of the paid tool's PaymentRequired: the tool, its inputSchema (the
    one `tools/list` declares) and an example of its arguments."""
    tool_schema = paid_tool_schema(listing, max_string_chars)
    info = {
        "type": MCP,
        "tool": paid_tool_name(listing),
        "description": listing.description,
        "transport": MCP_TRANSPORT,
        "inputSchema": tool_schema,
        "example": listing.example_request(),
    }
    schema = {
        "type": "object",
        "properties": {
            "type": {"type": "string", "const": MCP},
            "tool": {"type": "string"},
            "description": {"type": "string"},
            "transport": {"type": "string", "enum": ["streamable-http", "sse"]},
            "inputSchema": {"type": "object"},
            "example": tool_schema,
        },
        "required": ["type", "tool", "inputSchema"],
        "additionalProperties": False,
    }
    return _extension(info, schema, listing)


def problems(extension: object) -> list[str]:
    """What is wrong with a bazaar extension ([]: nothing): its shape, a schema that is not
    Draft 2020-12 or refers outside itself, and `info` against `schema`."""
    if not isinstance(extension, Mapping):
        return ["the bazaar extension must be an object with 'info' and 'schema'"]
    info, schema = extension.get("info"), extension.get("schema")
    if not isinstance(info, Mapping) or not isinstance(schema, Mapping):
        return ["the bazaar extension must have an 'info' object and a 'schema' object"]
    found = _shape(info, schema)
    if found:
        return found
    try:
        validator = Draft202012Validator(schema)
        validator.check_schema(schema)
    except SchemaError as exc:
        return [f"schema is not valid JSON Schema: {exc.message}"]
    return [f"info{_where(e.absolute_path)}: {e.message}" for e in validator.iter_errors(info)][:5]


def _shape(info: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    found = []
    if schema.get("$schema") != DRAFT_2020_12:
        found.append(f"schema.$schema is {schema.get('$schema')!r}; expected {DRAFT_2020_12}")
    if _refers_outside(schema):
        found.append("schema refers outside itself ($ref or $id not starting with '#')")
    kind = info.get("input", {}).get("type") if isinstance(info.get("input"), Mapping) else None
    if kind not in INPUT_TYPES:
        found.append(f"info.input.type is {kind!r}; expected one of {', '.join(INPUT_TYPES)}")
    return found


def _refers_outside(node: object) -> bool:
    if isinstance(node, Mapping):
        for key in ("$ref", "$id", "$dynamicRef"):
            value = node.get(key)
            if isinstance(value, str) and not value.startswith("#"):
                return True
        return any(_refers_outside(v) for v in node.values())
    if isinstance(node, list):
        return any(_refers_outside(v) for v in node)
    return False


def _where(path: Any) -> str:
    return "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in path)
