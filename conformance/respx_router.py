"""A respx router that answers like the mock xGen server, for unit tests with no server at all.

    with xgen_router(xgen_listing()) as router:        # intercepts https://xgen.test
        router.queue("fail")                           # the next paid job fails
        answer = httpx.post("https://xgen.test/v1/images/generate", json={...})   # 402

The 402 carries both offers; a paid request is checked for real (signature recovery under the
token's EIP-712 domain, amount, payee, window, nonce reuse) and answers a job with its settlement
header; the same payment sent again with the same request gets the same job, and a
payment-identifier is honoured as the mock honours it (another payment under it 409, none where
the 402 requires one 400). Every scenario of
the mock is played (`respx_scenarios.py`): chosen per request by `X-Mock-Scenario`, queued for the
next paid jobs with `router.queue(...)`, or the default (`scenario=`, `router.set_scenario(...)`).
Status polls walk through the scenario's statuses one per poll; images are real (small) PNGs.
"""

from __future__ import annotations

import io
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx
from PIL import Image

from conformance.respx_scenarios import (
    COMPLETED,
    FACILITATOR_RETRY_AFTER,
    FAILED,
    MALFORMED_BODY,
    MALFORMED_HEADER,
    RATE_LIMIT_SECONDS,
    SCENARIO_HEADER,
    SETTLE_PENDING_RETRY_AFTER,
    OfferFlaw,
    PollFault,
    PurchaseFault,
    RouterScenario,
    UnknownScenarioError,
    flawed_listing,
    router_scenario,
)
from x402_core.bazaar import BAZAAR, http_extension
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
from x402_core.listing import DEFAULT_MAX_STRING_CHARS, InputLocation, InvalidRequestError, Listing
from x402_core.models import (
    PaymentPayloadV2,
    PaymentRequiredV1,
    PaymentRequiredV2,
    PaymentRequirementsV2,
    SettleResponse,
)
from x402_core.payment_identifier import (
    PAYMENT_IDENTIFIER,
    IdentifierError,
    declaration,
    identifier_in,
)
from x402_core.reasons import Reason

DEFAULT_BASE_URL = "https://xgen.test"
IMAGE_SIDE = 64


@dataclass
class Purchase:
    """A payment the router took: what it bought, and whether its answer is known yet."""

    request: dict[str, Any]
    settlement: SettleResponse
    job_id: str
    scenario: RouterScenario
    settled: bool
    """False while the settlement is pending (settle_pending, facilitator_timeout)."""


@dataclass
class Job:
    """A job the router made, how far along its scenario's walk it has been shown, and its
    polls (answered or not: the mock counts them so)."""

    id: str
    request: dict[str, Any]
    scenario: RouterScenario
    step: int = 0
    polls: int = 0
    last_poll: float | None = None

    @property
    def status(self) -> str:
        return self.scenario.walk[self.step]

    @property
    def finished(self) -> bool:
        return self.status in (COMPLETED, FAILED)


@dataclass
class XgenFake:
    """The router's state: the scenarios, payments taken, jobs and how far each was polled."""

    listing: Listing
    base_url: str
    default: RouterScenario
    clock: Callable[[], float] = time.monotonic
    queued: deque[RouterScenario] = field(default_factory=deque)
    purchases: dict[tuple[str, str], Purchase] = field(default_factory=dict)
    payment_ids: dict[str, tuple[tuple[str, str], dict[str, Any]]] = field(default_factory=dict)
    """Each payment-identifier taken, with the payment (payer, nonce) and request it came with."""
    jobs: dict[str, Job] = field(default_factory=dict)

    @property
    def used_nonces(self) -> set[tuple[str, str]]:
        return set(self.purchases)

    @property
    def endpoint(self) -> str:
        return self.base_url + self.listing.path

    @property
    def requirements(self) -> PaymentRequirementsV2:
        return self.listing.requirements_v2()

    def offer(
        self, error: str, flaw: OfferFlaw | None = None, identifier_required: bool = False
    ) -> httpx.Response:
        """402 with the offer as the mock makes it: v2 in PAYMENT-REQUIRED (with the bazaar and
        payment-identifier extensions), v1 in the body."""
        if flaw is OfferFlaw.MALFORMED:
            return httpx.Response(
                402, json=MALFORMED_BODY, headers={PAYMENT_REQUIRED: MALFORMED_HEADER}
            )
        listing = self.listing if flaw is None else flawed_listing(self.listing, flaw)
        v2 = PaymentRequiredV2(
            x402_version=2,
            error=error,
            resource=listing.resource(self.endpoint),
            accepts=[listing.requirements_v2()],
            extensions={
                BAZAAR: http_extension(listing, DEFAULT_MAX_STRING_CHARS),
                PAYMENT_IDENTIFIER: declaration(identifier_required),
            },
        )
        v1 = PaymentRequiredV1(
            x402_version=1, error=error, accepts=[listing.requirements_v1(self.endpoint)]
        )
        return httpx.Response(402, json=v1.wire(), headers={PAYMENT_REQUIRED: encode_header(v2)})

    def peek(self, requested: str | None) -> RouterScenario:
        """The scenario a request would get, without taking it off the queue."""
        if requested is not None:
            return router_scenario(requested)
        return self.queued[0] if self.queued else self.default

    def take(self, requested: str | None) -> RouterScenario:
        """The scenario of a new paid job: the header's, else the next queued, else the default."""
        if requested is not None:
            return router_scenario(requested)
        return self.queued.popleft() if self.queued else self.default

    def generate(self, request: httpx.Request) -> httpx.Response:
        try:
            body = request_of(self.listing, request)
        except InvalidRequestError as exc:
            return _error(400, "invalid_request", exc.message)
        requested = request.headers.get(SCENARIO_HEADER)
        try:
            scenario = self.peek(requested)
        except UnknownScenarioError as exc:
            return _error(400, "unknown_scenario", str(exc))
        required = scenario.purchase is PurchaseFault.IDENTIFIER_REQUIRED
        header = request.headers.get(PAYMENT_SIGNATURE)
        if header is None:
            return self.offer("payment_required", scenario.offer, required)
        try:
            payment = decode_header(header, PaymentPayloadV2, name=PAYMENT_SIGNATURE)
            payment_id = identifier_in(payment.extensions)
        except HeaderError as exc:
            return _error(400, exc.reason, exc.message)
        except IdentifierError as exc:
            return _error(400, Reason.INVALID_PAYMENT_IDENTIFIER, str(exc))
        if payment_id is None and required:
            return _error(
                400, Reason.INVALID_PAYMENT_IDENTIFIER, "this server requires a payment identifier"
            )
        auth = payment.payload.authorization
        key = (auth.from_.lower(), auth.nonce.lower())
        if payment_id is not None and self.payment_ids.get(payment_id, (key, body)) != (key, body):
            return _error(
                409,
                Reason.PAYMENT_IDENTIFIER_CONFLICT,
                f"payment identifier {payment_id!r} was used for another payment or request",
            )
        if key in self.purchases:
            return self._sent_again(self.purchases[key], body)
        if scenario.purchase is PurchaseFault.FACILITATOR_DOWN:
            self.take(requested)
            return _unavailable("the facilitator cannot be reached (scenario facilitator_down)")
        refusal = self._refusal(payment)
        if refusal is not None:
            return self.offer(refusal, identifier_required=required)
        if payment_id is not None:
            self.payment_ids[payment_id] = (key, body)
        return self._buy(key, payment, body, self.take(requested))

    def _buy(
        self,
        key: tuple[str, str],
        payment: PaymentPayloadV2,
        body: dict[str, Any],
        scenario: RouterScenario,
    ) -> httpx.Response:
        auth = payment.payload.authorization
        settlement = SettleResponse(
            success=True,
            transaction="0x" + keccak(bytes.fromhex(auth.nonce[2:])).hex(),
            network=self.listing.network.caip2,
            payer=auth.from_,
        )
        if scenario.purchase is PurchaseFault.SETTLE_FAILS:
            refused = SettleResponse(
                success=False,
                error_reason=Reason.TRANSACTION_FAILED,
                error_message="settlement refused (scenario settle_fails)",
                payer=auth.from_,
                network=settlement.network,
            )
            answer = self.offer(Reason.TRANSACTION_FAILED)
            answer.headers[PAYMENT_RESPONSE] = encode_header(refused)
            return answer
        job_id = "job_" + keccak(auth.nonce.encode()).hex()[:24]
        pending = scenario.purchase in (
            PurchaseFault.SETTLE_PENDING,
            PurchaseFault.FACILITATOR_TIMEOUT,
        )
        purchase = Purchase(body, settlement, job_id, scenario, settled=not pending)
        self.purchases[key] = purchase
        if pending:
            return _settlement_pending(purchase)
        if scenario.purchase is PurchaseFault.SERVER_ERROR_AFTER_SETTLE:
            self._settle(purchase)
            return _error(
                500,
                "internal_error",
                "the server failed after settling (scenario server_error_after_settle); send "
                "the same payment again to get the job",
            )
        return self._settle(purchase)

    def _sent_again(self, purchase: Purchase, body: dict[str, Any]) -> httpx.Response:
        """A payment already taken: its job for the same request, a refusal for another."""
        if body != purchase.request:
            return self.offer(Reason.NONCE_ALREADY_USED)
        purchase.settled = True
        return self._settle(purchase)

    def _settle(self, purchase: Purchase) -> httpx.Response:
        """The paid answer: the job (made once) or the synchronous answer, with the settlement."""
        headers = {PAYMENT_RESPONSE: encode_header(purchase.settlement)}
        if not self.listing.is_job:
            return httpx.Response(
                200, json=self.listing.example_output(purchase.request), headers=headers
            )
        job = self.jobs.get(purchase.job_id)
        if job is None:
            job = self.jobs[purchase.job_id] = Job(
                purchase.job_id, purchase.request, purchase.scenario
            )
        headers["Location"] = f"{self.endpoint}/{job.id}"
        return httpx.Response(
            200, json={"id": job.id, "status": job.status, **job.request}, headers=headers
        )

    def status(self, request: httpx.Request, job_id: str) -> httpx.Response:
        job = self.jobs.get(job_id)
        if job is None:
            return _error(404, "not_found", f"no job {job_id!r}; ids come from a paid POST")
        poll = job.scenario.poll
        now, previous = self.clock(), job.last_poll
        job.last_poll = now
        job.polls += 1
        too_soon = previous is not None and now - previous < RATE_LIMIT_SECONDS
        if poll is PollFault.RATE_LIMITED and not job.finished and too_soon:
            return _error(429, "rate_limited", "polled too fast; wait for Retry-After", 1)
        if poll is PollFault.STATUS_ERRORS and job.polls % 2 == 0:
            return _error(
                503, "unavailable", "status is briefly unavailable (scenario status_errors)", 1
            )
        job.step = min(job.step + 1, len(job.scenario.walk) - 1)
        if job.finished:
            return httpx.Response(200, json=self._view(job))
        wait = RATE_LIMIT_SECONDS if poll is PollFault.RATE_LIMITED else 0
        return httpx.Response(200, json=self._view(job), headers={"Retry-After": f"{wait:g}"})

    def _view(self, job: Job) -> dict[str, Any]:
        """A job as the status route shows it: its images once completed, its error once failed."""
        view: dict[str, Any] = {"id": job.id, "status": job.status, **job.request}
        if job.status == COMPLETED:
            view["images"] = [
                {
                    "url": f"{self.base_url}/v1/images/{job.id}/1.png",
                    "width": IMAGE_SIDE,
                    "height": IMAGE_SIDE,
                    "mime_type": "image/png",
                }
            ]
        error = job.scenario.error
        if job.status == FAILED and error is not None:
            view["error"] = {"code": error.code, "message": error.message}
        return view

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
        return None


class XgenRouter(respx.MockRouter):
    """respx's router on the listing's routes, with the fake behind them and the mock admin
    API's scenario controls."""

    def __init__(self, fake: XgenFake) -> None:
        super().__init__(base_url=fake.base_url, assert_all_called=False)
        self.fake = fake

    def queue(self, *names: str) -> XgenRouter:
        """The scenarios of the next paid jobs, in order (all or none: each name is checked)."""
        self.fake.queued.extend([router_scenario(name) for name in names])
        return self

    def set_scenario(self, name: str) -> XgenRouter:
        """The scenario of paid jobs when no header names one and none is queued."""
        self.fake.default = router_scenario(name)
        return self


def _error(status: int, code: str, message: str, retry_after: int | None = None) -> httpx.Response:
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    return httpx.Response(status, json={"error": code, "message": message}, headers=headers)


def _unavailable(message: str) -> httpx.Response:
    return _error(
        503,
        Reason.FACILITATOR_UNAVAILABLE,
        f"{message}; nothing was charged, try again later",
        FACILITATOR_RETRY_AFTER,
    )


def _settlement_pending(purchase: Purchase) -> httpx.Response:
    """The outcome is not known: a true answer asking for the same payment again."""
    transaction = (
        purchase.settlement.transaction
        if purchase.scenario.purchase is PurchaseFault.SETTLE_PENDING
        else None
    )
    settlement = SettleResponse(
        success=False,
        error_reason=Reason.SETTLEMENT_PENDING,
        payer=purchase.settlement.payer,
        transaction=transaction or "",
        network=purchase.settlement.network,
    )
    answer = httpx.Response(
        503,
        json={
            "error": Reason.SETTLEMENT_PENDING,
            "message": "the payment was sent for settlement and its outcome is not known yet; "
            "send the same payment again (the same payment header) to get the job; do not sign "
            "a new one",
            "transaction": transaction,
        },
        headers={"Retry-After": str(SETTLE_PENDING_RETRY_AFTER)},
    )
    answer.headers[PAYMENT_RESPONSE] = encode_header(settlement)
    return answer


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (IMAGE_SIDE, IMAGE_SIDE), (200, 80, 40)).save(out, format="PNG")
    return out.getvalue()


def xgen_router(
    listing: Listing,
    base_url: str = DEFAULT_BASE_URL,
    scenario: str = "happy",
    clock: Callable[[], float] = time.monotonic,
) -> XgenRouter:
    """A router answering like the mock for `listing` at `base_url`; `scenario` is the default,
    `clock` (seconds) times the status polls of rate_limited jobs; `router.fake` holds its state."""
    fake = XgenFake(listing, base_url.rstrip("/"), router_scenario(scenario), clock)
    router = XgenRouter(fake)
    router.route(method=listing.method, path=listing.path).mock(side_effect=fake.generate)
    router.get(path__regex=rf"^{listing.path}/(?P<job_id>[^/]+)$").mock(side_effect=fake.status)
    router.get(path__regex=r"^/v1/images/[^/]+/\d+\.png$").mock(
        return_value=httpx.Response(200, content=_png(), headers={"Content-Type": "image/png"})
    )
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
