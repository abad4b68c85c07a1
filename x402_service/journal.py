"""Everything a server saw and said, in order: what conformance checks are computed from.

The mock server and the facilitator each keep one; `JournalMiddleware` writes it from the ASGI
messages, so an entry holds the bytes that crossed the wire, cut to a bounded size with a visible
marker. The journal is bounded in entries and in characters, and read a page at a time.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_CHARS = 16 * 1024
"""Of a request or answer body."""
MAX_HEADER_CHARS = 4 * 1024
"""Of one header value (a payment header is well under 2 KiB)."""
MAX_HEADERS_CHARS = 16 * 1024
"""Of all the headers of one request or answer; the rest are left out, and the entry says so."""
MAX_PAYMENT_CHARS = 32 * 1024
"""Of a decoded payment payload as JSON."""
CAPTURE_BYTES = 64 * 1024
"""Bytes of a body the middleware keeps to decode and record (servers refuse larger ones)."""
MAX_JOURNAL_CHARS = 64 * 1024 * 1024
"""All entries together; the oldest are dropped past it, as past `max_entries`."""
DEFAULT_PAGE_ENTRIES = 500
MAX_PAGE_ENTRIES = 1000
MAX_PAGE_CHARS = 8 * 1024 * 1024
LEFT_OUT_HEADER = "x-journal-left-out"
"""Stands in for the headers past MAX_HEADERS_CHARS."""
NOTES_SCOPE_KEY = "x402h.journal_notes"
"""Where a handler leaves notes for its request's entry in the ASGI scope."""
MAX_NOTE_CHARS = 256


def note(scope: MutableMapping[str, Any], **notes: str) -> None:
    """Adds `notes` to the journal entry of the request in `scope`: what the handler decided
    that the wire does not show (the scenario it served, say)."""
    scope.setdefault(NOTES_SCOPE_KEY, {}).update(notes)


def truncated(text: str, limit: int) -> str:
    """`text`, cut at `limit` characters with a marker saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[truncated: {len(text)} characters in all]"


def text_of(body: bytes) -> str:
    """A body as journal text: decoded, and cut at MAX_BODY_CHARS."""
    text = body[: MAX_BODY_CHARS * 4].decode("utf-8", errors="replace")
    if len(body) > MAX_BODY_CHARS * 4 or len(text) > MAX_BODY_CHARS:
        return f"{text[:MAX_BODY_CHARS]}…[truncated: {len(body)} bytes in all]"
    return text


def bounded_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Headers as journal text: the first of each name, each value and all of them cut."""
    kept: dict[str, str] = {}
    pairs = list(raw)
    size = 0
    for raw_name, raw_value in pairs:  # the usual case, on every request: nothing to cut
        size += len(raw_name) + len(raw_value)
        if size > MAX_HEADERS_CHARS or len(raw_value) > MAX_HEADER_CHARS or len(raw_name) > 256:
            kept.clear()
            break
        name = raw_name.decode("latin-1").lower()
        if name not in kept:
            kept[name] = raw_value.decode("latin-1")
    else:
        return kept
    budget = MAX_HEADERS_CHARS
    for index, (raw_name, raw_value) in enumerate(pairs):
        name = truncated(raw_name.decode("latin-1").lower(), 256)
        value = truncated(raw_value.decode("latin-1"), MAX_HEADER_CHARS)
        budget -= len(name) + len(value)
        if budget < 0:
            kept[LEFT_OUT_HEADER] = f"{len(pairs) - index} headers left out (over the size cap)"
            break
        kept.setdefault(name, value)
    return kept


def _finite(value: Any) -> Any:
    """`value` with every non-finite float written as a string, so that JSON can carry it."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def payment_json(payment: dict[str, Any] | None) -> str:
    """A decoded payment as JSON text that any JSON reader accepts, cut with a marker."""
    if payment is None:
        return "null"
    try:
        text = json.dumps(payment, allow_nan=False, separators=(",", ":"))
    except ValueError:
        text = json.dumps(_finite(payment), separators=(",", ":"))
    if len(text) > MAX_PAYMENT_CHARS:
        return json.dumps({"truncated": f"a payment of {len(text)} characters, left out"})
    return text


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    time: float
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: str
    payment: str
    """The decoded payment payload as JSON text (`null`: none that decodes)."""
    payment_version: int | None
    status: int
    response_headers: dict[str, str]
    response_body: str
    duration_ms: float
    notes: dict[str, str] = field(default_factory=dict)
    """What the server noted of the request beyond the wire (`scenario`: the one it served)."""

    def json(self) -> str:
        fields = {name: getattr(self, name) for name in self.__slots__ if name != "payment"}
        return json.dumps(fields, separators=(",", ":"))[:-1] + f',"payment":{self.payment}}}'

    def chars(self) -> int:
        """About the characters it holds (what the journal's size cap counts)."""
        return (
            200
            + len(self.path)
            + len(self.query)
            + len(self.body)
            + len(self.payment)
            + len(self.response_body)
            + sum(map(len, self.headers))
            + sum(map(len, self.headers.values()))
            + sum(map(len, self.response_headers))
            + sum(map(len, self.response_headers.values()))
            + sum(len(k) + len(v) for k, v in self.notes.items())
        )


class Journal:
    """A bounded in-memory record, optionally also appended to a JSON-lines file."""

    def __init__(
        self,
        max_entries: int = 10_000,
        path: Path | None = None,
        max_chars: int = MAX_JOURNAL_CHARS,
    ) -> None:
        self._entries: deque[tuple[Entry, int]] = deque()
        """Each entry with its size in characters."""
        self._max_entries = max_entries
        self._max_chars = max_chars
        self._chars = 0
        self._seq = 0
        self._lock = threading.Lock()
        self._path = path

    def record(self, **fields: Any) -> Entry:
        with self._lock:
            self._seq += 1
            entry = Entry(seq=self._seq, time=time.time(), **fields)
            size = entry.chars()
            self._entries.append((entry, size))
            self._chars += size
            while len(self._entries) > self._max_entries or (
                self._chars > self._max_chars and len(self._entries) > 1
            ):
                self._chars -= self._entries.popleft()[1]
            if self._path is not None:
                with self._path.open("a") as out:
                    out.write(entry.json() + "\n")
        return entry

    def entries(self, since: int = 0) -> list[dict[str, Any]]:
        """Every entry after sequence number `since`, as JSON objects (for in-process readers)."""
        with self._lock:
            return [json.loads(e.json()) for e, _ in self._entries if e.seq > since]

    def page(self, since: int = 0, limit: int = DEFAULT_PAGE_ENTRIES) -> str:
        """`{"entries": [...], "next": N, "more": bool}` as JSON text: up to `limit` entries (and
        MAX_PAGE_CHARS) after `since`; `next` is the `since` that continues where this stops."""
        texts: list[str] = []
        size = 0
        last = since
        more = False
        with self._lock:
            for entry, _ in self._entries:
                if entry.seq <= since:
                    continue
                if len(texts) >= limit or (texts and size > MAX_PAGE_CHARS):
                    more = True
                    break
                text = entry.json()
                texts.append(text)
                size += len(text)
                last = entry.seq
        return f'{{"entries":[{",".join(texts)}],"next":{last},"more":{json.dumps(more)}}}'

    def read(self, query: Mapping[str, str]) -> str:
        """The page a `?since=N&limit=M` query asks for; ValueError says what is wrong with it."""
        return self.page(*page_bounds(query))

    @property
    def last_seq(self) -> int:
        """The sequence number of the latest entry ever recorded (0: none yet)."""
        return self._seq

    @property
    def oldest_seq(self) -> int | None:
        """The sequence number of the oldest entry kept (None: none is)."""
        with self._lock:
            return self._entries[0][0].seq if self._entries else None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._chars = 0


def page_bounds(query: Mapping[str, str]) -> tuple[int, int]:
    """(since, limit) of a `?since=N&limit=M` query; ValueError says what is wrong with it."""
    since = _whole_number(query, "since", 0)
    limit = _whole_number(query, "limit", DEFAULT_PAGE_ENTRIES)
    if not 1 <= limit <= MAX_PAGE_ENTRIES:
        raise ValueError(f"limit is {limit}; expected 1 to {MAX_PAGE_ENTRIES}")
    return since, limit


def _whole_number(query: Mapping[str, str], name: str, default: int) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or not text.isascii() or len(text) > 18:
        raise ValueError(f"{name} is {text[:40]!r}; expected a whole number")
    return int(text)


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
        answer: dict[str, Any] = {"status": 0, "headers": [], "body": bytearray()}

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(request_body) < CAPTURE_BYTES:
                request_body.extend(message.get("body", b"")[: CAPTURE_BYTES - len(request_body)])
            return message

        recorded = False

        async def recording_send(message: Message) -> None:
            nonlocal recorded
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                body = answer["body"]
                if len(body) < CAPTURE_BYTES and _is_json(answer["headers"]):
                    body.extend(message.get("body", b"")[: CAPTURE_BYTES - len(body)])
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
        try:
            payment, version = self.read_payment(Headers(scope=scope), body)
        except ValueError:  # a request the reader cannot make sense of is still recorded
            payment, version = None, None
        self.journal.record(
            method=scope["method"],
            path=truncated(scope["path"], MAX_HEADER_CHARS),
            query=truncated(scope.get("query_string", b"").decode("latin-1"), MAX_HEADER_CHARS),
            headers=bounded_headers(scope["headers"]),
            body=text_of(body),
            payment=payment_json(payment),
            payment_version=version,
            status=answer["status"],
            response_headers=bounded_headers(answer["headers"]),
            response_body=text_of(bytes(answer["body"])),
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            notes={
                truncated(str(name), MAX_NOTE_CHARS): truncated(str(value), MAX_NOTE_CHARS)
                for name, value in scope.get(NOTES_SCOPE_KEY, {}).items()
            },
        )


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(
        name.lower() == b"content-type" and value.startswith(b"application/json")
        for name, value in headers
    )
