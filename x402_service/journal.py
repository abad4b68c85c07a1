"""Everything a server saw and said, in order: what conformance checks are computed from.

The mock server and the facilitator each keep one; `JournalMiddleware` writes it from the ASGI
messages, so an entry holds exactly the bytes that crossed the wire.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_CHARS = 16 * 1024


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    time: float
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: str
    payment: dict[str, Any] | None
    """The decoded payment payload, when the request carried one that decodes."""
    payment_version: int | None
    status: int
    response_headers: dict[str, str]
    response_body: str
    duration_ms: float


class Journal:
    """A bounded in-memory record, optionally also appended to a JSON-lines file."""

    def __init__(self, max_entries: int = 10_000, path: Path | None = None) -> None:
        self._entries: deque[Entry] = deque(maxlen=max_entries)
        self._seq = 0
        self._lock = threading.Lock()
        self._path = path

    def record(self, **fields: Any) -> Entry:
        with self._lock:
            self._seq += 1
            entry = Entry(seq=self._seq, time=time.time(), **fields)
            self._entries.append(entry)
            if self._path is not None:
                with self._path.open("a") as out:
                    out.write(json.dumps(asdict(entry)) + "\n")
        return entry

    def entries(self, since: int = 0) -> list[Entry]:
        with self._lock:
            return [e for e in self._entries if e.seq > since]

    def since(self, query_value: str | None) -> list[dict[str, Any]]:
        """The entries after the sequence number a `?since=N` query gives, as JSON objects."""
        since = query_value or "0"
        if not since.isdigit():
            raise ValueError(f"since is {since!r}; expected a whole number")
        return [asdict(e) for e in self.entries(int(since))]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def text_of(body: bytes) -> str:
    """A body as journal text: decoded, and cut at MAX_BODY_CHARS."""
    text = body[: MAX_BODY_CHARS * 4].decode("utf-8", errors="replace")
    return text if len(text) <= MAX_BODY_CHARS else text[:MAX_BODY_CHARS] + "…[truncated]"


PaymentReader = Callable[[Headers, bytes], tuple[dict[str, Any] | None, int | None]]
"""The decoded payment payload and its x402 version in a request, or (None, None)."""


class JournalMiddleware:
    """Records every HTTP request and its answer, except paths starting with one of `skip`."""

    def __init__(
        self,
        app: ASGIApp,
        journal: Journal,
        read_payment: PaymentReader,
        skip: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.journal = journal
        self.read_payment = read_payment
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip):
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
        payment, version = self.read_payment(headers, body)
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
