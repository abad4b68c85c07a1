"""Facilitator faults, armed through `/__facilitator__/faults`, to grade servers against a
facilitator that misbehaves.

A fault changes only the answers and their timing: every settle really happens, and money moves
exactly as it would without the fault. The fault armed first applies to the next `count` settles
that made (or report) a transfer, then the next fault does; without a count it lasts until
`DELETE`. Each application is logged with the real answer it replaced.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, ValidationError
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from facilitator_sim.recording import body_payment
from x402_core.headers import describe_validation_error
from x402_core.models import SettleResponse
from x402_core.models.fields import WireModel
from x402_core.reasons import Reason

MAX_BODY_BYTES = 4096
MAX_COUNT = 10_000
MAX_SECONDS = 600.0
HOLD_MARGIN_SECONDS = 1.0
"""timeout_after_broadcast holds its answer this much longer than the caller's timeout."""
APPLIED_KEPT = 500
FAULTED_PATHS = ("/verify", "/settle")


class FacilitatorFault(StrEnum):
    TIMEOUT_AFTER_BROADCAST = "timeout_after_broadcast"
    """Settles, then holds the answer back longer than `seconds` (the caller's timeout)."""
    ERROR_AFTER_SETTLE = "error_after_settle"
    """Settles, then answers 500."""
    HTML_AFTER_SETTLE = "html_after_settle"
    """Settles, then answers a proxy's HTML error page (502)."""
    TRUNCATED_AFTER_SETTLE = "truncated_after_settle"
    """Settles, then answers the first half of its JSON."""
    PENDING = "pending"
    """Settles, then answers `settlement_pending` naming the real transaction."""
    SLOW = "slow"
    """Waits `seconds` before each /verify and /settle, then behaves."""


DEFAULT_SECONDS = {FacilitatorFault.TIMEOUT_AFTER_BROADCAST: 30.0, FacilitatorFault.SLOW: 2.0}
"""The faults that take `seconds`, and their default."""
HTML_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class FaultRequest(WireModel):
    """`POST /__facilitator__/faults`: arm `settle` for the next `count` settles (none: until
    cleared); `seconds` for timeout_after_broadcast (the caller's timeout) and slow (the delay)."""

    settle: FacilitatorFault
    count: Annotated[int, Field(ge=1, le=MAX_COUNT)] | None = None
    seconds: Annotated[float, Field(gt=0, le=MAX_SECONDS)] | None = None


@dataclass
class ArmedFault:
    fault: FacilitatorFault
    seconds: float
    remaining: int | None
    """Settles it still applies to; None: until cleared."""

    def view(self) -> dict[str, Any]:
        return {"settle": self.fault.value, "seconds": self.seconds, "remaining": self.remaining}


@dataclass(frozen=True, slots=True)
class AppliedFault:
    """One answer a fault changed, and the real answer it replaced."""

    fault: str
    path: str
    payer: str
    nonce: str
    status: int
    """The status the caller got (0: held back; it gets the real answer late)."""
    settlement: dict[str, Any] | None
    """The real settle answer (None on /verify)."""
    time: float


class Faults:
    """The armed faults, first armed first, and the log of what they changed. Thread-safe."""

    def __init__(self) -> None:
        self._armed: list[ArmedFault] = []
        self._applied: deque[AppliedFault] = deque(maxlen=APPLIED_KEPT)
        self._lock = threading.Lock()

    def arm(self, wanted: FaultRequest) -> ArmedFault:
        seconds = wanted.seconds or DEFAULT_SECONDS.get(wanted.settle, 0.0)
        armed = ArmedFault(wanted.settle, seconds, wanted.count)
        with self._lock:
            self._armed.append(armed)
        return armed

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def head(self) -> ArmedFault | None:
        with self._lock:
            return self._armed[0] if self._armed else None

    def take(self, armed: ArmedFault) -> bool:
        """Use one of `armed`'s settles: False when it was cleared or used up meanwhile."""
        with self._lock:
            if not any(a is armed for a in self._armed):
                return False
            if armed.remaining is not None:
                armed.remaining -= 1
                if armed.remaining == 0:
                    self._armed.remove(armed)
            return True

    def log(self, applied: AppliedFault) -> None:
        with self._lock:
            self._applied.append(applied)

    def view(self) -> dict[str, Any]:
        with self._lock:
            return {
                "armed": [a.view() for a in self._armed],
                "applied": [asdict(a) for a in self._applied],
            }


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content_type: str
    body: bytes

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"content-type", self.content_type.encode()),
            (b"content-length", str(len(self.body)).encode()),
        ]


def faulty_answer(fault: FacilitatorFault, real: Answer, settled: SettleResponse) -> Answer:
    """What `fault` answers in place of the real answer to a settle that transferred."""
    if fault is FacilitatorFault.ERROR_AFTER_SETTLE:
        return Answer(500, "text/plain; charset=utf-8", b"Internal Server Error")
    if fault is FacilitatorFault.HTML_AFTER_SETTLE:
        return Answer(502, "text/html", HTML_PAGE)
    if fault is FacilitatorFault.TRUNCATED_AFTER_SETTLE:
        return Answer(real.status, real.content_type, real.body[: len(real.body) // 2])
    if fault is FacilitatorFault.PENDING:
        pending = SettleResponse(
            success=False,
            error_reason=Reason.SETTLEMENT_PENDING,
            error_message="the transaction is not confirmed yet (facilitator fault pending); "
            "settle the same payment again to learn its outcome",
            payer=settled.payer,
            transaction=settled.transaction,
            network=settled.network,
        )
        wire = json.dumps(pending.wire(), separators=(",", ":"))
        return Answer(200, "application/json", wire.encode())
    return real


class FaultMiddleware:
    """Applies the armed faults to `POST /verify` and `POST /settle`."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path")
        if scope["type"] != "http" or scope["method"] != "POST" or path not in FAULTED_PATHS:
            await self.app(scope, receive, send)
            return
        armed = self.faults.head()
        if armed is not None and armed.fault is FacilitatorFault.SLOW:
            if path == "/verify" or self.faults.take(armed):
                await asyncio.sleep(armed.seconds)
            armed = None
        if path == "/verify" or armed is None:
            await self.app(scope, receive, send)
            return
        body, real = await _run(self.app, scope, receive)
        settled = _transferred(real)
        if settled is None or not self.faults.take(armed):
            await _send(send, real)
            return
        answer = faulty_answer(armed.fault, real, settled)
        held = armed.fault is FacilitatorFault.TIMEOUT_AFTER_BROADCAST
        self.faults.log(_applied(armed.fault, body, 0 if held else answer.status, settled))
        if held:
            await asyncio.sleep(armed.seconds + HOLD_MARGIN_SECONDS)
        await _send(send, answer)


async def _run(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[bytes, Answer]:
    """Run the real handler; the request body and the answer it gave."""
    request_body = bytearray()
    status, content_type, chunks = 0, "", bytearray()

    async def recording_receive() -> Message:
        message = await receive()
        request_body.extend(message.get("body", b""))
        return message

    async def capture(message: Message) -> None:
        nonlocal status, content_type
        if message["type"] == "http.response.start":
            status = message["status"]
            content_type = Headers(raw=message.get("headers", [])).get("content-type", "")
        elif message["type"] == "http.response.body":
            chunks.extend(message.get("body", b""))

    await app(scope, recording_receive, capture)
    return bytes(request_body), Answer(status, content_type, bytes(chunks))


def _transferred(answer: Answer) -> SettleResponse | None:
    """The real settle answer when it reports a transfer (made now or before), else None."""
    if answer.status != 200:
        return None
    try:
        settled = SettleResponse.model_validate_json(answer.body)
    except ValidationError:
        return None
    return settled if settled.success and settled.transaction else None


def _applied(
    fault: FacilitatorFault, body: bytes, status: int, settled: SettleResponse
) -> AppliedFault:
    payment, _ = body_payment(Headers(), body)
    authorization = ((payment or {}).get("payload") or {}).get("authorization") or {}
    return AppliedFault(
        fault=fault.value,
        path="/settle",
        payer=str(authorization.get("from", "")),
        nonce=str(authorization.get("nonce", "")),
        status=status,
        settlement=settled.wire(),
        time=time.time(),
    )


async def _send(send: Send, answer: Answer) -> None:
    start = {"type": "http.response.start", "status": answer.status}
    await send({**start, "headers": answer.raw_headers()})
    await send({"type": "http.response.body", "body": answer.body})


async def faults_endpoint(request: Request) -> JSONResponse:
    """`GET /__facilitator__/faults`: the armed faults and what they changed; `POST` arms one
    (`{"settle": "<fault>", "count": N, "seconds": S}`); `DELETE` clears them all."""
    faults: Faults = request.app.state.faults
    if request.method == "POST":
        problem = await _arm(request, faults)
        if problem is not None:
            return JSONResponse({"error": "invalid_request", "message": problem}, 400)
    elif request.method == "DELETE":
        faults.clear()
    return JSONResponse(faults.view())


async def _arm(request: Request, faults: Faults) -> str | None:
    """Arms the fault the body asks for; what is wrong with the body, or None."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return f"the body is {declared} bytes; at most {MAX_BODY_BYTES} are accepted"
    expected = (
        f'expected {{"settle": one of {", ".join(f.value for f in FacilitatorFault)}, '
        f'"count": 1 to {MAX_COUNT} (optional), "seconds": above 0, at most {MAX_SECONDS:g} '
        "(optional; timeout_after_broadcast and slow only)}"
    )
    try:
        wanted = FaultRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        return f"{describe_validation_error(exc)}; {expected}"
    if wanted.seconds is not None and wanted.settle not in DEFAULT_SECONDS:
        return f"seconds does not apply to {wanted.settle.value}; {expected}"
    faults.arm(wanted)
    return None


FAULT_ROUTES = [Route("/faults", faults_endpoint, methods=["GET", "POST", "DELETE"])]
