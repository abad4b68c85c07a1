"""The answers the endpoint gives, built in one place so every path says things the same way."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_server.extensions import offer_extensions
from mock_server.images import Picture
from mock_server.jobs import Job, Status
from mock_server.paywall import offer
from mock_server.scenarios import OfferFlaw
from mock_server.state import ServerState
from x402_core.headers import PAYMENT_REQUIRED, PAYMENT_RESPONSE, X_PAYMENT_RESPONSE

MESSAGE_HEADER = "X-Payment-Message"
"""Says in words why a 402 was given; the bodies keep the spec's shapes, `error` the reason."""
EXPOSED_HEADERS = ", ".join(
    [PAYMENT_REQUIRED, PAYMENT_RESPONSE, X_PAYMENT_RESPONSE, MESSAGE_HEADER, "Location"]
)
MAX_RETRY_AFTER = 5


def error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """A JSON error: `error` is a machine-readable code, `message` says what was expected."""
    headers = {"Retry-After": str(extra.pop("retry_after"))} if "retry_after" in extra else None
    return JSONResponse({"error": code, "message": message, **extra}, status, headers=headers)


def base_url(request: Request, state: ServerState) -> str:
    """The public URL, or the one the client used: scheme and Host, without Starlette's URL
    parsing, which was 4 % of an unpaid 402."""
    if state.settings.public_url:
        return state.settings.public_url.rstrip("/")
    host = request.headers.get("host")
    if host and not request.scope.get("root_path"):
        return f"{request.scope['scheme']}://{host}"
    return str(request.base_url).rstrip("/")


def resource_url(request: Request, state: ServerState) -> str:
    return base_url(request, state) + state.listing.path


def payment_required(
    request: Request,
    state: ServerState,
    reason: str,
    message: str = "",
    flaw: OfferFlaw = OfferFlaw.NONE,
    extra_headers: Mapping[str, str] | None = None,
    identifier_required: bool = False,
) -> Response:
    """402 with the offer: v2 in the PAYMENT-REQUIRED header, v1 in the body; `error` = reason.
    `flaw` serves an unpayable variant of the offer (the offer_* scenarios)."""
    offer_headers, body = _offer(
        state, resource_url(request, state), reason, flaw, identifier_required
    )
    headers = dict(extra_headers or {})
    if message:
        headers[MESSAGE_HEADER] = message.encode("ascii", "replace").decode()[:500]
    return Response(
        body,
        402,
        headers={**offer_headers, **headers, "Access-Control-Expose-Headers": EXPOSED_HEADERS},
        media_type="application/json",
    )


def _offer(
    state: ServerState, resource: str, reason: str, flaw: OfferFlaw, required: bool
) -> tuple[dict[str, str], bytes]:
    """The encoded 402 for (resource, reason, flaw, identifier required): the same for every
    request, so built once."""
    key = (resource, reason, flaw, required)
    cached = state.offers.get(key)
    if cached is None:
        if len(state.offers) >= 256:  # resources come from Host headers: keep it bounded
            state.offers.clear()
        extensions = offer_extensions(state.listing, state.settings, required)
        headers, body = offer(
            state.listing, resource, state.settings.versions, reason, flaw, extensions
        )
        cached = state.offers[key] = (headers, json.dumps(body, separators=(",", ":")).encode())
    return cached


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def retry_after(job: Job, now: float) -> int | None:
    """Seconds a client should wait before polling again; None once the job is terminal."""
    if job.status_at(now) in (Status.COMPLETED, Status.FAILED):
        return None
    change = job.seconds_to_next_change(now)
    return max(1, min(MAX_RETRY_AFTER, math.ceil(change if change is not None else 1)))


def purchase_answer(state: ServerState, job: Job, base: str) -> dict[str, Any]:
    """What a purchase answers: the new job (id, status, the request, created_at), or a
    synchronous endpoint's answer itself, the same each time."""
    if not state.listing.is_job:
        return state.listing.example_output(job.request)
    view = job_view(job, state.clock.now(), base)
    return {key: view[key] for key in ("id", "status", *job.request, "created_at")}


def job_view(job: Job, now: float, base: str) -> dict[str, Any]:
    """A job as the status endpoint shows it."""
    status = job.status_at(now)
    view: dict[str, Any] = {
        "id": job.id,
        "status": status.value,
        **job.request,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at(now)),
    }
    if status is Status.COMPLETED:
        width, height = Picture.of(job.request).size
        view["images"] = [
            {
                "url": f"{base}/v1/images/{job.id}/1.png",
                "width": width,
                "height": height,
                "mime_type": "image/png",
            }
        ]
    elif status is Status.FAILED:
        view["error"] = {"code": job.plan.error_code, "message": job.plan.error_message}
    return view
