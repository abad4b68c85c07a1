"""The endpoint as MCP tools over streamable HTTP at `/mcp` (transports-v2__mcp.md).

The paid tool (named from the listing: `generate_image` for xGen) takes the listing's request as
its arguments. Without `_meta["x402/payment"]` it answers a tool result with `isError` and the
v2 PaymentRequired in `structuredContent` and `content[0].text`; with one it buys through the same
checkout as the HTTP endpoint (same facilitator, store, scenarios and journal) and answers the
job with the settlement in `_meta["x402/payment-response"]`. `get_job` (free, job listings only)
answers what the status URL answers, with `retry_after` while the job runs.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mock_server.checkout import (
    Bought,
    Conflict,
    Order,
    Outcome,
    Pending,
    Refused,
    Unavailable,
    buy,
    pending_message,
    pending_settlement,
    unavailable_message,
)
from mock_server.extensions import (
    IdentifierError,
    identifier_required,
    offer_extensions,
    payment_id_of,
)
from mock_server.paywall import MALFORMED_OFFER_BODY, Payment, required_v2
from mock_server.responses import base_url, purchase_answer
from mock_server.scenarios import SCENARIO_HEADER, OfferFlaw, UnknownScenarioError
from mock_server.state import ServerState
from mock_server.status import poll
from x402_core.listing import InvalidRequestError
from x402_core.reasons import Reason
from x402_core.tools import (
    MCP_PATH,
    PAYMENT_RESPONSE_META,
    STATUS_TOOL,
    STATUS_TOOL_SCHEMA,
    paid_tool_name,
    paid_tool_schema,
    payment_in_meta,
)
from x402_service.journal import note

SERVER_NAME = "x402-harness mock"


class McpTools:
    """The MCP server of one mock: its tools, and the session manager that serves them."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.paid_tool = paid_tool_name(state.listing)
        self.server: Server[Any, Any] = Server(SERVER_NAME)
        self.server.list_tools()(self._list_tools)
        self.server.call_tool(validate_input=False)(self._call_tool)
        self.manager = StreamableHTTPSessionManager(
            self.server,
            json_response=True,
            stateless=True,
            max_request_body_size=state.settings.max_body_bytes,
        )

    def route(self) -> Route:
        """`/mcp`: streamable HTTP, a JSON answer to each POST (no server-side sessions)."""
        return Route(MCP_PATH, _Endpoint(self.manager), methods=["GET", "POST", "DELETE"])

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with self.manager.run():
            yield

    async def _list_tools(self) -> list[types.Tool]:
        listing, settings = self.state.listing, self.state.settings
        offer = listing.offer
        tools = [
            types.Tool(
                name=self.paid_tool,
                description=(
                    f"{listing.description} Costs {offer.amount} atomic units of USDC on "
                    f"{offer.network.caip2}, paid with x402 in _meta['x402/payment']."
                ),
                inputSchema=paid_tool_schema(listing, settings.max_string_chars),
            )
        ]
        if listing.is_job:
            tools.append(
                types.Tool(
                    name=STATUS_TOOL,
                    description="The job a paid call made: its status, and its images once "
                    "completed (free; poll again after retry_after seconds).",
                    inputSchema=STATUS_TOOL_SCHEMA,
                )
            )
        return tools

    async def _call_tool(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        context = self.server.request_context
        request = context.request if isinstance(context.request, Request) else None
        meta = context.meta.model_extra if context.meta is not None else None
        if name == self.paid_tool:
            return await self._paid(arguments, meta, request)
        if name == STATUS_TOOL and self.state.listing.is_job:
            return self._job(arguments, request)
        return _failure("unknown_tool", f"no tool {name!r}; call tools/list")

    async def _paid(
        self, arguments: dict[str, Any], meta: dict[str, Any] | None, request: Request | None
    ) -> types.CallToolResult:
        state = self.state
        try:
            wanted = state.listing.check_request(arguments, state.settings.max_string_chars)
        except InvalidRequestError as exc:
            return _failure("invalid_request", exc.message, field=exc.field)
        requested = request.headers.get(SCENARIO_HEADER) if request is not None else None
        try:
            scenario = state.scenarios.peek(requested)
        except UnknownScenarioError as exc:
            return _failure("unknown_scenario", str(exc))
        if request is not None:
            note(request.scope, scenario=scenario.name)
        required = identifier_required(state.settings, scenario)
        resource = self._base(request) + MCP_PATH
        try:
            payload = payment_in_meta(meta)
        except ValueError as exc:
            return self._payment_required(resource, Reason.INVALID_PAYLOAD, required, str(exc))
        if payload is None:
            return self._payment_required(
                resource, "payment_required", required, flaw=scenario.offer
            )
        payment = Payment(2, payload)
        try:
            payment_id = payment_id_of(payment, state.settings, required)
        except IdentifierError as exc:
            return _failure(Reason.INVALID_PAYMENT_IDENTIFIER, str(exc))
        order = Order(payment, wanted, resource, requested, payment_id)
        return self._answer(await buy(state, order), resource, required, request)

    def _answer(
        self, outcome: Outcome, resource: str, required: bool, request: Request | None
    ) -> types.CallToolResult:
        if isinstance(outcome, Bought):
            answer = purchase_answer(self.state, outcome.job, self._base(request))
            settlement = outcome.purchase.settlement or {}
            return _result(answer, meta={PAYMENT_RESPONSE_META: settlement})
        if isinstance(outcome, Refused):
            return self._payment_required(
                resource, outcome.reason, required, outcome.message, settlement=outcome.settlement
            )
        if isinstance(outcome, Pending):
            purchase = outcome.purchase
            return _failure(
                Reason.SETTLEMENT_PENDING,
                pending_message(purchase),
                transaction=purchase.transaction or None,
                meta={PAYMENT_RESPONSE_META: pending_settlement(purchase)},
            )
        if isinstance(outcome, Unavailable):
            return _failure(Reason.FACILITATOR_UNAVAILABLE, unavailable_message(outcome))
        if isinstance(outcome, Conflict):
            return _failure(Reason.PAYMENT_IDENTIFIER_CONFLICT, outcome.message)
        return _failure("internal_error", outcome.message)

    def _payment_required(
        self,
        resource: str,
        reason: str,
        required: bool,
        message: str = "",
        flaw: OfferFlaw = OfferFlaw.NONE,
        settlement: dict[str, Any] | None = None,
    ) -> types.CallToolResult:
        """The spec's Payment Required Signaling: isError, structuredContent and its JSON text."""
        meta = {PAYMENT_RESPONSE_META: settlement} if settlement else None
        if flaw is OfferFlaw.MALFORMED:
            return _result(dict(MALFORMED_OFFER_BODY), is_error=True, meta=meta)
        state = self.state
        extensions = offer_extensions(state.listing, state.settings, required, mcp=True)
        offered = required_v2(state.listing, resource, reason, flaw, extensions).wire()
        if message:
            offered["message"] = message
        return _result(offered, is_error=True, meta=meta)

    def _job(self, arguments: dict[str, Any], request: Request | None) -> types.CallToolResult:
        job_id = arguments.get("job_id")
        if not isinstance(job_id, str) or not job_id:
            return _failure("invalid_request", "job_id is required: the id a paid call answered")
        answer = poll(self.state, job_id, self._base(request))
        body = dict(answer.body)
        if answer.retry_after is not None:
            body["retry_after"] = answer.retry_after
        return _result(body, is_error=answer.status != 200)

    def _base(self, request: Request | None) -> str:
        if request is None:
            return self.state.settings.public_url.rstrip("/")
        return base_url(request, self.state)


class _Endpoint:
    """The session manager as a plain ASGI app (a Route treats functions as request handlers)."""

    def __init__(self, manager: StreamableHTTPSessionManager) -> None:
        self.manager = manager

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.manager.handle_request(scope, receive, send)


def _result(
    data: dict[str, Any], is_error: bool = False, meta: dict[str, Any] | None = None
) -> types.CallToolResult:
    """A tool result whose `structuredContent` is `data` and `content[0].text` its JSON."""
    text = types.TextContent(type="text", text=json.dumps(data, separators=(",", ":")))
    return types.CallToolResult(
        content=[text], structuredContent=data, isError=is_error, _meta=meta
    )


def _failure(
    code: str, message: str, meta: dict[str, Any] | None = None, **extra: Any
) -> types.CallToolResult:
    body = {"error": code, "message": message, **{k: v for k, v in extra.items() if v is not None}}
    return _result(body, is_error=True, meta=meta)
