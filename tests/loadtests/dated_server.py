"""A paid endpoint (not the mock) whose status answers give `Retry-After` as an HTTP-date, which
RFC 9110 allows and the load users must read as the paying client does."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from email.utils import formatdate

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.factories import requirements_v2
from x402_core.headers import PAYMENT_REQUIRED, PAYMENT_RESPONSE, PAYMENT_SIGNATURE, encode_header
from x402_core.models import PaymentRequiredV2, ResourceInfo, SettleResponse

PATH = "/v1/images/generate"
POLLS_BEFORE_DONE = 2


def dated_server(polls: Counter[str]) -> Starlette:
    """Any payment is taken (nothing is verified); each job completes on its second poll, after
    a first answer asking, by date, to come back in a second. `polls` counts polls per job."""
    offer = PaymentRequiredV2(
        x402_version=2, resource=ResourceInfo(url=PATH), accepts=[requirements_v2()]
    )
    settled = SettleResponse(success=True, transaction="0x" + "ab" * 32, network="eip155:8453")

    async def generate(request: Request) -> JSONResponse:
        if PAYMENT_SIGNATURE not in request.headers:
            return JSONResponse({}, 402, headers={PAYMENT_REQUIRED: encode_header(offer)})
        job = {"id": uuid.uuid4().hex, "status": "pending"}
        return JSONResponse(job, headers={PAYMENT_RESPONSE: encode_header(settled)})

    async def status(request: Request) -> JSONResponse:
        job_id = request.path_params["job_id"]
        polls[job_id] += 1
        if polls[job_id] < POLLS_BEFORE_DONE:
            later = formatdate(time.time() + 1, usegmt=True)
            return JSONResponse(
                {"id": job_id, "status": "processing"}, headers={"Retry-After": later}
            )
        return JSONResponse({"id": job_id, "status": "completed", "images": []})

    return Starlette(
        routes=[
            Route(PATH, generate, methods=["POST"]),
            Route(PATH + "/{job_id}", status, methods=["GET"]),
        ]
    )
