"""Deliberately broken servers: the real mock with one answer rewritten on its way in or out, or
configured with another endpoint's listing. The server checks must catch each of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from x402_core.headers import decode_json_header, encode_json_header

OTHER = "0x000000000000000000000000000000000000dEaD"
PAYMENT_HEADERS = ("payment-signature", "x-payment")


@dataclass
class Exchange:
    """A request and the answer the mock gave, open to rewriting before it is sent."""

    method: str
    path: str
    request_headers: Headers
    request_body: bytes
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def paid(self) -> bool:
        return any(h in self.request_headers for h in PAYMENT_HEADERS)

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def set_json(self, data: Any) -> None:
        self.body = json.dumps(data).encode()
        self.headers["content-type"] = "application/json"


RequestRewrite = Callable[[str, str, Headers, bytes], bytes]
AnswerRewrite = Callable[[Exchange], None]


class Rewrite:
    """ASGI middleware: `on_request` may change the body the mock gets; `on_answer` the answer."""

    def __init__(
        self,
        app: ASGIApp,
        on_answer: AnswerRewrite | None = None,
        on_request: RequestRewrite | None = None,
    ) -> None:
        self.app = app
        self.on_answer = on_answer
        self.on_request = on_request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                break
        exchange = Exchange(scope["method"], scope["path"], Headers(scope=scope), bytes(body))
        forwarded = exchange.request_body
        if self.on_request is not None:
            forwarded = self.on_request(
                exchange.method, exchange.path, exchange.request_headers, forwarded
            )

        async def replay() -> Message:
            return {"type": "http.request", "body": forwarded, "more_body": False}

        chunks = bytearray()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                exchange.headers = dict(Headers(raw=message["headers"]))
            elif message["type"] == "http.response.body":
                chunks.extend(message.get("body", b""))

        await self.app(scope, replay, capture)
        exchange.body = bytes(chunks)
        if self.on_answer is not None:
            self.on_answer(exchange)
        exchange.headers["content-length"] = str(len(exchange.body))
        raw = [(k.encode(), v.encode()) for k, v in exchange.headers.items()]
        await send({"type": "http.response.start", "status": exchange.status, "headers": raw})
        await send({"type": "http.response.body", "body": exchange.body})


def _is_offer(exchange: Exchange) -> bool:
    return exchange.method == "POST" and exchange.status == 402 and not exchange.paid


def garble_offer_header(exchange: Exchange) -> None:
    if _is_offer(exchange):
        exchange.headers["payment-required"] = "%% not base64 %%"


def oversize_offer_header(kilobytes: int) -> AnswerRewrite:
    """A PAYMENT-REQUIRED that still decodes, padded with an extension of `kilobytes` KB."""

    def rewrite(exchange: Exchange) -> None:
        if "payment-required" in exchange.headers:
            offer: Any = decode_json_header(exchange.headers["payment-required"])
            offer["extensions"] = {"padding": {"info": "x" * kilobytes * 768, "schema": {}}}
            exchange.headers["payment-required"] = encode_json_header(offer)

    return rewrite


def v1_body_undescribed(exchange: Exchange) -> None:
    body = exchange.json()
    if exchange.status == 402 and isinstance(body, dict) and body.get("x402Version") == 1:
        for requirement in body.get("accepts", []):
            requirement.pop("mimeType", None)
            requirement.pop("outputSchema", None)
        exchange.set_json(body)


def _refusal_saying(error: str | None) -> AnswerRewrite:
    """A refused payment's 402 with `error` as its only reason (None: no reason at all), in the
    body and in PAYMENT-REQUIRED, and no settlement header."""

    def rewrite(exchange: Exchange) -> None:
        body = exchange.json()
        if exchange.method != "POST" or not exchange.paid or exchange.status != 402:
            return
        exchange.headers.pop("payment-response", None)
        exchange.headers.pop("x-payment-response", None)
        if isinstance(body, dict):
            body.pop("error", None)
            exchange.set_json({**body, "error": error} if error else {**body, "note": "refused"})
        _set_offer_error(exchange, error)

    return rewrite


refusal_reads_as_unpaid = _refusal_saying("payment_required")
"""A refused payment is answered as the unpaid request was: the header was never read."""
refusal_without_reason = _refusal_saying(None)
"""Refuses, reading the payment, but says why nowhere."""


def _set_offer_error(exchange: Exchange, error: str | None) -> None:
    if "payment-required" in exchange.headers:
        offer: Any = decode_json_header(exchange.headers["payment-required"])
        offer["error"] = error
        exchange.headers["payment-required"] = encode_json_header(offer)


def unpaid_is_401(exchange: Exchange) -> None:
    if _is_offer(exchange):
        exchange.status = 401


def _rewrite_offer(change: Callable[[dict[str, Any]], None]) -> AnswerRewrite:
    """Change every requirement of the 402, in the v2 header and the v1 body alike."""

    def rewrite(exchange: Exchange) -> None:
        if exchange.status != 402:
            return
        body = exchange.json()
        for requirement in body.get("accepts", []):
            change(requirement)
        exchange.set_json(body)
        if "payment-required" in exchange.headers:
            offer: Any = decode_json_header(exchange.headers["payment-required"])
            for requirement in offer["accepts"]:
                change(requirement)
            exchange.headers["payment-required"] = encode_json_header(offer)

    return rewrite


def _set(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda requirement: requirement.update(values)


def _drop_extra(requirement: dict[str, Any]) -> None:
    requirement.pop("extra", None)


def invalid_body_gets_402(exchange: Exchange) -> None:
    if exchange.method == "POST" and exchange.status == 400 and not exchange.paid:
        exchange.status = 402


def settle_despite_invalid_body(method: str, path: str, headers: Headers, body: bytes) -> bytes:
    """Charges first and validates later: an invalid body is replaced by a valid one."""
    if method == "POST" and any(h in headers for h in PAYMENT_HEADERS):
        try:
            data = json.loads(body)
        except ValueError:
            data = {}
        if isinstance(data, dict) and "model" not in data:  # the probe's invalid request
            return json.dumps({"model": "nano-banana-2", "prompt": "charged anyway"}).encode()
    return body


def answer_400_after_charging(exchange: Exchange) -> None:
    if exchange.method == "POST" and exchange.paid and b'"model"' not in exchange.request_body:
        exchange.status = 400
        exchange.set_json({"error": "invalid_request", "message": "model"})


def malformed_header_gets_402(exchange: Exchange) -> None:
    data = exchange.json()
    if exchange.status == 400 and isinstance(data, dict):
        exchange.status = 402 if str(data.get("error")).startswith("invalid_payment") else 400


def refusal_creates_job(exchange: Exchange) -> None:
    if exchange.method == "POST" and exchange.paid and exchange.status == 402:
        exchange.status = 200
        exchange.set_json({"id": "ghost-job", "status": "pending"})


class ReplayRefused:
    """Treats a repeated payment as a new purchase: the facilitator refuses the used nonce."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, exchange: Exchange) -> None:
        payment = exchange.request_headers.get("payment-signature")
        if exchange.method != "POST" or payment is None or exchange.status != 200:
            return
        if payment in self.seen:
            exchange.status = 402
            exchange.set_json(
                {"x402Version": 2, "error": "invalid_exact_evm_nonce_already_used", "accepts": []}
            )
        self.seen.add(payment)


def strip_header(name: str) -> AnswerRewrite:
    def rewrite(exchange: Exchange) -> None:
        exchange.headers.pop(name, None)

    return rewrite


def drop_location(exchange: Exchange) -> None:
    exchange.headers.pop("location", None)


def drop_status_fields(exchange: Exchange) -> None:
    if (data := _status_answer(exchange)) is not None:
        exchange.set_json({"id": data["id"], "status": data["status"], **_images(data)})


def _images(data: dict[str, Any]) -> dict[str, Any]:
    return {"images": data["images"]} if "images" in data else {}


def no_status_route(exchange: Exchange) -> None:
    if exchange.method == "GET" and exchange.path.startswith("/v1/images/generate/"):
        exchange.status = 404
        exchange.set_json({"error": "not_found", "message": "no such route"})


def drop_job_id(exchange: Exchange) -> None:
    data = exchange.json()
    if exchange.method == "POST" and exchange.status == 200 and isinstance(data, dict):
        data.pop("id", None)
        exchange.set_json(data)
        exchange.headers.pop("location", None)


def _status_answer(exchange: Exchange) -> dict[str, Any] | None:
    data = exchange.json()
    is_status = exchange.method == "GET" and exchange.path.startswith("/v1/images/generate/")
    return data if is_status and exchange.status == 200 and isinstance(data, dict) else None


def processing_is_running(exchange: Exchange) -> None:
    if (data := _status_answer(exchange)) is not None and data.get("status") == "processing":
        exchange.set_json({**data, "status": "running"})


class TerminalReopens:
    """After a job was seen completed, it is shown processing again."""

    def __init__(self) -> None:
        self.completed: set[str] = set()

    def __call__(self, exchange: Exchange) -> None:
        if (data := _status_answer(exchange)) is None:
            return
        if data["id"] in self.completed:
            exchange.set_json({**data, "status": "processing"})
        elif data.get("status") == "completed":
            self.completed.add(data["id"])


def no_retry_after(exchange: Exchange) -> None:
    exchange.headers.pop("retry-after", None)


def images_are_not_png(exchange: Exchange) -> None:
    if exchange.method == "GET" and exchange.path.endswith(".png") and exchange.status == 200:
        exchange.body = b"GIF89a not a png"


def unknown_id_is_500(exchange: Exchange) -> None:
    if exchange.status == 404:
        exchange.status = 500


def failure_without_error(exchange: Exchange) -> None:
    if (data := _status_answer(exchange)) is not None and data.get("status") == "failed":
        data.pop("error", None)
        exchange.set_json(data)


OFFER_REWRITES: dict[str, AnswerRewrite] = {
    "asset rewritten": _rewrite_offer(_set(asset=OTHER)),
    "network rewritten": _rewrite_offer(_set(network="eip155:84532")),
    "extra missing": _rewrite_offer(_drop_extra),
}


def _pending(exchange: Exchange) -> bool:
    """A paid request answered 503 settlement_pending: the mock does not know the outcome."""
    data = exchange.json()
    pending = isinstance(data, dict) and data.get("error") == "settlement_pending"
    return exchange.method == "POST" and exchange.paid and exchange.status == 503 and pending


def pending_as_refusal(exchange: Exchange) -> None:
    """Treats a settle that timed out or failed with a 5xx as refused: 402, settlement failed."""
    if _pending(exchange):
        exchange.status = 402
        exchange.set_json({"x402Version": 2, "error": "unexpected_settle_error", "accepts": []})
        failure = {"success": False, "errorReason": "unexpected_settle_error", "transaction": ""}
        exchange.headers["payment-response"] = encode_json_header(failure)


def serves_unsettled(exchange: Exchange) -> None:
    """Serves a job although the settle failed: the unknown outcome is taken for a success."""
    if _pending(exchange):
        exchange.status = 200
        exchange.headers.pop("payment-response", None)
        exchange.headers.pop("retry-after", None)
        exchange.set_json({"id": "job_unsettled", "status": "pending"})


class ForgetsSettledPayments:
    """Forgets a payment once it may have moved money (a job or a 5xx): sent again, it is refused
    as a used nonce, as a server without purchase records answers."""

    def __init__(self) -> None:
        self.sent: set[str] = set()

    def __call__(self, exchange: Exchange) -> None:
        payment = exchange.request_headers.get("payment-signature")
        if exchange.method != "POST" or payment is None:
            return
        if payment in self.sent:
            exchange.status = 402
            exchange.headers.pop("payment-response", None)
            exchange.set_json(
                {"x402Version": 2, "error": "invalid_exact_evm_nonce_already_used", "accepts": []}
            )
        elif exchange.status == 200 or exchange.status >= 500:
            self.sent.add(payment)
