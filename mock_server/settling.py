"""Settling a claimed purchase, when the outcome may be unknown, and recording what happened.

A settle answer decides the purchase: settled (its job is made in the same store step), refused
(nothing moved), or unknown (a timeout, a dropped connection, a 5xx, `settlement_pending`): then
the purchase stays pending and is settled again later, which the facilitator answers with the
transaction already made. `settlement_pending` is re-sent once at once, as the official SDK's
servers do. The scenario faults of the facilitator are applied here, on real answers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from mock_server.crashpoints import CrashPoint, crash_at
from mock_server.facilitator_client import (
    FacilitatorUnavailableError,
    FacilitatorUnreachableError,
)
from mock_server.jobs import Job
from mock_server.purchases import Purchase, PurchaseState
from mock_server.scenarios import SETTLE_PENDING_SECONDS, Fault, Scenario, scenario_of
from mock_server.state import ServerState
from x402_core.models import SettleResponse
from x402_core.reasons import Reason


class Outcome(StrEnum):
    SETTLED = "settled"
    REFUSED = "refused"
    UNKNOWN = "unknown"
    NOT_SENT = "not_sent"
    """No connection to the facilitator: the request never reached it."""


@dataclass(frozen=True, slots=True)
class SettleResult:
    outcome: Outcome
    answer: SettleResponse | None
    message: str


def is_pending(answer: SettleResponse) -> bool:
    return not answer.success and answer.error_reason == Reason.SETTLEMENT_PENDING


async def settle_purchase(state: ServerState, purchase: Purchase, first_attempt: bool) -> Purchase:
    """Settle `purchase` once (twice on `settlement_pending`) and record the outcome; the stored
    purchase afterwards. `first_attempt`: the claiming request itself, which alone knows that no
    earlier settle of this purchase was ever sent."""
    result = await _ask(state, purchase, first_attempt)
    crash_at(CrashPoint.AFTER_SETTLE_ANSWER, state.crash)
    store, key = state.store, purchase.key
    answer = None if result.answer is None else result.answer.wire()
    if result.outcome is Outcome.SETTLED and answer is not None:
        if store.settle(key, answer, _job(state, purchase)):
            return replace(purchase, state=PurchaseState.SETTLED, settlement=answer, reason="")
    elif result.outcome is Outcome.REFUSED:
        store.mark_refused(key, answer, result.message)
    elif result.outcome is Outcome.NOT_SENT and first_attempt:
        store.mark_refused(key, None, Reason.FACILITATOR_UNAVAILABLE)
    else:
        store.mark_pending(key, answer, result.message)
    updated = store.get_purchase(key)
    return updated if updated is not None else purchase


def _job(state: ServerState, purchase: Purchase) -> Job:
    return Job(
        id=purchase.job_id,
        created_at=state.clock.now(),
        plan=scenario_of(purchase.scenario).plan,
        request=purchase.request,
        payer=purchase.payer,
        scenario=purchase.scenario,
    )


async def _ask(state: ServerState, purchase: Purchase, first_attempt: bool) -> SettleResult:
    scenario = scenario_of(purchase.scenario)
    if scenario.has(Fault.SETTLE_FAILS):
        refusal = SettleResponse(
            success=False,
            error_reason=Reason.TRANSACTION_FAILED,
            error_message="settlement refused (scenario settle_fails)",
            payer=purchase.payer,
            network=purchase.settle_body["paymentRequirements"]["network"],
        )
        return SettleResult(Outcome.REFUSED, refusal, Reason.TRANSACTION_FAILED)
    try:
        answer = await _settle_call(state, purchase, scenario, first_attempt)
    except FacilitatorUnreachableError as exc:
        return SettleResult(Outcome.NOT_SENT, None, str(exc))
    except FacilitatorUnavailableError as exc:
        return SettleResult(Outcome.UNKNOWN, None, str(exc))
    if is_pending(answer):
        state.store.touch(purchase.key)
        try:
            answer = await _settle_call(state, purchase, scenario, first_attempt=False)
        except FacilitatorUnavailableError as exc:  # the first call may have moved money
            return SettleResult(Outcome.UNKNOWN, answer, str(exc))
    if answer.success:
        return SettleResult(Outcome.SETTLED, answer, "")
    if is_pending(answer):
        return SettleResult(Outcome.UNKNOWN, answer, answer.error_message or "settlement_pending")
    return SettleResult(
        Outcome.REFUSED, answer, answer.error_reason or Reason.UNEXPECTED_SETTLE_ERROR
    )


async def _settle_call(
    state: ServerState, purchase: Purchase, scenario: Scenario, first_attempt: bool
) -> SettleResponse:
    """One `/settle`, with the scenario's facilitator faults applied to its real answer."""
    answer = await state.facilitator.settle(purchase.settle_body)
    if scenario.has(Fault.FACILITATOR_TIMEOUT) and first_attempt:
        raise FacilitatorUnavailableError(
            "facilitator /settle did not answer in time (scenario facilitator_timeout)"
        )
    settling_until = purchase.created_at + SETTLE_PENDING_SECONDS
    if scenario.has(Fault.SETTLE_PENDING) and answer.success and state.clock.now() < settling_until:
        return SettleResponse(
            success=False,
            error_reason=Reason.SETTLEMENT_PENDING,
            error_message="the transaction is not confirmed yet (scenario settle_pending)",
            payer=answer.payer,
            transaction=answer.transaction,
            network=answer.network,
        )
    return answer
