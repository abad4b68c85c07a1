"""The mock server's scenarios as the respx router plays them, with no server and no clock.

A job shows one more step of its walk at each status poll (the last step repeats), where the mock
moves it by the clock; each fault acts as the mock's does. A test holds this table to the mock's
(`mock_server/scenarios.py`): the same names, the same statuses in the same order, the same
error codes, the same unpayable offers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from x402_core.jobstatus import Status
from x402_core.listing import Listing
from x402_core.networks import BASE, Network

SCENARIO_HEADER = "X-Mock-Scenario"
RATE_LIMIT_SECONDS = 1.0
"""rate_limited: status polls closer together than this get 429, as at the mock."""
SETTLE_PENDING_RETRY_AFTER = 2
FACILITATOR_RETRY_AFTER = 5


class PurchaseFault(StrEnum):
    """What goes wrong with a paid request on purpose."""

    FACILITATOR_DOWN = "facilitator_down"
    """503 before anything is verified: nothing is charged."""
    SETTLE_FAILS = "settle_fails"
    """Verified, then refused at settlement: 402 `transaction_failed`, no job."""
    SETTLE_PENDING = "settle_pending"
    """503 `settlement_pending` naming the transaction; the same payment sent again gets the job."""
    FACILITATOR_TIMEOUT = "facilitator_timeout"
    """503 `settlement_pending` with no transaction known; the same payment again gets the job."""
    SERVER_ERROR_AFTER_SETTLE = "server_error_after_settle"
    """Charged, then 500 once; the same payment again gets the job."""
    IDENTIFIER_REQUIRED = "identifier_required"
    """The 402 declares the payment-identifier required; a payment without an id gets 400."""


class PollFault(StrEnum):
    RATE_LIMITED = "rate_limited_polling"
    """Polls faster than RATE_LIMIT_SECONDS apart get 429 while the job is not finished."""
    STATUS_ERRORS = "status_errors"
    """Every second poll gets 503."""


class OfferFlaw(StrEnum):
    """An unpayable 402 a client must refuse to pay."""

    UNKNOWN_NETWORK = "unknown_network"
    UNKNOWN_ASSET = "unknown_asset"
    OVERPRICED = "overpriced"
    MALFORMED = "malformed"


UNKNOWN_NETWORK = Network("x402h-unknown", 999_999, BASE.usdc)
UNKNOWN_ASSET = "0x00000000000000000000000000000000DeaDBeef"
OVERPRICE_FACTOR = 100
MALFORMED_HEADER = "%not base64: a malformed offer%"
MALFORMED_BODY = {"x402Version": "one"}

PENDING, PROCESSING = Status.PENDING.value, Status.PROCESSING.value
COMPLETED, FAILED = Status.COMPLETED.value, Status.FAILED.value
ONE_STEP_AT_A_TIME = (PENDING, PROCESSING, COMPLETED)


@dataclass(frozen=True, slots=True)
class JobError:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class RouterScenario:
    name: str
    walk: tuple[str, ...] = ONE_STEP_AT_A_TIME
    """The status after the purchase, then after each poll; the last one repeats."""
    error: JobError | None = None
    """A failed job's error."""
    purchase: PurchaseFault | None = None
    poll: PollFault | None = None
    offer: OfferFlaw | None = None


ROUTER_SCENARIOS: dict[str, RouterScenario] = {
    s.name: s
    for s in (
        RouterScenario("happy"),
        RouterScenario("instant", (COMPLETED,)),
        RouterScenario("quick"),
        RouterScenario("slow", (PENDING, PENDING, PROCESSING, PROCESSING, PROCESSING, COMPLETED)),
        RouterScenario("stuck", (PENDING, PROCESSING)),
        RouterScenario(
            "fail",
            (PENDING, PROCESSING, FAILED),
            JobError("generation_failed", "the model could not render this"),
        ),
        RouterScenario(
            "content_policy",
            (PENDING, FAILED),
            JobError("content_policy_violation", "the prompt violates the content policy"),
        ),
        RouterScenario("rate_limited", poll=PollFault.RATE_LIMITED),
        RouterScenario("status_errors", poll=PollFault.STATUS_ERRORS),
        *(RouterScenario(fault.value, purchase=fault) for fault in PurchaseFault),
        *(RouterScenario(f"offer_{flaw.value}", offer=flaw) for flaw in OfferFlaw),
    )
}


class UnknownScenarioError(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown scenario {name!r}; known: {', '.join(ROUTER_SCENARIOS)}")


def router_scenario(name: str) -> RouterScenario:
    try:
        return ROUTER_SCENARIOS[name]
    except KeyError:
        raise UnknownScenarioError(name) from None


def flawed_listing(listing: Listing, flaw: OfferFlaw) -> Listing:
    """The listing whose offer is unpayable in the way `flaw` says (not MALFORMED: that offer
    cannot be written as a listing)."""
    offer = listing.offer
    if flaw is OfferFlaw.UNKNOWN_NETWORK:
        offer = replace(offer, network=UNKNOWN_NETWORK)
    elif flaw is OfferFlaw.UNKNOWN_ASSET:
        offer = replace(offer, asset=replace(offer.asset, address=UNKNOWN_ASSET))
    elif flaw is OfferFlaw.OVERPRICED:
        offer = replace(offer, amount=offer.amount * OVERPRICE_FACTOR)
    else:
        raise ValueError(f"a {flaw.value} offer is not a listing")
    return replace(listing, offer=offer)
