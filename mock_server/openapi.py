"""`GET /openapi.json`: the public endpoints, the 402 answer included, from the listing."""

from __future__ import annotations

from typing import Any

from mock_server.config import ServerSettings
from x402_core.headers import PAYMENT_REQUIRED, PAYMENT_RESPONSE, PAYMENT_SIGNATURE, X_PAYMENT
from x402_core.listing import Listing


def _field_schema(name: str, spec: dict[str, Any], settings: ServerSettings) -> dict[str, Any]:
    """A body field's schema from the listing, with the limits the server enforces."""
    schema = {k: v for k, v in spec.items() if k != "required"}
    if name == "prompt":
        # Not blank (a non-space character somewhere) and not longer than the server takes.
        schema.update(minLength=1, maxLength=settings.max_prompt_chars, pattern=r"\S")
    return schema


def openapi_document(listing: Listing, settings: ServerSettings) -> dict[str, Any]:
    required = [name for name, spec in listing.body_fields.items() if spec.get("required")]
    body_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": {
            name: _field_schema(name, spec, settings) for name, spec in listing.body_fields.items()
        },
    }
    error_schema = {
        "type": "object",
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    }
    job = {"$ref": "#/components/schemas/Job"}
    price = f"{listing.amount / 10**listing.network.usdc.decimals:g} USDC"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{listing.title} (x402-harness mock)",
            "version": "1.0.0",
            "description": listing.description,
        },
        "paths": {
            listing.path: {
                "post": {
                    "summary": f"Queue an image generation job ({price}, paid with x402)",
                    "parameters": [
                        {
                            "in": "header",
                            "name": PAYMENT_SIGNATURE,
                            "required": False,
                            "schema": {"type": "string"},
                            "description": "x402 v2 payment (base64 JSON)",
                        },
                        {
                            "in": "header",
                            "name": X_PAYMENT,
                            "required": False,
                            "schema": {"type": "string"},
                            "description": "x402 v1 payment (base64 JSON)",
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "description": f"JSON, at most {settings.max_body_bytes} bytes",
                        "content": {"application/json": {"schema": body_schema}},
                    },
                    "responses": {
                        "200": {
                            "description": "paid: the job was created",
                            "headers": {
                                PAYMENT_RESPONSE: {"schema": {"type": "string"}},
                                "Location": {"schema": {"type": "string"}},
                            },
                            "content": {"application/json": {"schema": job}},
                        },
                        "400": {
                            "description": "invalid body or malformed payment header",
                            "content": {"application/json": {"schema": error_schema}},
                        },
                        "402": {
                            "description": "pay first: v2 offer in the header, v1 in the body",
                            "headers": {PAYMENT_REQUIRED: {"schema": {"type": "string"}}},
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "503": {
                            "description": "the facilitator is unavailable; nothing was charged",
                            "content": {"application/json": {"schema": error_schema}},
                        },
                    },
                }
            },
            f"{listing.path}/{{job_id}}": {
                "get": {
                    "summary": "The job's status (free); Retry-After while it runs",
                    "parameters": [
                        {
                            "in": "path",
                            "name": "job_id",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "the job",
                            "content": {"application/json": {"schema": job}},
                        },
                        "404": {
                            "description": "unknown job",
                            "content": {"application/json": {"schema": error_schema}},
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
                        {
                            "in": "path",
                            "name": "job_id",
                            "required": True,
                            "schema": {"type": "string"},
                        },
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
        },
        "components": {
            "schemas": {
                "Job": {
                    **listing.output_schema,
                    "properties": {
                        **listing.output_schema.get("properties", {}),
                        "images": {"type": "array", "items": {"type": "object"}},
                        "error": {"type": "object"},
                    },
                }
            }
        },
    }
