"""The server checks under a faulty facilitator: when a settle's outcome is unknown to the server,
it serves no job it has not seen settled, never says nothing was charged once money moved, and
gives the job to the same payment sent again. Graded from trials (`fault_trials.py`) that need
the facilitator's admin API (`--facilitator-admin`); without it they are not applicable."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator

import httpx

from conformance.catalog import Verdict, catalog, error, failed, not_applicable, passed, policy
from conformance.catalog import spec_must as must
from conformance.server.fault_trials import FaultTrial, Step
from conformance.server.probe import Answer, ServerProbe
from x402_core.headers import HeaderError
from x402_core.reasons import Reason

HTTP_V2 = "transports-v2__http.md"
SPEC_V2 = "x402-specification-v2.md"
NOTHING_CHARGED = ("nothing was charged", "not charged", "no charge", "not been charged")
SAYS_NOTHING_CHARGED = re.compile("|".join(map(re.escape, NOTHING_CHARGED)), re.IGNORECASE)

TrialsGrade = Callable[[ServerProbe, list[FaultTrial]], Verdict]


def _on_trials(grade: TrialsGrade) -> Callable[[ServerProbe], Verdict]:
    """Not applicable without the facilitator's admin API; an error when the server never
    brought the payments to that facilitator (it uses another)."""

    @functools.wraps(grade)
    def on_trials(probe: ServerProbe) -> Verdict:
        if probe.faults is None:
            return not_applicable(
                "needs the facilitator's admin API (--facilitator-admin URL) to arm its faults"
            )
        if not probe.versions:
            return failed(
                "no offer could be read (see SRV-002, SRV-003)", **probe.unpaid.evidence()
            )
        try:
            trials = probe.fault_trials or []
        except httpx.HTTPError as exc:
            return error(f"the facilitator's fault API failed the trials: {exc!r}")
        if not any(t.seen_by_facilitator for t in trials):
            return error(
                f"the facilitator at {probe.faults.admin.url} never saw these payments: does the "
                "server use it?",
                received=[t.evidence() for t in trials],
            )
        return grade(probe, trials)

    return on_trials


def _served(answer: Answer | None) -> bool:
    return answer is not None and answer.status == 200


def _answers(trials: list[FaultTrial]) -> Iterator[tuple[FaultTrial, int, Step, Answer]]:
    """Every answer the server gave in the trials, numbered within its trial from 1."""
    for trial in trials:
        for number, step in enumerate(trial.steps, start=1):
            if step.answer is not None:
                yield trial, number, step, step.answer


@catalog.check(
    "SRV-032",
    "under a faulty facilitator, a job is served only after the facilitator reported the "
    "payment settled, with PAYMENT-RESPONSE naming that transaction",
    must(f"{HTTP_V2} Settlement Response Delivery; {SPEC_V2} §5.3 SettlementResponse (success: "
         "whether the settlement was successful; transaction: its hash)"),
)  # fmt: skip
@_on_trials
def served_only_when_settled(probe: ServerProbe, trials: list[FaultTrial]) -> Verdict:
    served = 0
    for trial, number, step, answer in _answers(trials):
        if not _served(answer):
            continue
        served += 1
        problem = _unsettled_service(probe, trial, step, answer)
        if problem is not None:
            return failed(f"under {trial.fault}, answer {number}: {problem}", **_shown(trial))
    if not served:
        return not_applicable("no job was served under any fault (see SRV-034)")
    return passed(f"{served} answer(s) with a job, each after a settlement", **_all(trials))


def _unsettled_service(
    probe: ServerProbe, trial: FaultTrial, step: Step, answer: Answer
) -> str | None:
    """What is wrong with serving the job at `step`, or None."""
    if not step.told_settled:
        statuses = [e["status"] for e in step.calls if e["path"] == "/settle"]
        return (
            "a job was served, but no settle answer the facilitator gave for this payment said it "
            f"settled (its /settle answers: {statuses or 'none'})"
        )
    settlement = probe.settlement(answer, trial.version)
    if isinstance(settlement, HeaderError):
        return f"the job came without a readable settlement: {settlement.message}"
    if not settlement.success or settlement.transaction not in step.told_settled:
        return (
            f"the settlement it sent ({settlement.wire()}) is not the one the facilitator "
            f"reported ({sorted(step.told_settled)})"
        )
    return None


@catalog.check(
    "SRV-033",
    "under a faulty facilitator, never says nothing was charged once the payment settled "
    "(no 402, no failed settlement, no 'nothing charged')",
    must(f"{HTTP_V2} Error Handling (402: payment verification or settlement failed); "
         f"{SPEC_V2} §5.3.2 (success: whether the settlement was successful)"),
)  # fmt: skip
@_on_trials
def never_denies_a_charge(probe: ServerProbe, trials: list[FaultTrial]) -> Verdict:
    judged = 0
    for trial, number, step, answer in _answers(trials):
        if not step.transactions:
            continue
        judged += 1
        denial = _denial(probe, trial, answer)
        if denial is not None:
            moved = ", ".join(sorted(step.transactions))
            note = f"under {trial.fault}, answer {number} {denial}, although {moved} moved it"
            return failed(note, **_shown(trial))
    if not judged:
        return not_applicable("no payment settled on the facilitator under any fault")
    return passed(f"{judged} answer(s) after a settlement, none denying it", **_all(trials))


def _denial(probe: ServerProbe, trial: FaultTrial, answer: Answer) -> str | None:
    """How the answer says the payment took nothing, or None."""
    if answer.status == 402:
        return "is a 402 (payment failed)"
    settlement = probe.settlement(answer, trial.version)
    failure = None if isinstance(settlement, HeaderError) or settlement.success else settlement
    if failure is not None and failure.error_reason != Reason.SETTLEMENT_PENDING:
        return f"carries a failed settlement ({failure.error_reason})"
    text = answer.content.decode(errors="replace")
    unavailable = answer.json_field("error") == Reason.FACILITATOR_UNAVAILABLE
    if unavailable or SAYS_NOTHING_CHARGED.search(text):
        return f"says nothing was charged ({text[:160]!r})"
    return None


@catalog.check(
    "SRV-034",
    "after a faulty facilitator settled a payment, the same payment sent again gets the job "
    "it bought, charged once",
    policy("a payment whose settlement the server was unsure of still buys its job (the specs "
           "are silent on settlement_pending)"),
)  # fmt: skip
@_on_trials
def resend_gets_the_job(probe: ServerProbe, trials: list[FaultTrial]) -> Verdict:
    for trial in trials:
        problem = _resend_problem(trial)
        if problem is not None:
            return failed(f"under {trial.fault}, {problem}", **_shown(trial))
    return passed(f"the job after each of {len(trials)} faults, charged once", **_all(trials))


def _resend_problem(trial: FaultTrial) -> str | None:
    last = trial.steps[-1]
    jobs = {s.answer.json_field("id") for s in trial.steps if s.answer and _served(s.answer)}
    if not _served(last.answer) or None in jobs:
        return f"the same payment sent again got {last.summary()}, not a job"
    if len(jobs) > 1:
        return f"one payment got jobs {sorted(jobs)}"
    if len(last.transactions) > 1:
        return f"one payment moved money in {sorted(last.transactions)}"
    return None


def _shown(trial: FaultTrial) -> dict[str, object]:
    return {"received": trial.evidence()}


def _all(trials: list[FaultTrial]) -> dict[str, object]:
    return {"received": [t.evidence() for t in trials]}
