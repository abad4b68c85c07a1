"""ASGI middleware that writes every public request and its answer into the journal."""

from __future__ import annotations

import time
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.journal import Journal, text_of
from mock_server.paywall import read_payment
from x402_core.headers import HeaderError

NOT_RECORDED_PREFIX = "/__mock__"


class JournalMiddleware:
    def __init__(self, app: ASGIApp, journal: Journal, versions: frozenset[str]) -> None:
        self.app = app
        self.journal = journal
        self.versions = versions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(NOT_RECORDED_PREFIX):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_body = bytearray()
        answer: dict[str, Any] = {"status": 0, "headers": {}, "body": bytearray()}

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request_body.extend(message.get("body", b""))
            return message

        recorded = False

        async def recording_send(message: Message) -> None:
            nonlocal recorded
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["headers"] = dict(Headers(raw=message.get("headers", [])))
            elif message["type"] == "http.response.body":
                if answer["headers"].get("content-type", "").startswith("application/json"):
                    answer["body"].extend(message.get("body", b""))
                if not message.get("more_body", False):
                    # Recorded before the last byte leaves: whoever got the answer finds it.
                    recorded = True
                    self._record(scope, bytes(request_body), answer, started)
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            if not recorded:
                self._record(scope, bytes(request_body), answer, started)

    def _record(self, scope: Scope, body: bytes, answer: dict[str, Any], started: float) -> None:
        headers = Headers(scope=scope)
        payment, version = None, None
        try:
            decoded = read_payment(headers, self.versions)
            if decoded is not None:
                payment, version = decoded.payload.wire(), decoded.version
        except HeaderError:
            pass  # the malformed header itself is in the recorded headers
        self.journal.record(
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=dict(headers),
            body=text_of(body),
            payment=payment,
            payment_version=version,
            status=answer["status"],
            response_headers=answer["headers"],
            response_body=text_of(bytes(answer["body"])),
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
        )
