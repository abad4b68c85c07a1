"""A respx router that answers like the mock xGen server, for unit tests with no server at all.

    with xgen_router() as router:                      # intercepts https://xgen.test
        answer = httpx.post("https://xgen.test/v1/images/generate", json={...})   # 402

The 402 carries both offers; a paid request is checked for real (signature recovery under the
token's EIP-712 domain, amount, payee, window, nonce reuse) and answers a job with its settlement
header; status polls walk through `statuses`; images are real (small) PNGs.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx
from PIL import Image

from x402_core.eip3009 import Authorization, Domain, SignatureError, recover_signer, transfer_digest
from x402_core.headers import (
    PAYMENT_REQUIRED,
    PAYMENT_RESPONSE,
    PAYMENT_SIGNATURE,
    HeaderError,
    decode_header,
    encode_header,
)
from x402_core.keccak import keccak
from x402_core.listing import InputLocation, InvalidRequestError, Listing
from x402_core.models import (
    PaymentPayloadV2,
    PaymentRequiredV1,
    PaymentRequiredV2,
    PaymentRequirementsV2,
    SettleResponse,
)
from x402_core.reasons import Reason

DEFAULT_BASE_URL = "https://xgen.test"
IMAGE_SIDE = 64


@dataclass
class XgenFake:
    """The router's state: offers made, nonces spent, jobs and how far each has been polled."""

    listing: Listing
    base_url: str
    statuses: tuple[str, ...]
    used_nonces: set[tuple[str, str]] = field(default_factory=set)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return self.base_url + self.listing.path

    @property
    def requirements(self) -> PaymentRequirementsV2:
        return self.listing.requirements_v2()

    def offer(self, error: str) -> httpx.Response:
        v2 = PaymentRequiredV2(
            x402_version=2,
            error=error,
            resource=self.listing.resource(self.endpoint),
            accepts=[self.requirements],
        )
        v1 = PaymentRequiredV1(
            x402_version=1, error=error, accepts=[self.listing.requirements_v1(self.endpoint)]
        )
        return httpx.Response(402, json=v1.wire(), headers={PAYMENT_REQUIRED: encode_header(v2)})

    def generate(self, request: httpx.Request) -> httpx.Response:
        try:
            body = request_of(self.listing, request)
        except InvalidRequestError as exc:
            return _error(400, "invalid_request", exc.message)
        header = request.headers.get(PAYMENT_SIGNATURE)
        if header is None:
            return self.offer("payment_required")
        try:
            payment = decode_header(header, PaymentPayloadV2, name=PAYMENT_SIGNATURE)
        except HeaderError as exc:
            return _error(400, exc.reason, exc.message)
        refusal = self._refusal(payment)
        if refusal is not None:
            return self.offer(refusal)
        auth = payment.payload.authorization
        self.used_nonces.add((auth.from_.lower(), auth.nonce))
        settlement = SettleResponse(
            success=True,
            transaction="0x" + keccak(bytes.fromhex(auth.nonce[2:])).hex(),
            network=self.listing.network.caip2,
            payer=auth.from_,
        )
        headers = {PAYMENT_RESPONSE: encode_header(settlement)}
        if not self.listing.is_job:
            return httpx.Response(200, json=self.listing.example_output(body), headers=headers)
        job_id = "job_" + keccak(auth.nonce.encode()).hex()[:24]
        self.jobs[job_id] = {"id": job_id, "status": self.statuses[0], **body}
        headers["Location"] = f"{self.endpoint}/{job_id}"
        return httpx.Response(200, json=self.jobs[job_id], headers=headers)

    def status(self, request: httpx.Request, job_id: str) -> httpx.Response:
        if job_id not in self.jobs:
            return _error(404, "not_found", f"no job {job_id}")
        step = min(self.polls.get(job_id, 0) + 1, len(self.statuses) - 1)
        self.polls[job_id] = step
        job = {**self.jobs[job_id], "status": self.statuses[step]}
        if job["status"] == "completed":
            job["images"] = [
                {
                    "url": f"{self.base_url}/v1/images/{job_id}/1.png",
                    "width": IMAGE_SIDE,
                    "height": IMAGE_SIDE,
                    "mime_type": "image/png",
                }
            ]
        if job["status"] == "failed":
            job["error"] = {"code": "generation_failed", "message": "scripted failure"}
        headers = {} if job["status"] in ("completed", "failed") else {"Retry-After": "0"}
        return httpx.Response(200, json=job, headers=headers)

    def _refusal(self, payment: PaymentPayloadV2) -> str | None:
        offered = self.requirements
        if payment.accepted != offered:
            return Reason.ACCEPTED_MISMATCH
        auth = payment.payload.authorization
        if auth.to.lower() != offered.pay_to.lower():
            return Reason.RECIPIENT_MISMATCH
        if auth.value != offered.amount:
            return Reason.VALUE_MISMATCH
        now = int(time.time())
        if int(auth.valid_after) > now:
            return Reason.VALID_AFTER
        if int(auth.valid_before) <= now:
            return Reason.VALID_BEFORE
        extra = self.listing.extra
        domain = Domain(
            extra["name"],
            extra["version"],
            self.listing.network.chain_id,
            offered.asset,
        )
        try:
            signature = bytes.fromhex(payment.payload.signature[2:])
            signer = recover_signer(
                transfer_digest(domain, Authorization.from_wire(auth)), signature
            )
        except SignatureError:
            return Reason.SIGNATURE
        if signer.lower() != auth.from_.lower():
            return Reason.SIGNATURE
        if (auth.from_.lower(), auth.nonce) in self.used_nonces:
            return Reason.NONCE_ALREADY_USED
        return None


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": code, "message": message})


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (IMAGE_SIDE, IMAGE_SIDE), (200, 80, 40)).save(out, format="PNG")
    return out.getvalue()


def xgen_router(
    listing: Listing,
    base_url: str = DEFAULT_BASE_URL,
    statuses: tuple[str, ...] = ("pending", "processing", "completed"),
) -> respx.MockRouter:
    """A router answering like xGen for `listing` at `base_url`; `router.fake` holds its state."""
    fake = XgenFake(listing, base_url.rstrip("/"), statuses)
    router = respx.mock(base_url=fake.base_url, assert_all_called=False)
    router.route(method=listing.method, path=listing.path).mock(side_effect=fake.generate)
    router.get(path__regex=rf"^{listing.path}/(?P<job_id>[^/]+)$").mock(side_effect=fake.status)
    router.get(path__regex=r"^/v1/images/[^/]+/\d+\.png$").mock(
        return_value=httpx.Response(200, content=_png(), headers={"Content-Type": "image/png"})
    )
    router.fake = fake  # type: ignore[attr-defined]
    return router


def request_of(listing: Listing, request: httpx.Request) -> dict[str, Any]:
    """The request checked as the mock checks it (the listing's body fields or query)."""
    if listing.location is InputLocation.QUERY:
        return listing.check_request(dict(request.url.params))
    try:
        data = json.loads(request.content or b"null")
    except ValueError:
        raise InvalidRequestError("the body is not JSON") from None
    return listing.check_request(data)
