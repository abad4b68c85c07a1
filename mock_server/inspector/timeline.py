"""Every purchase as a timeline: the offer it answered, the payment, the facilitator's verdicts,
the settlement, the job's status changes, the client's polls and downloads.

A purchase is one payment key (payer:nonce): every request that carried it, every facilitator call
made for it, and the stored purchase and job, if any. Pure functions over decoded journal entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mock_server.jobs import Job
from mock_server.journal_view import (
    Decoded,
    FacilitatorCall,
    Facts,
    JournalFilter,
    filter_values,
    offer_summary,
    payment_summary,
)
from mock_server.purchases import Purchase, PurchaseState
from x402_core.jobstatus import Status

POLL_TOLERANCE_SECONDS = 0.25
"""A poll this much earlier than Retry-After asked is still on time (clocks and scheduling)."""
PURCHASE_WORDS = {
    PurchaseState.CLAIMED: "settling",
    PurchaseState.PENDING: "settlement_pending",
    PurchaseState.REFUSED: "refused",
}
SETTLEMENT_SHOWN = ("success", "errorReason", "transaction")
BODY_SHOWN = ("id", "status", "error", "message", "transaction")
STATUS_WORDS = (
    "settling",
    "settlement_pending",
    "refused",
    *(status.value for status in Status),
    "settled",
)
"""What a purchase's status filter takes: the purchase's state until it is settled, then its job's
status (`settled`: its job is gone)."""


@dataclass(frozen=True, slots=True)
class Poll:
    """A status poll, judged against the Retry-After of the answer before it."""

    entry: Decoded
    asked: int | None
    """Seconds the previous answer's Retry-After asked the client to wait."""
    waited: float | None
    """Seconds between the previous answer and this request."""

    @property
    def early(self) -> bool:
        return (
            self.asked is not None
            and self.waited is not None
            and self.waited + POLL_TOLERANCE_SECONDS < self.asked
        )


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a timeline: when, what kind, a title, and the facts to show."""

    time: float
    kind: str
    title: str
    facts: dict[str, Any] = field(default_factory=dict)
    tone: str = ""
    """`ok`, `warn`, `bad` or empty."""
    seq: int | None = None
    """The journal entry it comes from, if any."""


@dataclass
class Timeline:
    key: str
    payer: str
    purchase: Purchase | None
    job: Job | None
    scenario: str | None
    offer: Decoded | None
    paid: list[Decoded]
    calls: list[FacilitatorCall]
    polls: list[Poll] = field(default_factory=list)
    downloads: list[Decoded] = field(default_factory=list)

    @property
    def started(self) -> float:
        first = self.offer or self.paid[0]
        return first.started

    @property
    def job_id(self) -> str | None:
        return self.job.id if self.job is not None else None

    @property
    def transaction(self) -> str | None:
        if self.purchase is not None and self.purchase.transaction:
            return self.purchase.transaction
        for call in reversed(self.calls):
            tx = call.answer.get("transaction") if isinstance(call.answer, dict) else None
            if isinstance(tx, str) and tx:
                return tx
        return None

    @property
    def refusal(self) -> str | None:
        """Why the payment was refused, when it was: the facilitator's reason, or the answer's."""
        if self.purchase is not None and self.purchase.state is not PurchaseState.REFUSED:
            return None
        if self.purchase is not None and self.purchase.reason:
            return self.purchase.reason
        for call in reversed(self.calls):
            answer = call.answer if isinstance(call.answer, dict) else {}
            reason = answer.get("invalidReason") or answer.get("errorReason")
            if isinstance(reason, str) and reason:
                return reason
        body = self.paid[-1].response_body
        error = body.get("error") if isinstance(body, dict) else None
        return error if isinstance(error, str) else None

    def status(self, now: float) -> str:
        """The word the status filter matches (see STATUS_WORDS)."""
        if self.purchase is None:
            return "refused"
        if self.purchase.state is not PurchaseState.SETTLED:
            return PURCHASE_WORDS[self.purchase.state]
        return self.job.status_at(now).value if self.job is not None else "settled"

    def steps(self, now: float) -> list[Step]:
        """Everything that happened to the purchase, in time order."""
        steps = [*self._payment_steps(), *map(_call_step, self.calls)]
        if self.job is not None:
            steps += job_steps(self.job, now)
        steps += [_poll_step(poll) for poll in self.polls]
        steps += [
            Step(d.started, "image", f"downloaded {d.path}", {"status": d.status}, "", d.seq)
            for d in self.downloads
        ]
        return sorted(steps, key=lambda step: step.time)

    def _payment_steps(self) -> list[Step]:
        steps = []
        if self.offer is not None:
            steps.append(
                Step(
                    self.offer.started,
                    "offer",
                    f"402 offer ({self.offer.method} {self.offer.path})",
                    offer_summary(self.offer.payment_required, self.offer.response_body),
                    "",
                    self.offer.seq,
                )
            )
        for number, entry in enumerate(self.paid):
            summary = payment_summary(entry.payment, entry.payment_version) or {}
            label = "payment sent" if number == 0 else "same payment sent again"
            steps.append(Step(entry.started, "payment", label, summary, "", entry.seq))
            steps.append(
                Step(
                    entry.time,
                    "answer",
                    f"answered {entry.status}",
                    answer_facts(entry),
                    _tone(entry.status),
                    entry.seq,
                )
            )
        return steps


def answer_facts(entry: Decoded) -> dict[str, Any]:
    """A paid request's answer in brief: the settlement header, and the body's job or error
    (the whole answer is in the journal entry the step links to)."""
    body = entry.response_body if isinstance(entry.response_body, dict) else {}
    settlement = entry.payment_response if isinstance(entry.payment_response, dict) else {}
    return {
        **{f"settlement {k}": settlement.get(k) for k in SETTLEMENT_SHOWN if k in settlement},
        **{f"body {name}": body.get(name) for name in BODY_SHOWN if name in body},
    }


def _tone(status: int) -> str:
    if status < 300:
        return "ok"
    return "bad" if status >= 500 or status in (400, 402) else "warn"


def _call_step(call: FacilitatorCall) -> Step:
    answer = call.answer if isinstance(call.answer, dict) else {}
    if call.call == "verify":
        valid = answer.get("isValid") is True
        title = "verify: valid" if valid else f"verify: invalid ({answer.get('invalidReason')})"
        return Step(call.time, "verify", title, answer, "ok" if valid else "bad")
    success = answer.get("success") is True
    reason = answer.get("errorReason")
    title = "settle: success" if success else f"settle: {reason or 'failed'}"
    tone = "ok" if success else ("warn" if reason == "settlement_pending" else "bad")
    return Step(call.time, "settle", title, answer, tone)


def _poll_step(poll: Poll) -> Step:
    entry = poll.entry
    body = entry.response_body if isinstance(entry.response_body, dict) else {}
    facts = {
        "status": body.get("status"),
        "Retry-After asked": poll.asked,
        "waited": None if poll.waited is None else round(poll.waited, 2),
        "answer Retry-After": entry.response_headers.get("retry-after"),
    }
    if entry.status in (429, 503):
        title, tone = f"poll answered {entry.status} ({body.get('error')})", "warn"
    else:
        title, tone = f"poll: {body.get('status', entry.status)}", ""
    if poll.early:
        title, tone = title + " — polled before Retry-After", "bad"
    return Step(entry.started, "poll", title, facts, tone, entry.seq)


def status_changes(job: Job, now: float) -> list[tuple[float, Status]]:
    """(time on the job clock, status) of each status the job has had by `now`; measured by
    age as `Job.status_at` does, so the last one is always the job's status at `now`."""
    plan, age = job.plan, now - job.created_at
    changes = [(0.0, Status.PENDING)]
    if plan.fail_while_queued:
        changes.append((plan.queue_seconds, Status.FAILED))
    else:
        changes.append((plan.queue_seconds, Status.PROCESSING))
        if plan.processing_seconds is not None:
            changes.append((plan.queue_seconds + plan.processing_seconds, plan.outcome))
    reached = [(job.created_at + at, status) for at, status in changes if at <= age]
    return [c for i, c in enumerate(reached) if i == 0 or c[1] is not reached[i - 1][1]]


def job_steps(job: Job, now: float) -> list[Step]:
    steps = []
    for time, status in status_changes(job, now):
        facts: dict[str, Any] = {}
        tone = ""
        if status is Status.FAILED:
            facts["error"] = {"code": job.plan.error_code, "message": job.plan.error_message}
            tone = "bad"
        elif status is Status.COMPLETED:
            tone = "ok"
        steps.append(Step(time, "job", f"job {status.value}", facts, tone))
    return steps


def polls_of(entries: Sequence[Decoded], answered_at: float | None) -> list[Poll]:
    """Polls of one job in order, each judged against the answer before it (the first against
    the paid answer, received at `answered_at`, which asks for no wait)."""
    polls, previous_time, asked = [], answered_at, None
    for entry in entries:
        waited = None if previous_time is None else entry.started - previous_time
        polls.append(Poll(entry, asked, waited))
        previous_time = entry.time
        asked = _retry_after(entry.response_headers.get("retry-after"))
    return polls


def _retry_after(value: str | None) -> int | None:
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 9:
        return None
    return int(value)


@dataclass(frozen=True, slots=True)
class UnpaidOffers:
    """402s that no payment followed: a client that refused (or never tried) to pay."""

    count: int
    scenarios: dict[str, int]
    last: Decoded | None


def timelines(
    entries: Iterable[Decoded], facts: Facts, endpoint_path: str
) -> tuple[list[Timeline], UnpaidOffers]:
    """Each payment key's timeline (newest first), and the offers no payment followed."""
    groups: dict[str, Timeline] = {}
    offers: list[Decoded] = []
    by_job: dict[str, list[Decoded]] = {}
    for entry in entries:
        if entry.path == endpoint_path and entry.key is None and entry.status == 402:
            offers.append(entry)
        elif entry.key is not None:
            group = groups.get(entry.key) or _new_timeline(entry, facts, offers)
            groups[entry.key] = group
            group.paid.append(entry)
        elif entry.path_job is not None:
            by_job.setdefault(entry.path_job, []).append(entry)
    for group in groups.values():
        _attach_job(group, facts, by_job)
    scenarios: dict[str, int] = {}
    for offer in offers:  # those left: no payment took them as its offer
        name = offer.noted_scenario or "?"
        scenarios[name] = scenarios.get(name, 0) + 1
    ordered = sorted(groups.values(), key=lambda g: g.started, reverse=True)
    return ordered, UnpaidOffers(len(offers), scenarios, offers[-1] if offers else None)


def _new_timeline(entry: Decoded, facts: Facts, offers: list[Decoded]) -> Timeline:
    """A timeline opened by its first paid request, with the latest offer not yet answered."""
    offer = offers.pop() if offers else None
    purchase = facts.purchase_of(entry)
    return Timeline(
        key=entry.key or "",
        payer=entry.payer or "",
        purchase=purchase,
        job=None,
        scenario=facts.scenario_of(entry),
        offer=offer,
        paid=[],
        calls=list(facts.calls.get(entry.key or "", [])),
    )


def _attach_job(group: Timeline, facts: Facts, by_job: dict[str, list[Decoded]]) -> None:
    job_id = facts.job_id_of(group.paid[-1])
    if job_id is None:
        return
    group.job = facts.jobs.get(job_id)
    related = by_job.get(job_id, [])
    polls = [e for e in related if e.path_job == job_id and not e.path.endswith(".png")]
    answered = [e.time for e in group.paid if e.status == 200]
    group.polls = polls_of(polls, answered[0] if answered else None)
    group.downloads = [e for e in related if e.path.endswith(".png")]


def pending(purchases: Iterable[Purchase]) -> list[Purchase]:
    """Purchases whose settlement outcome is not known yet, oldest change first."""
    open_states = (PurchaseState.CLAIMED, PurchaseState.PENDING)
    return sorted((p for p in purchases if p.state in open_states), key=lambda p: p.updated_at)


@dataclass(frozen=True, slots=True)
class TimelineFilter:
    """Which purchases to show: by payer, job, status word and scenario (empty: any)."""

    payer: str = ""
    job: str = ""
    status: str = ""
    scenario: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str], scenarios: Iterable[str]) -> TimelineFilter:
        """From `?payer=…&job=…&status=…&scenario=…`; ValueError says what is wrong."""
        values = filter_values(query, ("payer", "job", "status", "scenario"))
        if values["status"] and values["status"] not in STATUS_WORDS:
            raise ValueError(
                f"status is {values['status']!r}; expected one of {', '.join(STATUS_WORDS)}"
            )
        known = list(scenarios)
        if values["scenario"] and values["scenario"] not in known:
            raise ValueError(
                f"scenario is {values['scenario']!r}; expected one of {', '.join(known)}"
            )
        return cls(values["payer"].lower(), values["job"], values["status"], values["scenario"])

    def matches(self, timeline: Timeline, now: float) -> bool:
        return (
            (not self.payer or timeline.payer == self.payer)
            and (not self.job or timeline.job_id == self.job)
            and (not self.status or timeline.status(now) == self.status)
            and (not self.scenario or timeline.scenario == self.scenario)
        )

    def journal_filter(self) -> JournalFilter:
        """The same payer and job, for the journal's entries."""
        return JournalFilter(payer=self.payer, job=self.job)
