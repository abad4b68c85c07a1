"""The official Python SDK's FastAPI payment middleware (PyPI `x402`) in front of a stand-in for
xGen's endpoint, configured as its users configure it: the SDK answers the 402, reads payments,
has them verified and settled by a facilitator and sets the settlement header. Behind it the
stand-in only validates the body and keeps jobs, completed at once and without images: what is
graded is the middleware, not an image generator."""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from x402 import x402ResourceServer
from x402.http import FacilitatorConfig, HTTPFacilitatorClient
from x402.http.middleware.fastapi import PaymentMiddlewareASGI
from x402.http.types import PaymentOption, RouteConfig
from x402.mechanisms.evm.exact.register import register_exact_evm_server

from x402_core.listing import Listing

BAD_REQUEST, NOT_FOUND = 400, 404


def create_sdk_server_app(
    facilitator_url: str, listing: Listing, facilitator_timeout: float | None = None
) -> FastAPI:
    """xGen's endpoint at `listing.path`, paid through the SDK's middleware, at the listing's
    price in Base USDC (the SDK's default asset there), settled by `facilitator_url` with the
    SDK's timeout on facilitator calls (90 s) unless `facilitator_timeout` says otherwise."""
    timeout = {} if facilitator_timeout is None else {"timeout": facilitator_timeout}
    facilitator = HTTPFacilitatorClient(FacilitatorConfig(url=facilitator_url, **timeout))
    server = x402ResourceServer(facilitator)
    register_exact_evm_server(server, listing.network.caip2)
    price = f"${listing.amount / 10**listing.network.usdc.decimals:.2f}"
    routes = {
        f"POST {listing.path}": RouteConfig(
            accepts=PaymentOption(
                scheme="exact",
                pay_to=listing.pay_to,
                price=price,
                network=listing.network.caip2,
                max_timeout_seconds=listing.max_timeout_seconds,
            ),
            description=listing.description,
            mime_type="application/json",
        )
    }

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await facilitator.aclose()

    app = FastAPI(lifespan=lifespan)
    app.add_middleware(PaymentMiddlewareASGI, routes=routes, server=server)
    jobs: dict[str, dict[str, Any]] = {}

    @app.post(listing.path)
    async def generate(request: Request) -> JSONResponse:
        try:
            listing.check_request(json.loads(await request.body()))
        except ValueError as exc:  # InvalidRequestError, or JSON that does not parse
            return JSONResponse({"error": "invalid_request", "message": str(exc)}, BAD_REQUEST)
        job_id = "job_" + secrets.token_hex(8)
        jobs[job_id] = {"id": job_id, "status": "completed"}
        where = f"{request.base_url}{listing.path.lstrip('/')}/{job_id}"
        return JSONResponse(jobs[job_id], headers={"Location": where})

    @app.get(listing.path + "/{job_id}")
    async def status(job_id: str) -> JSONResponse:
        job = jobs.get(job_id)
        return JSONResponse(job or {"error": "not_found"}, NOT_FOUND if job is None else 200)

    return app
