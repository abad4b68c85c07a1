"""The facilitator's HTTP face: `/verify`, `/settle`, `/supported`, `/health`, `/journal`,
`/openapi.json`, and its admin API (balances, faults) under `/__facilitator__/`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from facilitator_sim.admin import ADMIN_ROUTES
from facilitator_sim.chains.base import Chain
from facilitator_sim.config import FacilitatorSettings, FacilitatorSettingsError
from facilitator_sim.faults import FAULT_ROUTES, FaultMiddleware, Faults
from facilitator_sim.openapi import openapi_document
from facilitator_sim.recording import NOT_RECORDED, body_payment
from facilitator_sim.requests import RequestRefusedError, parse_request
from facilitator_sim.service import Facilitator, VerifyRequest
from facilitator_sim.settlements import open_records
from x402_core.eip3009 import address_of_key
from x402_core.models.facilitator import SettleResponse, VerifyResponse
from x402_core.reasons import Reason
from x402_service.access import AdminAccess, AdminGuard
from x402_service.bodies import BodyTooLargeError, read_body
from x402_service.journal import Journal, JournalMiddleware

ResultT = TypeVar("ResultT")


def create_app(
    chain: Chain,
    settings: FacilitatorSettings | None = None,
    facilitator: Facilitator | None = None,
) -> Starlette:
    """A facilitator settling on `chain` (the caller owns the chain and closes it); `facilitator`
    replaces the standard decisions, as tests of deliberately broken facilitators do."""
    settings = settings or FacilitatorSettings()
    signer = address_of_key(settings.signer_private_key())
    sender = getattr(chain, "signer", signer)
    if sender.lower() != signer.lower():
        raise FacilitatorSettingsError(
            f"the chain sends transactions from {sender} but the settings name signer {signer}: "
            "open the chain with the same signer key"
        )
    facilitator = facilitator or Facilitator(
        chain, signer, settings.policy(), records=open_records(settings.state_path)
    )
    journal = Journal(path=settings.journal_path)
    document = openapi_document()
    access = AdminAccess.for_server("", settings.host)

    async def parsed(request: Request) -> VerifyRequest:
        try:
            return parse_request(await read_body(request, settings.max_body_bytes))
        except BodyTooLargeError as exc:
            raise RequestRefusedError(Reason.INVALID_PAYLOAD, str(exc)) from exc

    faults = Faults()

    async def run(method: Callable[[VerifyRequest], ResultT], request: VerifyRequest) -> ResultT:
        if chain.in_process:
            return method(request)
        return await run_in_threadpool(method, request)

    async def verify(request: Request) -> JSONResponse:
        """`POST /verify`: is this payment valid for these requirements? Changes no state."""
        try:
            body = await parsed(request)
        except RequestRefusedError as refused:
            answer = VerifyResponse(
                is_valid=False, invalid_reason=refused.reason, invalid_message=refused.message
            )
            return JSONResponse(answer.wire(), status_code=refused.status)
        return JSONResponse((await run(facilitator.verify, body)).wire())

    async def settle(request: Request) -> JSONResponse:
        """`POST /settle`: verify again, then transfer on chain; at most once per authorization."""
        try:
            body = await parsed(request)
        except RequestRefusedError as refused:
            answer = SettleResponse(
                success=False,
                error_reason=refused.reason,
                error_message=refused.message,
                network="",
            )
            return JSONResponse(answer.wire(), status_code=refused.status)
        return JSONResponse((await run(facilitator.settle, body)).wire())

    async def supported(request: Request) -> JSONResponse:
        """`GET /supported`: the (version, scheme, network) kinds settled here, and the signer."""
        return JSONResponse(facilitator.supported().wire())

    async def health(request: Request) -> JSONResponse:
        """`GET /health`: alive, and on which chain."""
        return JSONResponse(
            {
                "status": "ok",
                "chain": chain.kind,
                "chainId": chain.chain_id,
                "network": facilitator.network.caip2,
                "token": facilitator.network.usdc.address,
                "signer": facilitator.signer_address,
            }
        )

    async def read_journal(request: Request) -> Response:
        """`GET /journal?since=N&limit=M`: a page of the requests and answers recorded after
        sequence number N; `next` is the `since` of the following page, `more` whether there is
        one."""
        try:
            page = journal.read(request.query_params)
        except ValueError as exc:
            return JSONResponse({"error": "invalid_request", "message": str(exc)}, 400)
        return Response(page, media_type="application/json")

    async def openapi(request: Request) -> JSONResponse:
        """`GET /openapi.json`: this API as OpenAPI 3.1."""
        return JSONResponse(document)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            facilitator.records.close()

    app = Starlette(
        lifespan=lifespan,
        routes=[
            Route("/verify", verify, methods=["POST"]),
            Route("/settle", settle, methods=["POST"]),
            Route("/supported", supported, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Route(
                "/journal",
                read_journal,
                methods=["GET"],
                middleware=[Middleware(AdminGuard, access=access)],
            ),
            Mount(
                "/__facilitator__",
                routes=[*ADMIN_ROUTES, *FAULT_ROUTES],
                middleware=[Middleware(AdminGuard, access=access)],
            ),
            Route("/openapi.json", openapi, methods=["GET"]),
        ],
        middleware=[
            Middleware(
                JournalMiddleware, journal=journal, read_payment=body_payment, skip=NOT_RECORDED
            ),
            # inside the journal: it records the answers a fault gave, as the caller got them
            Middleware(FaultMiddleware, faults=faults),
        ],
    )
    app.state.facilitator = facilitator
    app.state.chain = chain
    app.state.journal = journal
    app.state.faults = faults
    return app
