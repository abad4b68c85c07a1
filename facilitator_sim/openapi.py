"""`GET /openapi.json`: the facilitator's API, its bodies' schemas taken from the wire models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from x402_core.models.facilitator import (
    SettleResponse,
    SupportedResponse,
    VerifyRequestV1,
    VerifyRequestV2,
    VerifyResponse,
)

MODELS: tuple[type[BaseModel], ...] = (
    VerifyRequestV1,
    VerifyRequestV2,
    VerifyResponse,
    SettleResponse,
    SupportedResponse,
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _payment_operation(summary: str, answer: str) -> dict[str, Any]:
    """`/verify` and `/settle`: the same body, each its own answer (also for refused bodies)."""
    body = {"oneOf": [_ref("VerifyRequestV1"), _ref("VerifyRequestV2")]}
    return {
        "post": {
            "summary": summary,
            "requestBody": {"required": True, **_json(body, "at most max_body_bytes of JSON")},
            "responses": {
                "200": _json(_ref(answer), "the answer (a refusal is an answer too)"),
                "400": _json(_ref(answer), "not a verify/settle request: the reason says why"),
            },
        }
    }


_HEALTH = {
    "type": "object",
    "required": ["status", "chain", "chainId", "network", "token", "signer"],
    "properties": {
        "status": {"const": "ok"},
        "chain": {"type": "string", "enum": ["ledger", "evm"]},
        "chainId": {"type": "integer"},
        "network": {"type": "string"},
        "token": {"type": "string"},
        "signer": {"type": "string"},
    },
}
_JOURNAL_PAGE = {
    "type": "object",
    "required": ["entries", "next", "more"],
    "properties": {
        "entries": {"type": "array", "items": {"type": "object"}},
        "next": {"type": "integer", "description": "the `since` of the following page"},
        "more": {"type": "boolean"},
    },
}
_DISCOVERY_PAGE = {
    "type": "object",
    "properties": {
        "x402Version": {"type": "integer"},
        "items": {"type": "array", "items": {"type": "object"}},
        "pagination": {
            "type": "object",
            "properties": {
                "limit": {"type": "integer"},
                "offset": {"type": "integer"},
                "total": {"type": "integer"},
            },
        },
    },
}
_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}


def _query(name: str, description: str, minimum: int) -> dict[str, Any]:
    schema = {"type": "integer", "minimum": minimum}
    return {"in": "query", "name": name, "schema": schema, "description": description}


def openapi_document() -> dict[str, Any]:
    _, schemas = models_json_schema(
        [(model, "validation") for model in MODELS],
        by_alias=True,
        ref_template="#/components/schemas/{model}",
    )
    journal_parameters = [
        _query("since", "entries after this sequence number (default 0)", 0),
        _query("limit", "entries at most in this page (default 500, at most 1000)", 1),
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "x402-harness facilitator",
            "version": "1.0.0",
            "description": "Verifies and settles x402 `exact` EVM payments (EIP-3009).",
        },
        "paths": {
            "/verify": _payment_operation(
                "Is this payment valid? Changes no state", "VerifyResponse"
            ),
            "/settle": _payment_operation("Verify again, then transfer on chain", "SettleResponse"),
            "/supported": {
                "get": {
                    "summary": "The kinds settled here, and the signer",
                    "responses": {"200": _json(_ref("SupportedResponse"), "the kinds")},
                }
            },
            "/discovery/resources": {
                "get": {
                    "summary": "The bazaar catalogue: resources verified or settled here",
                    "parameters": [
                        {
                            "in": "query",
                            "name": "type",
                            "schema": {"type": "string", "enum": ["http", "mcp"]},
                            "description": "only resources of this input type",
                        },
                        _query(
                            "limit", "items at most in this page (default 100, at most 1000)", 1
                        ),
                        _query("offset", "items skipped before this page (default 0)", 0),
                    ],
                    "responses": {
                        "200": _json(_DISCOVERY_PAGE, "a page"),
                        "400": _json(_ERROR, "type, limit or offset out of range"),
                    },
                }
            },
            "/health": {
                "get": {
                    "summary": "Alive, and on which chain",
                    "responses": {"200": _json(_HEALTH, "alive")},
                }
            },
            "/journal": {
                "get": {
                    "summary": "A page of the requests and answers recorded (loopback callers)",
                    "parameters": journal_parameters,
                    "responses": {
                        "200": _json(_JOURNAL_PAGE, "a page"),
                        "400": _json(_ERROR, "since or limit is not a whole number in range"),
                        "403": _json(_ERROR, "a cross-site request, or a Host not naming it"),
                    },
                }
            },
        },
        "components": {"schemas": schemas["$defs"]},
    }
