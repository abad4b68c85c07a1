"""The x402 end-to-end client contract, as these examples follow it: read the environment, poll
the job that was bought, print one JSON result line, exit 0 or 1.

The payment itself is the official x402 SDK's business (see sdk_*.py); the polling is not part of
the SDK, so it lives here: Retry-After is honoured, and the job gets X402_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Contract:
    private_key: str
    url: str
    method: str
    body: dict[str, Any]
    timeout: float
    max_amount: int

    @classmethod
    def from_env(cls) -> Contract:
        return cls(
            private_key=os.environ["EVM_PRIVATE_KEY"],
            url=os.environ["RESOURCE_SERVER_URL"].rstrip("/") + os.environ["ENDPOINT_PATH"],
            method=os.environ.get("X402_REQUEST_METHOD", "POST"),
            body=json.loads(os.environ.get("X402_REQUEST_BODY") or "{}"),
            timeout=float(os.environ.get("X402_TIMEOUT_SECONDS", "120")),
            max_amount=int(os.environ.get("X402_MAX_AMOUNT", "100000")),
        )


def settlement_of(headers: Any) -> dict[str, Any]:
    value = headers.get("PAYMENT-RESPONSE") or headers.get("X-PAYMENT-RESPONSE")
    return json.loads(base64.b64decode(value)) if value else {}


def finish(contract: Contract, status: int, job: Any, settlement: dict[str, Any]) -> dict[str, Any]:
    """Poll the bought job to its end and say how it went."""
    if status != 200 or not isinstance(job, dict) or "id" not in job:
        return {"success": False, "error": f"the paid request was answered {status}: {job}"}
    deadline = time.monotonic() + contract.timeout
    with httpx.Client(timeout=10) as http:
        while job.get("status") not in ("completed", "failed"):
            if time.monotonic() > deadline:
                return {"success": False, "error": f"job {job['id']} still {job.get('status')}"}
            answer = http.get(f"{contract.url}/{job['id']}")
            wait = float(answer.headers.get("Retry-After", "1"))
            if answer.status_code == 200:
                job = answer.json()
                if job.get("status") in ("completed", "failed"):
                    break
            time.sleep(min(wait, max(0.0, deadline - time.monotonic())))
        if job["status"] == "failed":
            return {"success": False, "error": f"job failed: {job.get('error')}"}
        for image in job.get("images", []):
            http.get(image["url"]).raise_for_status()
    return {"success": True, "transaction": settlement.get("transaction"), "job": job["id"]}


def main(pay: Callable[[Contract], tuple[int, Any, dict[str, Any]]]) -> None:
    contract = Contract.from_env()
    try:
        result = finish(contract, *pay(contract))
    except Exception as exc:  # the contract wants a JSON line and exit 1, not a traceback
        result = {"success": False, "error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result))
    sys.exit(0 if result["success"] else 1)
