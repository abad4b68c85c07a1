"""Everything the paying client raises: refusals (nothing paid), failures (paid, refused), jobs."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import httpx

from x402_core.models import SettleResponse


class RefusalReason(StrEnum):
    """Why the payer declined to pay an offer; no payment was signed or sent."""

    PRICE_TOO_HIGH = "price_too_high"
    UNSUPPORTED_NETWORK = "unsupported_network"
    UNSUPPORTED_ASSET = "unsupported_asset"
    UNSUPPORTED_SCHEME = "unsupported_scheme"
    MALFORMED_OFFER = "malformed_offer"
    NO_ACCEPTABLE_OFFER = "no_acceptable_offer"


class PayerError(Exception):
    """Base of every error of the paying client."""


class PaymentRefusedError(PayerError):
    """The payer would not pay this 402: nothing was signed, no second request was sent."""

    reason: RefusalReason = RefusalReason.NO_ACCEPTABLE_OFFER

    def __init__(self, message: str, *, response: httpx.Response | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.response = response


class PriceTooHighError(PaymentRefusedError):
    reason = RefusalReason.PRICE_TOO_HIGH


class UnsupportedNetworkError(PaymentRefusedError):
    reason = RefusalReason.UNSUPPORTED_NETWORK


class UnsupportedAssetError(PaymentRefusedError):
    reason = RefusalReason.UNSUPPORTED_ASSET


class UnsupportedSchemeError(PaymentRefusedError):
    reason = RefusalReason.UNSUPPORTED_SCHEME


class MalformedOfferError(PaymentRefusedError):
    reason = RefusalReason.MALFORMED_OFFER


class NoAcceptableOfferError(PaymentRefusedError):
    reason = RefusalReason.NO_ACCEPTABLE_OFFER


REFUSAL_ERRORS: dict[RefusalReason, type[PaymentRefusedError]] = {
    cls.reason: cls
    for cls in (
        PriceTooHighError,
        UnsupportedNetworkError,
        UnsupportedAssetError,
        UnsupportedSchemeError,
        MalformedOfferError,
        NoAcceptableOfferError,
    )
}


class PaymentFailedError(PayerError):
    """A payment was sent and the server answered 402 again; it is never sent a second time.

    `reason` is the server's machine-readable reason when it gave one (`insufficient_funds`, ...).
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str | None,
        response: httpx.Response,
        settlement: SettleResponse | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.response = response
        self.settlement = settlement


class PaymentUnconfirmedError(PayerError):
    """A payment was sent and its outcome stayed unknown (no answer, or `settlement_pending`)
    until the payer's wait ran out: it may have settled. The same payment may be sent again
    later (`payment`); a new one must not be signed for this request."""

    def __init__(self, payment: Any, url: str, why: str, transaction: str | None = None) -> None:
        self.payment = payment
        self.url = url
        self.transaction = transaction
        named = f" (transaction {transaction})" if transaction else ""
        super().__init__(
            f"the paid request to {url} got no final answer{named}: {why}; the payment may "
            "have settled: send the same payment again later, do not sign a new one"
        )


class ProtocolError(PayerError):
    """An answer that breaks the protocol or the API contract (bad header, bad JSON, bad id)."""

    def __init__(self, message: str, *, response: httpx.Response | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.response = response


class UnexpectedStatusError(PayerError):
    """An HTTP status the flow has no use for (a 400 on the paid request, a 404 while polling)."""

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        settlement: SettleResponse | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.response = response
        self.status_code = response.status_code
        self.settlement = settlement


class JobError(PayerError):
    """A job that did not end in `completed`."""


class JobFailedError(JobError):
    """The job reached `failed`; `code` and `error_message` are the job's `error` object."""

    def __init__(self, job: dict[str, Any]) -> None:
        found = job.get("error")
        error: dict[str, Any] = found if isinstance(found, dict) else {}
        self.job = job
        self.code: str | None = error.get("code")
        self.error_message: str | None = error.get("message")
        super().__init__(
            f"job {job.get('id')!r} failed with {self.code or 'no error code'}: "
            f"{self.error_message or 'no message'} (expected status 'completed')"
        )


class JobTimeoutError(JobError):
    """The job was still not terminal when the polling deadline passed (a stuck job)."""

    def __init__(self, status_url: str, last_status: str | None, elapsed: float) -> None:
        self.status_url = status_url
        self.last_status = last_status
        self.elapsed = elapsed
        super().__init__(
            f"job at {status_url} was still {last_status or 'unanswered'} after {elapsed:.1f} s;"
            " expected 'completed' or 'failed' before the polling timeout"
        )


class PollingError(JobError):
    """The status URL kept answering 429/5xx (or not at all) past `max_status_retries` tries."""

    def __init__(self, status_url: str, attempts: int, last_problem: str) -> None:
        self.status_url = status_url
        self.attempts = attempts
        self.last_problem = last_problem
        super().__init__(
            f"gave up on {status_url} after {attempts} retried answers in a row "
            f"(last: {last_problem}); expected a 200 status answer"
        )


class DownloadError(PayerError):
    """An image that is not what a completed job promised: wrong status, type or bytes."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
