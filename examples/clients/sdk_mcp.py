"""An MCP client on the official x402 SDK (`x402.mcp`), following the harness's MCP client
contract: pay MCP_TOOL with X402_REQUEST_BODY as its arguments, poll MCP_STATUS_TOOL until the job
is terminal, download its images, print one JSON result line, exit 0 or 1."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

import httpx
from eth_account import Account
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from x402 import x402Client
from x402.mcp import x402MCPSession
from x402.mechanisms.evm.exact.register import register_exact_evm_client
from x402.mechanisms.evm.signers import EthAccountSigner


async def run() -> dict[str, Any]:
    client = x402Client()
    signer = EthAccountSigner(Account.from_key(os.environ["EVM_PRIVATE_KEY"]))
    register_exact_evm_client(client, signer)
    arguments = json.loads(os.environ.get("X402_REQUEST_BODY") or "{}")
    deadline = time.monotonic() + float(os.environ.get("X402_TIMEOUT_SECONDS", "120"))
    async with (
        httpx.AsyncClient(timeout=30) as http,
        streamable_http_client(os.environ["MCP_SERVER_URL"], http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        paid = await x402MCPSession(session, client).call_tool(os.environ["MCP_TOOL"], arguments)
        text = paid.content[0].text if paid.content else ""
        if paid.is_error:
            return {"success": False, "error": f"the paid call failed: {text[:300]}"}
        job = json.loads(text)
        while job.get("status") not in ("completed", "failed"):
            if time.monotonic() > deadline:
                return {"success": False, "error": f"job {job['id']} still {job.get('status')}"}
            await asyncio.sleep(min(float(job.get("retry_after", 1)), 2.0))
            polled = await session.call_tool(os.environ["MCP_STATUS_TOOL"], {"job_id": job["id"]})
            if not polled.isError and polled.structuredContent:
                job = {**job, **polled.structuredContent}
        if job["status"] == "failed":
            return {"success": False, "error": f"job failed: {job.get('error')}"}
        for image in job.get("images", []):
            (await http.get(image["url"])).raise_for_status()
    settlement = paid.payment_response
    transaction = getattr(settlement, "transaction", None)
    return {"success": True, "transaction": transaction, "job": job["id"]}


if __name__ == "__main__":
    try:
        result = asyncio.run(run())
    except Exception as exc:  # the contract wants a JSON line and exit 1, not a traceback
        result = {"success": False, "error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result))
    sys.exit(0 if result["success"] else 1)
