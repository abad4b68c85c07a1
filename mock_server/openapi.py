"""`GET /openapi.json`: the public endpoints, the 402 answer included, from the listing."""

from __future__ import annotations

from typing import Any

from mock_server.config import ServerSettings
from x402_core.headers import PAYMENT_REQUIRED, PAYMENT_RESPONSE, PAYMENT_SIGNATURE, X_PAYMENT
from x402_core.listing import InputLocation, Listing

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}
_PAYMENT_HEADERS = [
    {
        "in": "header",
        "name": name,
        "required": False,
        "schema": {"type": "string"},
        "description": f"x402 {version} payment (base64 JSON)",
    }
    for name, version in ((PAYMENT_SIGNATURE, "v2"), (X_PAYMENT, "v1"))
]
_JOB_ID = {"in": "path", "name": "job_id", "required": True, "schema": {"type": "string"}}


def openapi_document(listing: Listing, settings: ServerSettings) -> dict[str, Any]:
    price = f"{listing.amount / 10**listing.network.usdc.decimals:g} USDC"
    paths: dict[str, Any] = {
        listing.path: {listing.method.lower(): _paid_operation(listing, settings, price)}
    }
    if listing.is_job:
        paths |= _job_paths(listing)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{listing.title} (x402-harness mock)",
            "version": "1.0.0",
            "description": listing.description,
        },
        "paths": paths,
        "components": {"schemas": {"Answer": _answer_schema(listing)}},
    }


def _paid_operation(listing: Listing, settings: ServerSettings, price: str) -> dict[str, Any]:
    schema = listing.input_schema(settings.max_string_chars)
    operation: dict[str, Any] = {
        "summary": f"{listing.title} ({price} on {listing.network.name}, paid with x402)",
        "parameters": list(_PAYMENT_HEADERS),
    }
    if listing.location is InputLocation.QUERY:
        operation["parameters"] += [
            {"in": "query", "name": name, "required": name in schema["required"], "schema": spec}
            for name, spec in schema["properties"].items()
        ]
    else:
        operation["requestBody"] = {
            "required": True,
            "description": f"JSON, at most {settings.max_body_bytes} bytes",
            "content": {"application/json": {"schema": schema}},
        }
    answer = {"$ref": "#/components/schemas/Answer"}
    paid_headers = {PAYMENT_RESPONSE: {"schema": {"type": "string"}}}
    if listing.is_job:
        paid_headers["Location"] = {"schema": {"type": "string"}}
    operation["responses"] = {
        "200": {
            "description": "paid: the job was created" if listing.is_job else "paid: the answer",
            "headers": paid_headers,
            "content": {"application/json": {"schema": answer}},
        },
        "400": {
            "description": f"invalid {listing.location.value} or malformed payment header",
            "content": {"application/json": {"schema": _ERROR}},
        },
        "402": {
            "description": "pay first: v2 offer in the header, v1 in the body",
            "headers": {PAYMENT_REQUIRED: {"schema": {"type": "string"}}},
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        "503": {
            "description": "the facilitator is unavailable (nothing was charged), or the "
            "settlement is pending: send the same payment again",
            "content": {"application/json": {"schema": _ERROR}},
        },
    }
    return operation


def _job_paths(listing: Listing) -> dict[str, Any]:
    answer = {"$ref": "#/components/schemas/Answer"}
    return {
        f"{listing.path}/{{job_id}}": {
            "get": {
                "summary": "The job's status (free); Retry-After while it runs",
                "parameters": [_JOB_ID],
                "responses": {
                    "200": {
                        "description": "the job",
                        "content": {"application/json": {"schema": answer}},
                    },
                    "404": {
                        "description": "unknown job",
                        "content": {"application/json": {"schema": _ERROR}},
                    },
                    "429": {"description": "polled too fast"},
                    "503": {"description": "briefly unavailable"},
                },
            }
        },
        "/v1/images/{job_id}/{index}.png": {
            "get": {
                "summary": "An image of a completed job",
                "parameters": [
                    _JOB_ID,
                    {
                        "in": "path",
                        "name": "index",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1},
                        "description": "1 for the first image",
                    },
                ],
                "responses": {
                    "200": {"description": "PNG", "content": {"image/png": {}}},
                    "404": {"description": "no such image"},
                },
            }
        },
    }


def _answer_schema(listing: Listing) -> dict[str, Any]:
    if not listing.is_job:
        return listing.output_schema
    return {
        **listing.output_schema,
        "properties": {
            **listing.output_schema.get("properties", {}),
            "images": {"type": "array", "items": {"type": "object"}},
            "error": {"type": "object"},
        },
    }
