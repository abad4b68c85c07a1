"""Journal entries as the mock's and the facilitator's journals serve them, for tests of what
reads them (the readable journal, the inspector)."""

from __future__ import annotations

import json
from typing import Any

from x402_core.headers import encode_json_header
from x402_service.journal import Journal

ENDPOINT = "/v1/images/generate"
PAYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
NONCE = "0x" + "ab" * 32
KEY = f"{PAYER.lower()}:{NONCE}"
PAYMENT = {
    "x402Version": 2,
    "accepted": {"scheme": "exact", "network": "eip155:8453"},
    "payload": {
        "signature": "0x12",
        "authorization": {
            "from": PAYER,
            "to": "0x8fd70c7f86454273fc2df8379dbf08a95ab103d3",
            "value": "50000",
            "validAfter": "1795609644",
            "validBefore": "1795609974",
            "nonce": NONCE,
        },
    },
    "extensions": {"payment-identifier": {"info": {"id": "pay_0123456789abcdef"}}},
}


def recorded(journal: Journal, **changes: Any) -> dict[str, Any]:
    """An entry as the journal serves it."""
    fields: dict[str, Any] = {
        "method": "POST",
        "path": ENDPOINT,
        "query": "",
        "headers": {"host": "127.0.0.1:8402"},
        "body": '{"model": "nano-banana-2", "prompt": "a fox"}',
        "payment": "null",
        "payment_version": None,
        "status": 402,
        "response_headers": {},
        "response_body": "{}",
        "duration_ms": 5.0,
    }
    entry = journal.record(**(fields | changes))
    return json.loads(entry.json())


def paid(journal: Journal, status: int = 200, **changes: Any) -> dict[str, Any]:
    settlement = {"success": True, "transaction": "0x" + "cd" * 32, "network": "eip155:8453"}
    fields: dict[str, Any] = {
        "headers": {"payment-signature": encode_json_header(PAYMENT)},
        "payment": json.dumps(PAYMENT),
        "payment_version": 2,
        "status": status,
        "response_headers": {"payment-response": encode_json_header(settlement)},
        "response_body": json.dumps({"id": "job_1", "status": "pending"}),
    }
    return recorded(journal, **(fields | changes))
