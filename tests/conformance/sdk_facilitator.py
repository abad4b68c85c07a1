"""The official Python SDK's facilitator (PyPI `x402`) behind a small HTTP wrapper, as its users
serve it: `/supported`, `/verify` and `/settle` hand the parsed bodies to `x402FacilitatorSync`
with the SDK's exact-EVM scheme and web3 signer. The wrapper decides nothing itself: a body the
SDK cannot parse, or a scheme it has no facilitator for, is answered 400 with the SDK's words."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from x402 import x402FacilitatorSync
from x402.mechanisms.evm.exact.register import register_exact_evm_facilitator
from x402.mechanisms.evm.signers import FacilitatorWeb3Signer
from x402.schemas import PaymentError
from x402.schemas.helpers import parse_payment_payload, parse_payment_requirements

from x402_core.networks import BASE
from x402_core.wallets import facilitator_wallet

BAD_REQUEST = 400
RECEIPT_TIMEOUT_SECONDS = 30


def sdk_facilitator(rpc_url: str) -> x402FacilitatorSync:
    """The SDK's facilitator for exact payments on Base (v2) and its v1 networks."""
    signer = FacilitatorWeb3Signer(
        facilitator_wallet().private_key_hex,
        rpc_url,
        confirmation_timeout_seconds=RECEIPT_TIMEOUT_SECONDS,
    )
    return register_exact_evm_facilitator(x402FacilitatorSync(), signer, networks=BASE.caip2)


def create_sdk_facilitator_app(rpc_url: str) -> Starlette:
    facilitator = sdk_facilitator(rpc_url)

    def answer(action: Callable[[Any, Any], Any], raw: bytes) -> JSONResponse:
        try:
            data = json.loads(raw)
            payload = parse_payment_payload(data["paymentPayload"])
            requirements = parse_payment_requirements(
                payload.x402_version, data["paymentRequirements"]
            )
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            return JSONResponse({"error": f"invalid request: {exc}"}, BAD_REQUEST)
        try:
            result = action(payload, requirements)
        except PaymentError as exc:
            return JSONResponse({"error": str(exc)}, BAD_REQUEST)
        return JSONResponse(result.model_dump(by_alias=True, exclude_none=True))

    async def supported(request: Request) -> JSONResponse:
        kinds = facilitator.get_supported()
        return JSONResponse(kinds.model_dump(by_alias=True, exclude_none=True))

    async def verify(request: Request) -> JSONResponse:
        return await run_in_threadpool(answer, facilitator.verify, await request.body())

    async def settle(request: Request) -> JSONResponse:
        return await run_in_threadpool(answer, facilitator.settle, await request.body())

    return Starlette(
        routes=[
            Route("/supported", supported, methods=["GET"]),
            Route("/verify", verify, methods=["POST"]),
            Route("/settle", settle, methods=["POST"]),
        ]
    )
