"""End to end over real HTTP: the official x402 SDK's clients pay the mock for an image, on the
ledger and on Anvil, and the chain shows exactly one charge per job."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from eth_account import Account
from x402 import x402Client, x402ClientSync
from x402.http.clients.httpx import x402HttpxClient
from x402.http.clients.requests import x402_requests
from x402.mechanisms.evm.exact.register import register_exact_evm_client
from x402.mechanisms.evm.signers import EthAccountSigner

from mock_server.config import ServerSettings
from x402_core.headers import PAYMENT_RESPONSE, X_PAYMENT_RESPONSE, decode_json_header
from x402_core.wallets import test_wallet
from x402_harness.stack import Stack, StackConfig

BODY = {"model": "nano-banana-pro", "prompt": "futuristic cityscape at sunset", "resolution": "1K"}
PRICE = 50_000
PAYER = test_wallet(3)
BACKENDS = ["ledger", pytest.param("anvil", marks=pytest.mark.anvil)]


def _signer() -> EthAccountSigner:
    return EthAccountSigner(Account.from_key(PAYER.private_key))


def pay_with_httpx(url: str) -> httpx.Response:
    client = x402Client()
    register_exact_evm_client(client, _signer())

    async def run() -> httpx.Response:
        async with x402HttpxClient(client, timeout=60) as http:
            response = await http.post(url, json=BODY)
            await response.aread()
            return response

    return asyncio.run(run())


def pay_with_requests(url: str) -> httpx.Response:
    client = x402ClientSync()
    register_exact_evm_client(client, _signer())
    with x402_requests(client) as session:
        answer = session.post(url, json=BODY, timeout=60)
    return httpx.Response(answer.status_code, headers=dict(answer.headers), content=answer.content)


CLIENTS = {"httpx": pay_with_httpx, "requests": pay_with_requests}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def start_stack(backend: str, versions: frozenset[int]) -> Stack:
    server = ServerSettings(default_scenario="instant", versions=versions)
    return Stack(StackConfig(chain=backend, server=server)).start()


@pytest.fixture
def stack_v2(backend: str) -> Iterator[Stack]:
    stack = start_stack(backend, frozenset({1, 2}))
    yield stack
    stack.stop()


@pytest.fixture
def stack_v1(backend: str) -> Iterator[Stack]:
    stack = start_stack(backend, frozenset({1}))
    yield stack
    stack.stop()


def check_paid_job(stack: Stack, response: httpx.Response, header: str, before: int) -> None:
    assert response.status_code == 200, response.text
    settlement = decode_json_header(response.headers[header])
    assert settlement["success"] is True
    job = httpx.get(response.headers["Location"], timeout=10).json()
    assert job["status"] == "completed"
    image = httpx.get(job["images"][0]["url"], timeout=30)
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert stack.chain.balance_of(stack.token, stack.pay_to) - before == PRICE
    counts = stack.server_state.store.counts()
    assert counts["jobs"] == counts["settled"] == 1


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_sdk_client_pays_v2(stack_v2: Stack, client: str) -> None:
    before = stack_v2.chain.balance_of(stack_v2.token, stack_v2.pay_to)
    response = CLIENTS[client](stack_v2.endpoint_url)
    check_paid_job(stack_v2, response, PAYMENT_RESPONSE, before)


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_sdk_client_pays_v1(stack_v1: Stack, client: str) -> None:
    before = stack_v1.chain.balance_of(stack_v1.token, stack_v1.pay_to)
    response = CLIENTS[client](stack_v1.endpoint_url)
    check_paid_job(stack_v1, response, X_PAYMENT_RESPONSE, before)
    journal = stack_v1.server_state.journal.entries()
    assert [e["payment_version"] for e in journal if e["payment"]] == [1]
