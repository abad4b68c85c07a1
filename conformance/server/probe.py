"""What a server check can observe of the server under test: each probe is made once, lazily."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import httpx

from conformance.facilitator.onchain import OnChain
from x402_core.headers import (
    PAYMENT_REQUIRED,
    PAYMENT_RESPONSE,
    PAYMENT_SIGNATURE,
    X_PAYMENT,
    X_PAYMENT_RESPONSE,
    HeaderError,
    decode_header,
    encode_header,
)
from x402_core.jobstatus import TERMINAL
from x402_core.listing import Listing
from x402_core.models import (
    PaymentRequiredV1,
    PaymentRequiredV2,
    PaymentRequirementsV2,
    SettleResponse,
)
from x402_core.models.convert import requirements_v1_to_v2
from x402_core.payments import pay_v1, pay_v2
from x402_core.wallets import TestWallet, test_wallet

VALID_BODY = {
    "model": "nano-banana-2",
    "prompt": "a lighthouse at dawn, conformance probe",
    "resolution": "1K",
    "aspect_ratio": "16:9",
}
INVALID_BODY = {"model": "no-such-model", "prompt": ""}


@dataclass(frozen=True, slots=True)
class Answer:
    """One request to the server and its answer."""

    method: str
    url: str
    sent_headers: dict[str, str]
    sent_body: Any
    status: int
    headers: dict[str, str]
    body: Any
    content: bytes = field(repr=False, default=b"")

    def json_field(self, name: str) -> Any:
        return self.body.get(name) if isinstance(self.body, dict) else None

    def evidence(self) -> dict[str, Any]:
        shown = {k: v[:120] for k, v in self.sent_headers.items()}
        return {
            "sent": {
                "request": f"{self.method} {self.url}",
                "headers": shown,
                "body": self.sent_body,
            },
            "received": {"status": self.status, "headers": self.headers, "body": self.body},
        }


@dataclass(frozen=True, slots=True)
class StatusTrail:
    """A job polled until it was terminal (or the time ran out), then twice more."""

    job_id: str
    statuses: list[str]
    answers: list[Answer]
    retry_after_while_running: list[str | None]
    after_terminal: list[str]
    timed_out: bool

    @property
    def final(self) -> Answer:
        return self.answers[-1]


@dataclass
class ServerProbe:
    """The context of server checks: the endpoint, what it should ask for, and who pays."""

    endpoint_url: str
    listing: Listing
    payer: TestWallet = field(default_factory=lambda: test_wallet(2))
    rpc_url: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)
    poll_timeout: float = 30.0
    timeout: float = 30.0

    @cached_property
    def http(self) -> httpx.Client:
        return httpx.Client(timeout=self.timeout, headers=self.extra_headers)

    def close(self) -> None:
        if "http" in self.__dict__:
            self.http.close()

    def request(
        self, method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        headers = headers or {}
        content = None if body is None else json.dumps(body).encode()
        if content is not None:
            headers = {"Content-Type": "application/json", **headers}
        response = self.http.request(method, url, content=content, headers=headers)
        try:
            data: Any = response.json()
        except ValueError:
            data = None
        return Answer(
            method,
            url,
            headers,
            body,
            response.status_code,
            dict(response.headers),
            data,
            response.content,
        )

    def post(self, body: Any, headers: dict[str, str] | None = None) -> Answer:
        return self.request("POST", self.endpoint_url, body, headers)

    # what the server offers

    @cached_property
    def unpaid(self) -> Answer:
        return self.post(VALID_BODY)

    @cached_property
    def offer_v2(self) -> PaymentRequiredV2 | HeaderError:
        value = self.unpaid.headers.get(PAYMENT_REQUIRED.lower())
        if value is None:
            return HeaderError("missing", f"no {PAYMENT_REQUIRED} header")
        try:
            return decode_header(value, PaymentRequiredV2, name=PAYMENT_REQUIRED)
        except HeaderError as exc:
            return exc

    @cached_property
    def offer_v1(self) -> PaymentRequiredV1 | ValueError:
        try:
            return PaymentRequiredV1.model_validate(self.unpaid.body)
        except ValueError as exc:
            return exc

    # payments

    def payment_v2(self, now: int | None = None, **changes: Any) -> dict[str, str]:
        """A PAYMENT-SIGNATURE header for the v2 offer, signed for `changes` of its terms and at
        time `now`; `accepted` stays the offer as the server made it."""
        accepted = self.v2_requirements
        terms = accepted.model_copy(update=changes) if changes else accepted
        payload = pay_v2(terms, self.payer.private_key, self.payer.address, now=now)
        if changes:
            payload = payload.model_copy(update={"accepted": accepted})
        return {PAYMENT_SIGNATURE: encode_header(payload)}

    @cached_property
    def v2_requirements(self) -> PaymentRequirementsV2:
        """What a v2 payment accepts: the header's offer, or else the v1 body's, converted (so
        that a missing header fails its own check, not every paid one)."""
        if isinstance(self.offer_v2, PaymentRequiredV2) and self.offer_v2.accepts:
            return self.offer_v2.accepts[0]
        if isinstance(self.offer_v1, PaymentRequiredV1) and self.offer_v1.accepts:
            return requirements_v1_to_v2(self.offer_v1.accepts[0])
        raise ValueError("the server offers no readable requirements, in v2 or v1")

    def payment_v1(self) -> dict[str, str]:
        offer = self.offer_v1
        if not isinstance(offer, PaymentRequiredV1):
            raise ValueError(f"the server's v1 offer is unusable: {offer}")
        payload = pay_v1(offer.accepts[0], self.payer.private_key, self.payer.address)
        return {X_PAYMENT: encode_header(payload)}

    @cached_property
    def paid_v2(self) -> Answer:
        return self.post(VALID_BODY, self.payment_v2())

    @cached_property
    def replayed_v2(self) -> tuple[Answer, int | None]:
        """The paid request sent again, byte for byte, and how much the payee's balance rose
        meanwhile (None without an RPC URL)."""
        headers = {k: v for k, v in self.paid_v2.sent_headers.items() if k != "Content-Type"}
        before = self.chain.balance_of(self.listing.pay_to) if self.chain else None
        answer = self.post(VALID_BODY, headers)
        if self.chain is None or before is None:
            return answer, None
        return answer, self.chain.balance_of(self.listing.pay_to) - before

    @cached_property
    def paid_v1(self) -> Answer:
        return self.post(VALID_BODY, self.payment_v1())

    @cached_property
    def invalid_body_with_payment(self) -> tuple[Answer, Answer]:
        """An invalid body sent with a valid payment, then the same payment with a valid body:
        the second must succeed if the first took nothing."""
        headers = self.payment_v2()
        return self.post(INVALID_BODY, headers), self.post(VALID_BODY, headers)

    def settlement_header(self, answer: Answer, version: int) -> str | None:
        return answer.headers.get(
            (PAYMENT_RESPONSE if version == 2 else X_PAYMENT_RESPONSE).lower()
        )

    def settlement(self, answer: Answer, version: int) -> SettleResponse | HeaderError:
        name = PAYMENT_RESPONSE if version == 2 else X_PAYMENT_RESPONSE
        value = answer.headers.get(name.lower())
        if value is None:
            return HeaderError("missing", f"no {name} header")
        try:
            return decode_header(value, SettleResponse, name=name)
        except HeaderError as exc:
            return exc

    # the job

    def status_url(self, job_id: str) -> str:
        return f"{self.endpoint_url}/{job_id}"

    @cached_property
    def trail(self) -> StatusTrail | None:
        job_id = self.paid_v2.json_field("id")
        if self.paid_v2.status != 200 or not isinstance(job_id, str):
            return None
        statuses: list[str] = []
        answers: list[Answer] = []
        retry_after: list[str | None] = []
        deadline = time.monotonic() + self.poll_timeout
        while True:
            answer = self.request("GET", self.status_url(job_id))
            answers.append(answer)
            status = str(answer.json_field("status"))
            if answer.status == 200:
                statuses.append(status)
            if status in TERMINAL or time.monotonic() > deadline:
                break
            wait = answer.headers.get("retry-after")
            retry_after.append(wait)
            time.sleep(min(_seconds(wait), 0.5))
        after = [
            str(self.request("GET", self.status_url(job_id)).json_field("status")) for _ in range(2)
        ]
        return StatusTrail(job_id, statuses, answers, retry_after, after, status not in TERMINAL)

    @cached_property
    def chain(self) -> OnChain | None:
        return None if self.rpc_url is None else OnChain(self.rpc_url)


def _seconds(value: str | None) -> float:
    try:
        return max(0.05, float(value)) if value is not None else 0.2
    except ValueError:
        return 0.2
