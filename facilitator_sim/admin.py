"""The facilitator's admin API under `/__facilitator__/`: test balances of its token, read and set.

It lets a load generator check and fund its wallets on a facilitator it did not start; like the
mock's admin API it is served on the facilitator's own (loopback) address.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from facilitator_sim.chains.base import Chain, ChainError
from x402_core.headers import describe_validation_error
from x402_core.models.fields import Address, WireModel
from x402_service.bodies import BodyTooLargeError, read_body

MAX_AMOUNT_EXCLUSIVE = 2**96
"""Funding stays below 2**96 atomic units: far beyond any test, far below uint256 overflow."""
MAX_ADDRESSES = 200
"""Addresses per balances request (a query string of 200 addresses is about 10 kB)."""
MAX_BODY_BYTES = 4096


class FundRequest(WireModel):
    """`POST /__facilitator__/fund`: give `address` exactly `amount` atomic units of the token."""

    address: Address
    amount: Annotated[int, Field(ge=0, lt=MAX_AMOUNT_EXCLUSIVE)]


class BalancesQuery(WireModel):
    address: Annotated[list[Address], Field(min_length=1, max_length=MAX_ADDRESSES)]


def _invalid(message: str) -> JSONResponse:
    return JSONResponse({"error": "invalid_request", "message": message}, 400)


async def _on_chain(
    request: Request, action: Callable[[Chain, str], dict[str, Any]]
) -> JSONResponse:
    """`action(chain, token)` off the event loop (unless the chain is the in-memory ledger), its
    result answered with the token's address; 503 when the chain cannot be reached."""
    chain: Chain = request.app.state.chain
    token: str = request.app.state.facilitator.network.usdc.address
    try:
        if chain.in_process:
            result = action(chain, token)
        else:
            result = await run_in_threadpool(action, chain, token)
    except ChainError as exc:
        return JSONResponse({"error": "chain_unavailable", "message": str(exc)}, 503)
    return JSONResponse({"asset": token, **result})


async def balances(request: Request) -> JSONResponse:
    """`GET /__facilitator__/balances?address=A&address=B`: each address's balance of the token."""
    try:
        query = BalancesQuery(address=request.query_params.getlist("address"))
    except ValidationError as exc:
        return _invalid(
            f"{describe_validation_error(exc)}; expected 1 to {MAX_ADDRESSES} `address` "
            "parameters, each 0x followed by 40 hex digits"
        )
    return await _on_chain(
        request,
        lambda chain, token: {"balances": {a: chain.balance_of(token, a) for a in query.address}},
    )


async def fund(request: Request) -> JSONResponse:
    """`POST /__facilitator__/fund {"address", "amount"}`: set the balance (test money)."""
    try:
        wanted = FundRequest.model_validate_json(await read_body(request, MAX_BODY_BYTES))
    except BodyTooLargeError as exc:
        return _invalid(str(exc))
    except ValidationError as exc:
        return _invalid(
            f"{describe_validation_error(exc)}; expected "
            '{"address": "0x<40 hex digits>", "amount": <integer, 0 <= amount < 2**96>}'
        )

    def set_balance(chain: Chain, token: str) -> dict[str, Any]:
        chain.set_balance(token, wanted.address, wanted.amount)
        return {"address": wanted.address, "balance": chain.balance_of(token, wanted.address)}

    return await _on_chain(request, set_balance)


ADMIN_ROUTES = [
    Route("/balances", balances, methods=["GET"]),
    Route("/fund", fund, methods=["POST"]),
]
