"""Named behaviours of the mock, chosen per job: by default, by `X-Mock-Scenario`, or queued."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from mock_server.jobs import Plan, Status

SCENARIO_HEADER = "X-Mock-Scenario"


class Fault(StrEnum):
    """A way a purchase or a poll goes wrong on purpose; a scenario names some of them."""

    FACILITATOR_DOWN = "facilitator_down"
    """Paid requests get 503 before anything is verified: nothing is charged."""
    SETTLE_FAILS = "settle_fails"
    """Settlement is refused after verification: 402 with the reason, no job."""
    SETTLE_PENDING = "settle_pending"
    """The facilitator says `settlement_pending` until SETTLE_PENDING_SECONDS after the claim."""
    FACILITATOR_TIMEOUT = "facilitator_timeout"
    """The first settle call times out after the transaction was sent."""
    SERVER_ERROR_AFTER_SETTLE = "server_error_after_settle"
    """The first answer after settling is a 500."""
    RATE_LIMITED_POLLING = "rate_limited_polling"
    """Status polls faster than Retry-After get 429."""
    STATUS_ERRORS = "status_errors"
    """Every other status poll gets 503."""
    IDENTIFIER_REQUIRED = "identifier_required"
    """The 402 declares the payment-identifier required; a v2 payment without one gets 400."""


class OfferFlaw(StrEnum):
    """An unpayable variant of the 402 offer that a client must refuse to pay."""

    NONE = ""
    UNKNOWN_NETWORK = "unknown_network"
    UNKNOWN_ASSET = "unknown_asset"
    OVERPRICED = "overpriced"
    MALFORMED = "malformed"


SETTLE_PENDING_SECONDS = 3.0
"""settle_pending: how long (job clock) after the claim the settlement stays pending."""


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    plan: Plan
    faults: frozenset[Fault] = frozenset()
    offer: OfferFlaw = OfferFlaw.NONE

    def has(self, fault: Fault) -> bool:
        return fault in self.faults


_HAPPY = Plan(queue_seconds=1.0, processing_seconds=3.0)
_QUICK = Plan(queue_seconds=0.2, processing_seconds=0.5)
"""For scenarios about the purchase, not the job: the job is over soon after."""

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("happy", "queued 1 s, processing 3 s, then completed", _HAPPY),
        Scenario("instant", "completed as soon as it is created", Plan(0.0, 0.0)),
        Scenario("quick", "queued 0.2 s, processing 0.5 s, then completed", _QUICK),
        Scenario("slow", "queued 10 s, processing 30 s, then completed", Plan(10.0, 30.0)),
        Scenario("stuck", "queued 1 s, then processing forever", Plan(1.0, None)),
        Scenario(
            "fail",
            "processing 2 s, then failed with generation_failed",
            Plan(1.0, 2.0, Status.FAILED, "generation_failed", "the model could not render this"),
        ),
        Scenario(
            "content_policy",
            "refused while queued: failed with content_policy_violation",
            Plan(
                1.0,
                0.0,
                Status.FAILED,
                "content_policy_violation",
                "the prompt violates the content policy",
                fail_while_queued=True,
            ),
        ),
        Scenario(
            "rate_limited",
            "status polls faster than Retry-After get 429 with Retry-After",
            _HAPPY,
            faults=frozenset({Fault.RATE_LIMITED_POLLING}),
        ),
        Scenario(
            "status_errors",
            "every other status poll answers 503 with Retry-After",
            _HAPPY,
            faults=frozenset({Fault.STATUS_ERRORS}),
        ),
        Scenario(
            "facilitator_down",
            "the facilitator cannot be reached: paid requests get 503, nothing is charged",
            _HAPPY,
            faults=frozenset({Fault.FACILITATOR_DOWN}),
        ),
        Scenario(
            "settle_fails",
            "verification passes, settlement is refused: 402 with the reason, no job",
            _HAPPY,
            faults=frozenset({Fault.SETTLE_FAILS}),
        ),
        Scenario(
            "settle_pending",
            f"settlement is pending for {SETTLE_PENDING_SECONDS:g} s: 503 settlement_pending; "
            "re-sending the same payment then returns the job",
            _QUICK,
            faults=frozenset({Fault.SETTLE_PENDING}),
        ),
        Scenario(
            "facilitator_timeout",
            "the settle call times out after the transaction was sent: 503 "
            "settlement_pending; re-sending the same payment returns the job",
            _QUICK,
            faults=frozenset({Fault.FACILITATOR_TIMEOUT}),
        ),
        Scenario(
            "server_error_after_settle",
            "settles, then answers 500 once; re-sending the payment returns the job",
            _QUICK,
            faults=frozenset({Fault.SERVER_ERROR_AFTER_SETTLE}),
        ),
        Scenario(
            "identifier_required",
            "queued 0.2 s, processing 0.5 s; the 402 declares payment-identifier required and "
            "a payment without an id gets 400",
            Plan(0.2, 0.5),
            faults=frozenset({Fault.IDENTIFIER_REQUIRED}),
        ),
        Scenario(
            "offer_unknown_network",
            "the 402 asks for payment on a network no client knows (eip155:999999)",
            _HAPPY,
            offer=OfferFlaw.UNKNOWN_NETWORK,
        ),
        Scenario(
            "offer_unknown_asset",
            "the 402 asks for payment in a token that is not USDC",
            _HAPPY,
            offer=OfferFlaw.UNKNOWN_ASSET,
        ),
        Scenario(
            "offer_overpriced",
            "the 402 asks for 100 times the listed price",
            _HAPPY,
            offer=OfferFlaw.OVERPRICED,
        ),
        Scenario(
            "offer_malformed",
            "the 402's PAYMENT-REQUIRED header and body cannot be read",
            _HAPPY,
            offer=OfferFlaw.MALFORMED,
        ),
    )
}


class UnknownScenarioError(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")


def scenario_named(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UnknownScenarioError(name) from None


def scenario_of(name: str) -> Scenario:
    """The scenario a stored job or purchase names; one no longer known behaves as happy."""
    return SCENARIOS.get(name, SCENARIOS["happy"])


class ScenarioPicker:
    """The default scenario and a queue for the next paid jobs; the admin API changes both."""

    def __init__(self, default: str = "happy") -> None:
        self._initial = scenario_named(default)
        self.default = self._initial
        self._queue: deque[Scenario] = deque()
        self._lock = threading.Lock()

    def set_default(self, name: str) -> None:
        self.default = scenario_named(name)

    def enqueue(self, names: list[str]) -> None:
        scenarios = [scenario_named(n) for n in names]  # all or nothing
        with self._lock:
            self._queue.extend(scenarios)

    def queued(self) -> list[str]:
        return [s.name for s in self._queue]

    def peek(self, requested: str | None) -> Scenario:
        """The scenario a request would get, without taking it off the queue."""
        if requested is not None:
            return scenario_named(requested)
        with self._lock:
            return self._queue[0] if self._queue else self.default

    def take(self, requested: str | None) -> Scenario:
        """The scenario for a new paid job: the header's, else the next queued, else the default."""
        if requested is not None:
            return scenario_named(requested)
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
        self.default = self._initial
