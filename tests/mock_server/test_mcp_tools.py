"""The endpoint as MCP tools: the official SDK's MCP client pays for `generate_image` and polls
`get_job` (on the ledger and on Anvil); the PaymentRequired result is the spec's; the money
invariants hold for tool-call purchases (a re-sent payment gets the same job, never a second
charge); bad arguments, bad payments and identifier conflicts are told apart."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from eth_account import Account
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from x402 import x402Client
from x402.mcp import x402MCPSession
from x402.mechanisms.evm.exact import ExactEvmClientScheme
from x402.mechanisms.evm.signers import EthAccountSigner

from mock_server.purchases import PurchaseState
from x402_core import bazaar, payment_identifier
from x402_core.models import PaymentRequiredV2
from x402_core.payments import pay_v2
from x402_core.tools import PAYMENT_META, PAYMENT_RESPONSE_META
from x402_core.wallets import test_wallet
from x402_core.xgen import xgen_listing
from x402_harness.stack import Stack, StackConfig

ARGS = {"model": "nano-banana-2", "prompt": "a fox paid over MCP"}
QUICK = {"X-Mock-Scenario": "quick"}
T = TypeVar("T")


def run(stack: Stack, use: Callable[[ClientSession], Awaitable[T]], **headers: str) -> T:
    """`use` with an initialized MCP session on the stack's /mcp."""

    async def session() -> T:
        url = stack.server_url + "/mcp"
        async with (
            httpx.AsyncClient(headers=headers, timeout=30) as http,
            streamable_http_client(url, http_client=http) as (read, write, _),
            ClientSession(read, write) as mcp,
        ):
            await mcp.initialize()
            return await use(mcp)

    return asyncio.run(session())


def sdk_client() -> x402Client:
    client = x402Client()
    signer = EthAccountSigner(Account.from_key(test_wallet(1).private_key))
    client.register("eip155:8453", ExactEvmClientScheme(signer))
    return client


async def pay_and_poll(mcp: ClientSession) -> tuple[Any, dict[str, Any]]:
    """The official SDK pays for generate_image; get_job is polled until the job is terminal."""
    paid = await x402MCPSession(mcp, sdk_client()).call_tool("generate_image", ARGS)
    job = json.loads(paid.content[0].text)
    for _ in range(50):
        polled = await mcp.call_tool("get_job", {"job_id": job["id"]})
        job = polled.structuredContent or {}
        if job.get("status") in ("completed", "failed"):
            break
        await asyncio.sleep(min(job.get("retry_after", 1), 0.5))
    return paid, job


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with Stack() as started:
        yield started


def _charged(stack: Stack) -> int:
    return stack.chain.balance_of(stack.token, stack.pay_to)


@pytest.mark.parametrize("chain", ["ledger", pytest.param("anvil", marks=pytest.mark.anvil)])
def test_the_official_sdk_pays_the_tool_and_polls_the_job(chain: str) -> None:
    with Stack(StackConfig(chain=chain)) as started:
        before = _charged(started)
        paid, job = run(started, pay_and_poll, **QUICK)
        assert paid.payment_made
        assert not paid.is_error
        assert paid.payment_response.success
        assert job["status"] == "completed"
        assert job["images"][0]["url"].endswith("/1.png")
        assert _charged(started) - before == 50_000
        settled = started.server_state.store.purchases(frozenset({PurchaseState.SETTLED}))
        assert [p.job_id for p in settled] == [job["id"]]
        tx = started.chain.transaction_outcome(paid.payment_response.transaction)
        assert tx is not None
        assert tx.success
        paid_calls = [e for e in started.server_state.journal.entries() if e["payment"]]
        assert [e["payment_version"] for e in paid_calls] == [2]


def test_an_unpaid_call_gets_the_specs_payment_required(stack: Stack) -> None:
    async def call(mcp: ClientSession) -> Any:
        return await mcp.call_tool("generate_image", ARGS)

    result = run(stack, call)
    assert result.isError
    assert json.loads(result.content[0].text) == result.structuredContent
    offer = PaymentRequiredV2.model_validate(result.structuredContent)
    assert offer.accepts == [xgen_listing().requirements_v2()]
    assert offer.resource is not None
    assert offer.resource.url == stack.server_url + "/mcp"
    extensions = offer.extensions or {}
    assert extensions[bazaar.BAZAAR] == bazaar.mcp_extension(xgen_listing(), 4000)
    assert extensions[payment_identifier.PAYMENT_IDENTIFIER]["info"] == {"required": False}


def _payment(offer: dict[str, Any], payment_id: str | None = None) -> dict[str, Any]:
    required = PaymentRequiredV2.model_validate(offer)
    wallet = test_wallet(2)
    payload = pay_v2(required.accepts[0], wallet.private_key, wallet.address, required.resource)
    if payment_id is not None:
        extensions = payment_identifier.echoed(required.extensions, payment_id)
        payload = payload.model_copy(update={"extensions": extensions})
    return payload.wire()


def test_a_resent_payment_gets_the_same_job_and_is_charged_once(stack: Stack) -> None:
    async def twice(mcp: ClientSession) -> list[Any]:
        offer = (await mcp.call_tool("generate_image", ARGS)).structuredContent or {}
        meta = {PAYMENT_META: _payment(offer)}
        return [await mcp.call_tool("generate_image", ARGS, meta=meta) for _ in range(2)]

    before = _charged(stack)
    first, again = run(stack, twice)
    assert not first.isError
    assert first.structuredContent["id"] == again.structuredContent["id"]
    assert first.meta[PAYMENT_RESPONSE_META] == again.meta[PAYMENT_RESPONSE_META]
    assert _charged(stack) - before == 50_000


def test_settlement_pending_asks_for_the_same_payment_which_then_buys(stack: Stack) -> None:
    async def until_bought(mcp: ClientSession) -> list[Any]:
        offer = (await mcp.call_tool("generate_image", ARGS)).structuredContent or {}
        meta = {PAYMENT_META: _payment(offer)}
        answers = [await mcp.call_tool("generate_image", ARGS, meta=meta)]
        while answers[-1].isError and len(answers) < 20:
            await asyncio.sleep(0.5)
            answers.append(await mcp.call_tool("generate_image", ARGS, meta=meta))
        return answers

    before = _charged(stack)
    answers = run(stack, until_bought, **{"X-Mock-Scenario": "settle_pending"})
    first, last = answers[0], answers[-1]
    assert first.structuredContent["error"] == "settlement_pending"
    assert first.meta[PAYMENT_RESPONSE_META]["errorReason"] == "settlement_pending"
    assert not last.isError
    assert last.meta[PAYMENT_RESPONSE_META]["success"] is True
    assert _charged(stack) - before == 50_000


def test_bad_arguments_bad_payments_and_conflicts_are_told_apart(stack: Stack) -> None:
    identifier = "pay_mcp_0123456789abcdef"

    async def calls(mcp: ClientSession) -> dict[str, Any]:
        offer = (await mcp.call_tool("generate_image", ARGS)).structuredContent or {}
        bought = await mcp.call_tool(
            "generate_image", ARGS, meta={PAYMENT_META: _payment(offer, identifier)}
        )
        return {
            "bought": bought,
            "bad arguments": await mcp.call_tool("generate_image", {"prompt": "no model"}),
            "payment as text": await mcp.call_tool(
                "generate_image", ARGS, meta={PAYMENT_META: "eyJ4NDAyVmVyc2lvbiI6Mn0="}
            ),
            "id reused": await mcp.call_tool(
                "generate_image", ARGS, meta={PAYMENT_META: _payment(offer, identifier)}
            ),
            "unknown job": await mcp.call_tool("get_job", {"job_id": "job_nobody"}),
            "unknown tool": await mcp.call_tool("edit_image", {}),
        }

    before = _charged(stack)
    results = run(stack, calls)
    assert not results["bought"].isError
    errors = {name: r.structuredContent.get("error") for name, r in results.items() if r.isError}
    assert errors == {
        "bad arguments": "invalid_request",
        "payment as text": "invalid_payload",
        "id reused": "payment_identifier_conflict",
        "unknown job": "not_found",
        "unknown tool": "unknown_tool",
    }
    assert "accepts" in results["payment as text"].structuredContent  # asks again, as the spec says
    assert _charged(stack) - before == 50_000


HOSTILE = [
    (b"%%% not json", 400, "Parse error"),
    (b'{"a": 1}', 400, "Validation error"),
    (
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":[1]}}',
        200,
        "Invalid request parameters",
    ),
    (b'{"jsonrpc":"2.0","params":{"prompt":"' + b"x" * 70_000, 413, "too large"),
]


@pytest.mark.parametrize(
    ("body", "status", "said"),
    HOSTILE,
    ids=["not JSON", "not JSON-RPC", "arguments not an object", "past MAX_BODY_BYTES"],
)
def test_hostile_mcp_bodies_get_a_4xx_or_an_error_never_a_5xx(
    stack: Stack, body: bytes, status: int, said: str
) -> None:
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    answer = httpx.post(stack.server_url + "/mcp", content=body, headers=headers, timeout=10)
    assert answer.status_code == status
    assert said in answer.text
