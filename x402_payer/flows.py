"""The paying client's flows, written once for both sync and async I/O.

Each flow is a generator: it yields a `Send` (an HTTP request to make) or a `Sleep`, receives the
`httpx.Response` (a transport error is thrown into it instead), and returns its result. `Payer` and
`AsyncPayer` only run these generators; every decision is made here or in the pure modules.
"""

from __future__ import annotations

import json as jsonlib
from collections import OrderedDict
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from x402_core.eip3009 import SECP256K1_N, address_of_key
from x402_core.headers import encode_header
from x402_core.models import SettleResponse
from x402_payer.errors import (
    JobFailedError,
    JobTimeoutError,
    PaymentFailedError,
    PaymentRefusedError,
    PaymentUnconfirmedError,
    PollingError,
    ProtocolError,
    UnexpectedStatusError,
)
from x402_payer.images import image_path, image_urls, job_id_of, png_of
from x402_payer.offers import (
    PAYMENT_HEADER,
    Payment,
    choose_requirement,
    pending_settlement,
    read_failure,
    read_offer,
    read_settlement,
    sign_payment,
)
from x402_payer.policy import PayerPolicy
from x402_payer.polling import (
    AnswerKind,
    StatusAnswer,
    judge_status,
    next_poll_delay,
    parse_retry_after,
)

T = TypeVar("T")
GENERATE_PATH = "/v1/images/generate"
Progress = Callable[[str, float], None]
"""Called with (job status, seconds since polling started) after every status answer."""
_REMEMBERED_STATUS_URLS = 1024


@dataclass(frozen=True, slots=True)
class Send:
    """Make this HTTP request and send the response back into the flow."""

    method: str
    url: str
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    content: bytes | None = None
    follow_redirects: bool = False


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait this many seconds, then resume the flow."""

    seconds: float


Flow = Generator[Send | Sleep, Any, T]


@dataclass(frozen=True, slots=True)
class PaidResponse:
    """The final answer to a request, and what was paid for it (`version` None: nothing asked)."""

    response: httpx.Response
    version: int | None
    payment: Payment | None
    settlement: SettleResponse | None
    amount_atomic: int
    seconds_to_402: float | None
    seconds_total: float

    @property
    def paid(self) -> bool:
        return self.payment is not None


@dataclass(frozen=True, slots=True)
class Timings:
    """Seconds from the start of `generate_image` to each milestone."""

    to_402: float | None
    to_settlement: float
    to_completed: float


@dataclass(frozen=True, slots=True)
class GenerationResult:
    job: dict[str, Any]
    settlement: SettleResponse | None
    files: list[Path]
    timings: Timings
    status_url: str
    paid: PaidResponse


def private_key_bytes(private_key: bytes | str) -> bytes:
    """A secp256k1 private key from 32 bytes or 64 hex digits (0x optional)."""
    if isinstance(private_key, str):
        text = private_key.strip().removeprefix("0x").removeprefix("0X")
        try:
            private_key = bytes.fromhex(text)
        except ValueError:
            raise ValueError("private key is not hex; expected 64 hex digits") from None
    if len(private_key) != 32 or not 0 < int.from_bytes(private_key, "big") < SECP256K1_N:
        raise ValueError(
            f"private key is {len(private_key)} bytes or out of range; expected 32 bytes, "
            "non-zero and below the secp256k1 order"
        )
    return bytes(private_key)


def encode_json(data: Any) -> bytes:
    """The request body, encoded once so that the paid retry carries exactly the same bytes."""
    return jsonlib.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


class PayerCore:
    """Key, policy and clock, and the flows that use them; shared by Payer and AsyncPayer."""

    def __init__(
        self, private_key: bytes | str, policy: PayerPolicy, clock: Callable[[], float]
    ) -> None:
        self.private_key = private_key_bytes(private_key)
        self.address = address_of_key(self.private_key)
        self.policy = policy
        self.clock = clock
        self._status_urls: OrderedDict[str, str] = OrderedDict()

    def paid_request(
        self, method: str, url: str, json: Any = None, headers: Any = None
    ) -> Flow[PaidResponse]:
        """Send; on a 402 choose an offer, sign once and resend the same body with the payment."""
        headers = httpx.Headers(headers)
        content = None if json is None else encode_json(json)
        if content is not None and "Content-Type" not in headers:
            headers["Content-Type"] = "application/json"
        started = self.clock()
        first = yield Send(method, url, headers, content)
        if first.status_code != httpx.codes.PAYMENT_REQUIRED:
            return PaidResponse(first, None, None, None, 0, None, self.clock() - started)
        seconds_to_402 = self.clock() - started
        try:
            choice = choose_requirement(read_offer(first), self.policy)
        except PaymentRefusedError as exc:
            exc.response = first
            raise
        payment = sign_payment(choice, self.private_key, self.address)
        paid_headers = headers.copy()
        paid_headers[PAYMENT_HEADER[choice.version]] = encode_header(payment)
        second = yield from self._send_until_settled(
            Send(method, url, paid_headers, content), payment, choice.version
        )
        if second.status_code == httpx.codes.PAYMENT_REQUIRED:
            failure = read_failure(second, choice.version)
            raise PaymentFailedError(
                f"{method} {url} answered 402 again to a v{choice.version} payment of "
                f"{choice.terms.amount} to {choice.terms.pay_to}: {failure.explanation}; "
                "expected a 2xx answer with a settlement (the payment is not sent again)",
                reason=failure.reason,
                response=second,
                settlement=failure.settlement,
            )
        return PaidResponse(
            response=second,
            version=choice.version,
            payment=payment,
            settlement=read_settlement(second, choice.version),
            amount_atomic=choice.terms.amount,
            seconds_to_402=seconds_to_402,
            seconds_total=self.clock() - started,
        )

    def _send_until_settled(
        self, paid: Send, payment: Payment, version: int
    ) -> Flow[httpx.Response]:
        """Send the paid request; while its settlement is pending (or no answer comes), wait and
        send the very same payment again, until an answer decides or the wait runs out."""
        deadline = self.clock() + self.policy.settle_wait_seconds
        while True:
            try:
                answer = yield paid
            except httpx.TransportError as exc:
                why, transaction, wait = f"{type(exc).__name__}: {exc}", None, None
            else:
                transaction = pending_settlement(answer, version)
                if transaction is None:
                    return answer
                why = f"HTTP {answer.status_code} settlement_pending"
                wait = parse_retry_after(answer.headers.get("Retry-After"))
            delay = self.policy.clamp_interval(
                self.policy.default_poll_interval if wait is None else wait
            )
            if self.clock() + delay > deadline:
                raise PaymentUnconfirmedError(payment, paid.url, why, transaction or None)
            yield Sleep(delay)

    def poll(
        self, status_url: str, timeout: float | None = None, progress: Progress | None = None
    ) -> Flow[dict[str, Any]]:
        """GET the status URL until the job is terminal; the completed job's JSON."""
        limit = self.policy.poll_timeout_seconds if timeout is None else timeout
        started = self.clock()
        retries = 0
        last_status: str | None = None
        while True:
            try:
                answer = judge_status((yield Send("GET", status_url, _ACCEPT_JSON)))
            except httpx.TransportError as exc:
                answer = StatusAnswer(AnswerKind.RETRY, problem=f"{type(exc).__name__}: {exc}")
            elapsed = self.clock() - started
            if answer.job is not None:
                last_status = answer.status
                if progress is not None:
                    progress(answer.job["status"], elapsed)
            if answer.kind is AnswerKind.COMPLETED and answer.job is not None:
                self._remember(answer.job, status_url)
                return answer.job
            if answer.kind is AnswerKind.FAILED:
                raise JobFailedError(answer.job or {})
            retries = retries + 1 if answer.kind is AnswerKind.RETRY else 0
            if retries > self.policy.max_status_retries:
                raise PollingError(status_url, retries, answer.problem or "unknown")
            if elapsed >= limit:
                raise JobTimeoutError(status_url, last_status, elapsed)
            delay = next_poll_delay(self.policy, answer.retry_after, retries)
            yield Sleep(min(delay, limit - elapsed))

    def download(
        self, job: dict[str, Any], dest_dir: str | Path, status_url: str | None = None
    ) -> Flow[list[Path]]:
        """Fetch every image of a completed job into `dest_dir` as `<job id>-<n>.png`."""
        job_id = job_id_of(job)
        if job.get("status") != "completed":
            raise ValueError(f"job {job_id!r} is {job.get('status')!r}; expected a completed job")
        urls = image_urls(job, status_url or self._status_urls.get(job_id))
        dest = Path(dest_dir)
        dest.mkdir(parents=True, exist_ok=True)
        files = []
        for number, url in enumerate(urls, start=1):
            response = yield Send("GET", url, _ACCEPT_PNG, follow_redirects=True)
            path = image_path(dest, job_id, number)
            path.write_bytes(png_of(response))
            files.append(path)
        return files

    def generate(
        self,
        base_url: str,
        body: dict[str, Any],
        dest_dir: str | Path,
        progress: Progress | None = None,
    ) -> Flow[GenerationResult]:
        """Pay for a generation, poll it to completion and download its images."""
        started = self.clock()
        url = base_url.rstrip("/") + GENERATE_PATH
        paid = yield from self.paid_request("POST", url, json=body)
        response = paid.response
        if not response.is_success:
            raise UnexpectedStatusError(
                f"POST {url} answered HTTP {response.status_code} ({response.text[:200]!r}); "
                "expected 2xx with a job",
                response=response,
                settlement=paid.settlement,
            )
        created = _json_object(response)
        job_id = job_id_of(created)
        location = response.headers.get("Location")
        status_url = str(response.request.url.join(location)) if location else f"{url}/{job_id}"
        job = yield from self.poll(status_url, progress=progress)
        to_completed = self.clock() - started
        files = yield from self.download(job, dest_dir, status_url)
        timings = Timings(paid.seconds_to_402, paid.seconds_total, to_completed)
        return GenerationResult(job, paid.settlement, files, timings, status_url, paid)

    def _remember(self, job: dict[str, Any], status_url: str) -> None:
        job_id = job.get("id")
        if isinstance(job_id, str):
            self._status_urls[job_id] = status_url
            self._status_urls.move_to_end(job_id)
            while len(self._status_urls) > _REMEMBERED_STATUS_URLS:
                self._status_urls.popitem(last=False)


_ACCEPT_JSON = httpx.Headers({"Accept": "application/json"})
_ACCEPT_PNG = httpx.Headers({"Accept": "image/png"})


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ProtocolError(
            f"{response.request.method} {response.request.url} answered "
            f"{response.text[:200]!r}; expected a JSON object",
            response=response,
        )
    return data
