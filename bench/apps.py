"""ASGI app factories the benchmarks serve with uvicorn in a separate process."""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from facilitator_sim.app import create_app
from facilitator_sim.chains.ledger import LedgerChain
from x402_core.networks import BASE
from x402_core.wallets import payer_wallets

VERIFY_ANSWER = json.dumps({"isValid": True, "payer": payer_wallets()[0].address}).encode()


def bare_app() -> Starlette:
    """The HTTP ceiling: reads the POST body and answers a JSON body of the same size as /verify."""

    async def answer(request: Request) -> Response:
        await request.body()
        return Response(VERIFY_ANSWER, media_type="application/json")

    async def health(request: Request) -> Response:
        return Response(b"ok")

    return Starlette(routes=[Route("/verify", answer, methods=["POST"]), Route("/health", health)])


def verify_app() -> Starlette:
    """The facilitator on the ledger, with the payer wallets funded."""
    chain = LedgerChain()
    for wallet in payer_wallets():
        chain.set_balance(BASE.usdc.address, wallet.address, 10**12)
    return create_app(chain)


def bare_402_app() -> Starlette:
    """The HTTP ceiling for the paywall: answers the mock's exact 402 bytes, computing nothing."""
    from mock_server.paywall import offer
    from x402_core.xgen import xgen_listing

    headers, body = offer(
        xgen_listing(),
        "http://127.0.0.1/v1/images/generate",
        frozenset({"v1", "v2"}),
        "payment_required",
    )
    content = json.dumps(body).encode()

    async def answer(request: Request) -> Response:
        await request.body()
        return Response(content, 402, headers=headers, media_type="application/json")

    async def health(request: Request) -> Response:
        return Response(b"ok")

    return Starlette(
        routes=[
            Route("/v1/images/generate", answer, methods=["POST"]),
            Route("/health", health),
        ]
    )


def mock_app() -> Starlette:
    """The mock server, configured from `X402H_SERVER_*` (the facilitator URL among them)."""
    from mock_server.app import create_app as create_mock_app
    from mock_server.config import ServerSettings

    return create_mock_app(ServerSettings.from_env())
