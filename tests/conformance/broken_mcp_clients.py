"""Deliberately broken MCP clients: one small client of the paid tool, one flaw at a time."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from conformance.client import CallableClient, ClientEnv
from x402_core.headers import encode_header
from x402_core.models import PaymentRequiredV2
from x402_core.payments import pay_v2
from x402_core.tools import PAYMENT_META, PAYMENT_RESPONSE_META
from x402_core.wallets import test_wallet


@dataclass(frozen=True)
class McpFlaws:
    payment_as_text: bool = False
    payment_in_arguments: bool = False
    changes_arguments: bool = False
    pays_twice: bool = False


def flawed_mcp(**flaws: bool) -> CallableClient:
    return CallableClient(lambda env: asyncio.run(_pay(env, McpFlaws(**flaws))))


async def _pay(env: ClientEnv, flaws: McpFlaws) -> dict[str, Any]:
    wallet_key = bytes.fromhex(env.private_key[2:])
    payer = next(w for w in (test_wallet(i) for i in range(20)) if w.private_key == wallet_key)
    assert env.mcp_url is not None
    async with (
        httpx.AsyncClient(timeout=10) as http,
        streamable_http_client(env.mcp_url, http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        asked = await session.call_tool(env.paid_tool, env.body)
        offer = PaymentRequiredV2.model_validate(asked.structuredContent)
        arguments = (
            {**env.body, "prompt": "another prompt"} if flaws.changes_arguments else env.body
        )
        answer = None
        for _ in range(2 if flaws.pays_twice else 1):
            payload = pay_v2(offer.accepts[0], payer.private_key, payer.address, offer.resource)
            payment: Any = encode_header(payload) if flaws.payment_as_text else payload.wire()
            if flaws.payment_in_arguments:
                answer = await session.call_tool(
                    env.paid_tool, {**arguments, PAYMENT_META: payment}
                )
            else:
                answer = await session.call_tool(
                    env.paid_tool, arguments, meta={PAYMENT_META: payment}
                )
        assert answer is not None
        if answer.isError:
            return {"success": False, "error": json.dumps(answer.structuredContent)[:200]}
        job = answer.structuredContent or {}
        deadline = time.monotonic() + env.timeout_seconds
        while job.get("status") not in ("completed", "failed") and time.monotonic() < deadline:
            await asyncio.sleep(min(float(job.get("retry_after", 1)), 1.0))
            polled = await session.call_tool("get_job", {"job_id": job["id"]})
            job = {**job, **(polled.structuredContent or {})}
        for image in job.get("images", []):
            await http.get(image["url"])
        settlement = (answer.meta or {}).get(PAYMENT_RESPONSE_META, {})
        ok = job.get("status") == "completed"
        return {"success": ok, "job": job.get("id"), "transaction": settlement.get("transaction")}
