"""What a server check can observe of the server under test: each probe is made once, lazily.

The server is paid in the version(s) it offers: v2 (`PAYMENT-SIGNATURE`) when it sends a readable
`PAYMENT-REQUIRED`, v1 (`X-PAYMENT`) when its 402 body is a v1 offer.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin

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
    decode_json_header,
    encode_header,
)
from x402_core.jobstatus import TERMINAL
from x402_core.listing import InputLocation, Listing
from x402_core.models import (
    PaymentRequiredV1,
    PaymentRequiredV2,
    SettleResponse,
)
from x402_core.payments import pay_v1, pay_v2
from x402_core.reasons import Reason
from x402_core.wallets import TestWallet, test_wallet

if TYPE_CHECKING:
    from conformance.server.fault_trials import FaultTrial, FaultTrials

NO_ROUTE_STATUSES = (404, 405, 501)
"""A status URL answering these at the first poll has no status route behind it."""
V1_FIELDS = {"amount": "max_amount_required"}
"""v2 names of requirement fields that v1 spells otherwise."""


class MissingHeaderError(HeaderError):
    """The answer does not carry the header at all (rather than carrying it malformed)."""


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

    def reasons(self) -> list[str]:
        """Every refusal reason the answer gives: the body's `error` (v1, or any JSON error),
        PAYMENT-REQUIRED's `error` (v2), the settlement header's `errorReason`."""
        found = [self.json_field("error")]
        for name, key in ((PAYMENT_REQUIRED, "error"), (PAYMENT_RESPONSE, "errorReason")):
            found.append(_header_field(self.headers.get(name.lower()), key))
        found.append(_header_field(self.headers.get(X_PAYMENT_RESPONSE.lower()), "errorReason"))
        return [r for r in found if isinstance(r, str) and r]

    def has_settlement_header(self) -> bool:
        return any(n.lower() in self.headers for n in (PAYMENT_RESPONSE, X_PAYMENT_RESPONSE))

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


def _header_field(value: str | None, key: str) -> Any:
    if value is None:
        return None
    try:
        data = decode_json_header(value)
    except HeaderError:
        return None
    return data.get(key) if isinstance(data, dict) else None


@dataclass(frozen=True, slots=True)
class StatusTrail:
    """A job polled at its status URL until it was terminal (or the time ran out), then twice
    more; `no_route` when that URL has no status route behind it."""

    job_id: str
    url: str
    statuses: list[str]
    answers: list[Answer]
    retry_after_while_running: list[str | None]
    after_terminal: list[str]
    timed_out: bool
    no_route: bool = False

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
    paid_answers: dict[int, Answer] = field(default_factory=dict, repr=False)
    """Each version's valid payment and its answer, made once."""
    faults: FaultTrials | None = None
    """Trials under a faulty facilitator (None: its admin API was not given)."""

    @cached_property
    def http(self) -> httpx.Client:
        return httpx.Client(timeout=self.timeout, headers=self.extra_headers)

    def close(self) -> None:
        if "http" in self.__dict__:
            self.http.close()

    def request(
        self,
        method: str,
        url: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Answer:
        headers = headers or {}
        content = None if body is None else json.dumps(body).encode()
        if content is not None:
            headers = {"Content-Type": "application/json", **headers}
        wait = httpx.USE_CLIENT_DEFAULT if timeout is None else timeout
        response = self.http.request(method, url, content=content, headers=headers, timeout=wait)
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

    def send(
        self,
        data: dict[str, Any],
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Answer:
        """The listed request: `data` as the JSON body, or as query parameters."""
        if self.listing.location is InputLocation.QUERY:
            query = {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
            url = f"{self.endpoint_url}?{urlencode(query)}" if query else self.endpoint_url
            return self.request(self.listing.method, url, None, headers, timeout)
        return self.request(self.listing.method, self.endpoint_url, data, headers, timeout)

    @cached_property
    def valid_request(self) -> dict[str, Any]:
        """A request the listing accepts: its example, or one of example values."""
        return self.listing.example_request()

    @cached_property
    def invalid_request(self) -> dict[str, Any]:
        """A request the listing refuses: a required field left out, else an unknown one."""
        required = [f.name for f in self.listing.fields if f.required]
        if required:
            return {k: v for k, v in self.valid_request.items() if k != required[0]}
        return {**self.valid_request, "x402h_unknown_field": "refused"}

    # what the server offers

    @cached_property
    def unpaid(self) -> Answer:
        return self.send(self.valid_request)

    @cached_property
    def offer_v2(self) -> PaymentRequiredV2 | HeaderError:
        value = self.unpaid.headers.get(PAYMENT_REQUIRED.lower())
        if value is None:
            return MissingHeaderError(Reason.INVALID_PAYLOAD, f"no {PAYMENT_REQUIRED} header")
        try:
            # However large: the size is SRV-030's and SRV-031's to judge, not the format's.
            return decode_header(value, PaymentRequiredV2, name=PAYMENT_REQUIRED, max_chars=None)
        except HeaderError as exc:
            return exc

    @cached_property
    def offer_v1(self) -> PaymentRequiredV1 | ValueError:
        try:
            return PaymentRequiredV1.model_validate(self.unpaid.body)
        except ValueError as exc:
            return exc

    @property
    def versions(self) -> list[int]:
        """The versions the server offers, v2 first: what it is paid in."""
        offered = []
        if isinstance(self.offer_v2, PaymentRequiredV2) and self.offer_v2.accepts:
            offered.append(2)
        if isinstance(self.offer_v1, PaymentRequiredV1) and self.offer_v1.accepts:
            offered.append(1)
        return offered

    @property
    def version(self) -> int:
        """The version a single paid probe uses: v2 when offered, else v1."""
        if not self.versions:
            raise ValueError("the server offers no readable requirements, in v2 or v1")
        return self.versions[0]

    def unpaid_reasons(self) -> set[str]:
        return set(self.unpaid.reasons())

    # payments

    def payment(self, version: int, now: int | None = None, **changes: Any) -> dict[str, str]:
        """The payment header of `version` for its offer, signed for `changes` of the terms (v2
        field names) at time `now`; v2's `accepted` stays the offer as the server made it."""
        if version == 2:
            if not isinstance(self.offer_v2, PaymentRequiredV2):
                raise ValueError("the server makes no readable v2 offer")
            accepted = self.offer_v2.accepts[0]
            terms = accepted.model_copy(update=changes)
            payload = pay_v2(
                terms, self.payer.private_key, self.payer.address, self.offer_v2.resource, now=now
            )
            payload = payload.model_copy(update={"accepted": accepted})
            return {PAYMENT_SIGNATURE: encode_header(payload)}
        if not isinstance(self.offer_v1, PaymentRequiredV1):
            raise ValueError("the server makes no readable v1 offer")
        renamed = {V1_FIELDS.get(k, k): v for k, v in changes.items()}
        terms1 = self.offer_v1.accepts[0].model_copy(update=renamed)
        payload1 = pay_v1(terms1, self.payer.private_key, self.payer.address, now=now)
        return {X_PAYMENT: encode_header(payload1)}

    def paid_in(self, version: int) -> Answer | None:
        """The valid payment of `version` and its answer (None: that version is not offered)."""
        if version not in self.versions:
            return None
        if version not in self.paid_answers:
            self.paid_answers[version] = self.send(self.valid_request, self.payment(version))
        return self.paid_answers[version]

    @property
    def paid(self) -> Answer:
        """The valid payment in the server's preferred version, and its answer."""
        answer = self.paid_in(self.version)
        if answer is None:
            raise ValueError("the server offers no readable requirements, in v2 or v1")
        return answer

    @cached_property
    def replayed(self) -> tuple[Answer, int | None]:
        """The paid request sent again, byte for byte, and how much the payee's balance rose
        meanwhile (None without an RPC URL)."""
        headers = {k: v for k, v in self.paid.sent_headers.items() if k != "Content-Type"}
        before = self.chain.balance_of(self.listing.pay_to) if self.chain else None
        answer = self.send(self.valid_request, headers)
        if self.chain is None or before is None:
            return answer, None
        return answer, self.chain.balance_of(self.listing.pay_to) - before

    @cached_property
    def invalid_body_with_payment(self) -> tuple[Answer, Answer]:
        """An invalid body sent with a valid payment, then the same payment with a valid body:
        the second must succeed if the first took nothing."""
        headers = self.payment(self.version)
        return self.send(self.invalid_request, headers), self.send(self.valid_request, headers)

    def settlement_header(self, answer: Answer) -> str | None:
        for name in (PAYMENT_RESPONSE, X_PAYMENT_RESPONSE):
            if name.lower() in answer.headers:
                return answer.headers[name.lower()]
        return None

    def settlement(self, answer: Answer, version: int) -> SettleResponse | HeaderError:
        name = PAYMENT_RESPONSE if version == 2 else X_PAYMENT_RESPONSE
        value = answer.headers.get(name.lower())
        if value is None:
            return MissingHeaderError(Reason.INVALID_PAYLOAD, f"no {name} header")
        try:
            return decode_header(value, SettleResponse, name=name)
        except HeaderError as exc:
            return exc

    # the job

    def status_url(self, job_id: str, answer: Answer | None = None) -> str:
        """Where the job's status is read: the paid answer's Location, else endpoint/{id}."""
        where = answer.headers.get("location") if answer is not None else None
        return urljoin(self.endpoint_url, where) if where else f"{self.endpoint_url}/{job_id}"

    @cached_property
    def trail(self) -> StatusTrail | None:
        paid = self.paid
        job_id = paid.json_field("id")
        if paid.status != 200 or not isinstance(job_id, str):
            return None
        url = self.status_url(job_id, paid)
        statuses: list[str] = []
        answers: list[Answer] = []
        retry_after: list[str | None] = []
        deadline = time.monotonic() + self.poll_timeout
        while True:
            answer = self.request("GET", url)
            answers.append(answer)
            if len(answers) == 1 and answer.status in NO_ROUTE_STATUSES:
                return StatusTrail(job_id, url, [], answers, [], [], False, no_route=True)
            status = str(answer.json_field("status"))
            if answer.status == 200:
                statuses.append(status)
            terminal = answer.status == 200 and status in TERMINAL
            if terminal or time.monotonic() > deadline:
                break
            wait = answer.headers.get("retry-after")
            retry_after.append(wait)
            time.sleep(min(_seconds(wait), 0.5))
        after = [str(self.request("GET", url).json_field("status")) for _ in range(2)]
        return StatusTrail(job_id, url, statuses, answers, retry_after, after, not terminal)

    @cached_property
    def fault_trials(self) -> list[FaultTrial] | None:
        """A payment under each facilitator fault, then sent again (None: no admin API)."""
        return None if self.faults is None else self.faults.run(self)

    @cached_property
    def chain(self) -> OnChain | None:
        return None if self.rpc_url is None else OnChain(self.rpc_url)


def _seconds(value: str | None) -> float:
    try:
        return max(0.05, float(value)) if value is not None else 0.2
    except ValueError:
        return 0.2
