"""The mock server of one listed endpoint (xGen's by default): its routes, wired to one
ServerState."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from mock_server.admin import ADMIN_ROUTES
from mock_server.config import ServerSettings
from mock_server.inspector.routes import INSPECTOR_ROUTES, PAGE_PATH
from mock_server.inspector.state import Inspector
from mock_server.mcp_tools import McpTools
from mock_server.openapi import openapi_document
from mock_server.purchase import paid_endpoint
from mock_server.reconciler import reconcile_forever
from mock_server.recording import NOT_RECORDED_PREFIX, header_payment_reader
from mock_server.state import build_state
from mock_server.status import IMAGE_ROUTE, job_image, job_status
from x402_service.access import AdminAccess, AdminGuard, AdminSessions
from x402_service.journal import JournalMiddleware


def create_app(settings: ServerSettings | None = None) -> Starlette:
    """The mock, paying through the facilitator at `settings.facilitator_url`."""
    settings = settings or ServerSettings()
    state = build_state(settings)
    document = openapi_document(state.listing, settings)
    access = AdminAccess.for_server(
        settings.admin_token, settings.host, settings.public_url, sessions=AdminSessions()
    )
    inspector = Inspector(state, access)

    async def openapi(request: Request) -> Response:
        """`GET /openapi.json`."""
        return JSONResponse(document)

    async def health(request: Request) -> Response:
        """`GET /health`."""
        return JSONResponse({"status": "ok"})

    tools = McpTools(state)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        reconciler = asyncio.create_task(reconcile_forever(state))
        try:
            async with tools.running():
                yield
        finally:
            reconciler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reconciler
            await state.facilitator.aclose()
            await inspector.aclose()
            state.store.close()

    listing = state.listing
    endpoint = [Route(listing.path, paid_endpoint, methods=[listing.method])]
    if listing.is_job:
        endpoint += [
            Route(listing.path + "/{job_id}", job_status, methods=["GET"]),
            Route(IMAGE_ROUTE, job_image, methods=["GET"]),
        ]
    app = Starlette(
        lifespan=lifespan,
        routes=[
            *endpoint,
            tools.route(),
            Route("/openapi.json", openapi, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Mount(
                "/__mock__",
                routes=ADMIN_ROUTES + INSPECTOR_ROUTES,
                middleware=[
                    Middleware(AdminGuard, access=access, token_free_paths=frozenset({PAGE_PATH}))
                ],
            ),
        ],
        middleware=[
            Middleware(
                JournalMiddleware,
                journal=state.journal,
                read_payment=header_payment_reader(settings.versions),
                skip=(NOT_RECORDED_PREFIX,),
            )
        ],
    )
    app.state.mock = state
    app.state.inspector = inspector
    app.state.closing = inspector.closing
    return app
