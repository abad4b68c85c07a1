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

    return Starlette(routes=[Route("/verify", answer, methods=["POST"])])


def verify_app() -> Starlette:
    """The facilitator on the ledger, with the payer wallets funded."""
    chain = LedgerChain()
    for wallet in payer_wallets():
        chain.set_balance(BASE.usdc.address, wallet.address, 10**12)
    return create_app(chain)
