"""The reference x402 paying client: pays a 402 once, polls the job, downloads its images.

`Payer` (sync) and `AsyncPayer` (async) run the same flows (`flows.py`); the decisions are pure
functions in `offers.py` (which offer to pay), `polling.py` (what a status answer means, how long to
wait) and `images.py` (what a downloaded image must be).
"""

from x402_payer.clients import AsyncPayer, Payer
from x402_payer.errors import (
    DownloadError,
    JobError,
    JobFailedError,
    JobTimeoutError,
    MalformedOfferError,
    NoAcceptableOfferError,
    PayerError,
    PaymentFailedError,
    PaymentRefusedError,
    PaymentUnconfirmedError,
    PollingError,
    PriceTooHighError,
    ProtocolError,
    RefusalReason,
    UnexpectedStatusError,
    UnsupportedAssetError,
    UnsupportedNetworkError,
    UnsupportedSchemeError,
)
from x402_payer.flows import GenerationResult, PaidResponse, Progress, Timings
from x402_payer.policy import PayerPolicy

__all__ = [
    "AsyncPayer",
    "DownloadError",
    "GenerationResult",
    "JobError",
    "JobFailedError",
    "JobTimeoutError",
    "MalformedOfferError",
    "NoAcceptableOfferError",
    "PaidResponse",
    "Payer",
    "PayerError",
    "PayerPolicy",
    "PaymentFailedError",
    "PaymentRefusedError",
    "PaymentUnconfirmedError",
    "PollingError",
    "PriceTooHighError",
    "Progress",
    "ProtocolError",
    "RefusalReason",
    "Timings",
    "UnexpectedStatusError",
    "UnsupportedAssetError",
    "UnsupportedNetworkError",
    "UnsupportedSchemeError",
]
