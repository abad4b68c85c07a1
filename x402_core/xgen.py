"""xGen's image generation endpoint, the listing every part of the harness uses by default.

The index entry of `POST https://api.xgen.world/v1/images/generate`, with the value sets and
defaults of its optional fields stated (the index leaves them as plain strings) so that the mock
can validate requests as xGen does.
"""

from __future__ import annotations

from typing import Any

from x402_core.listing import Listing, listing_from

MODELS = ("nano-banana-2", "nano-banana-pro", "seedream-4.6", "seedream-4.0")
RESOLUTIONS = ("1K", "2K", "4K")
ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")

XGEN_INDEX_ENTRY: dict[str, Any] = {
    "slug": "api-xgen-world-v1-images-generate",
    "title": "xGen · AI Image Generation",
    "url": "https://api.xgen.world/v1/images/generate",
    "summary": "Queue AI image generation jobs and track completion status through asynchronous "
    "processing.",
    "description": "Generate AI images via an asynchronous job queue. Returns a job id and "
    "status; poll the status URL until the job completes. 0.05 USDC per generation request on "
    "Base via x402.",
    "example_request_body": {
        "prompt": "futuristic cityscape at sunset, cyberpunk style, 4k quality",
        "model": "nano-banana-pro",
    },
    "accepts": [
        {
            "scheme": "exact",
            "network": "base",
            "pay_to": "0x8fd70c7f86454273fc2df8379dbf08a95ab103d3",
            "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
            "max_amount_required_atomic": "50000",
            "max_timeout_seconds": 300,
            "hints": {
                "input": {
                    "type": "http",
                    "method": "POST",
                    "bodyFields": {
                        "model": {"type": "string", "required": True, "enum": list(MODELS)},
                        "prompt": {"type": "string", "required": True, "maxLength": 4000},
                        "resolution": {
                            "type": "string",
                            "enum": list(RESOLUTIONS),
                            "default": "1K",
                        },
                        "aspect_ratio": {
                            "type": "string",
                            "enum": list(ASPECT_RATIOS),
                            "default": "1:1",
                        },
                    },
                },
                "output": {
                    "type": "object",
                    "required": ["id", "status"],
                    "properties": {
                        "id": {"type": "string"},
                        "status": {
                            "type": "string",
                            "enum": ["pending", "processing", "completed", "failed"],
                        },
                    },
                },
            },
        }
    ],
}


def xgen_listing() -> Listing:
    """The default endpoint: 0.05 USDC on Base for an image generation job."""
    return listing_from(XGEN_INDEX_ENTRY, "xGen's listing")
