"""An x402 e2e-contract client built on the harness's reference payer (x402_payer).

    EVM_PRIVATE_KEY=0x… RESOURCE_SERVER_URL=http://127.0.0.1:8402 \
    ENDPOINT_PATH=/v1/images/generate \
    X402_REQUEST_BODY='{"model": "nano-banana-2", "prompt": "a fox"}' python reference_payer.py

Prints one JSON line ({"success": …, "transaction": …, "job": …}) and exits 0 or 1.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any

from x402_payer import Payer, PayerError, PayerPolicy


def run(environ: dict[str, str]) -> dict[str, Any]:
    policy = PayerPolicy(
        max_amount_atomic=int(environ.get("X402_MAX_AMOUNT", "100000")),
        poll_timeout_seconds=float(environ.get("X402_TIMEOUT_SECONDS", "120")),
    )
    body = json.loads(environ.get("X402_REQUEST_BODY") or "{}")
    with Payer(environ["EVM_PRIVATE_KEY"], policy) as payer, tempfile.TemporaryDirectory() as dest:
        try:
            result = payer.generate_image(environ["RESOURCE_SERVER_URL"], body, dest)
        except PayerError as exc:
            return {"success": False, "error": str(exc)}
    settlement = result.settlement
    return {
        "success": True,
        "transaction": settlement.transaction if settlement else None,
        "job": result.job.get("id"),
        "status": result.job.get("status"),
    }


if __name__ == "__main__":
    outcome = run(dict(os.environ))
    print(json.dumps(outcome))
    sys.exit(0 if outcome["success"] else 1)
