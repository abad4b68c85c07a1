"""The client checks of a settlement whose outcome the server does not know yet: after a
`settlement_pending` answer the client sends the same payment again and never signs another.

Graded from the mock's journal in the scenarios that answer it: `settle_pending` (the
facilitator confirms a few seconds later) and `facilitator_timeout` (the settle call timed out
after the transaction was sent).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.catalog import (
    Verdict,
    catalog,
    error,
    failed,
    not_applicable,
    passed,
    policy,
    spec_must,
)
from conformance.client.session import ClientSession, ScenarioRun
from x402_core.headers import HeaderError, decode_json_header
from x402_core.reasons import Reason

PENDING = Reason.SETTLEMENT_PENDING.value

PENDING_SCENARIOS = ("settle_pending", "facilitator_timeout")
SETTLEMENT_HEADERS = ("payment-response", "x-payment-response")


@dataclass(frozen=True, slots=True)
class PendingPayment:
    """A paid request answered `settlement_pending`, and the paid requests for the same body
    that the client sent after it."""

    run: ScenarioRun
    entry: dict[str, Any]
    later: list[dict[str, Any]]

    def resent(self) -> list[dict[str, Any]]:
        """The later requests that carry the very same payment."""
        return [e for e in self.later if e.get("payment") == self.entry.get("payment")]

    def other_authorizations(self) -> list[str]:
        """The nonces of the other authorizations signed for the same request afterwards."""
        own = _nonce(self.entry)
        return [n for e in self.later if (n := _nonce(e)) is not None and n != own]

    def evidence(self) -> dict[str, Any]:
        shown = [f"{e['method']} {e['path']} → {e['status']} (nonce {_nonce(e)})" for e in
                 [self.entry, *self.later]]  # fmt: skip
        return {"sent": {"scenario": self.run.scenario, "paid requests": shown}}


def is_pending(entry: dict[str, Any]) -> bool:
    """An answer saying the settlement's outcome is not known yet: 503 `settlement_pending`
    in the body or in the settlement header."""
    if entry["status"] != 503:
        return False
    try:
        body = json.loads(entry["response_body"] or "null")
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("error") == PENDING:
        return True
    for name in SETTLEMENT_HEADERS:
        value = entry["response_headers"].get(name)
        try:
            settlement = decode_json_header(value) if value else None
        except HeaderError:
            continue
        if isinstance(settlement, dict) and settlement.get("errorReason") == PENDING:
            return True
    return False


def _nonce(entry: dict[str, Any]) -> str | None:
    payment = entry.get("payment") or {}
    authorization = (payment.get("payload") or {}).get("authorization") or {}
    nonce = authorization.get("nonce")
    return str(nonce).lower() if nonce else None


def pending_payment(run: ScenarioRun) -> PendingPayment | None:
    """The first payment of the run answered `settlement_pending`, with what followed it."""
    for index, entry in enumerate(run.paid):
        if is_pending(entry):
            later = [e for e in run.paid[index + 1 :] if e["body"] == entry["body"]]
            return PendingPayment(run, entry, later)
    return None


PendingGrade = Callable[[PendingPayment], Verdict | None]
"""Judges one pending payment: a failing verdict, or None when it is right."""


def _over_pending(what: str, judge: PendingGrade) -> Callable[[ClientSession], Verdict]:
    """A check of every pending payment in the scenarios that answer `settlement_pending`."""

    def grade(session: ClientSession) -> Verdict:
        runs = [run for name in PENDING_SCENARIOS if (run := session.run(name)) is not None]
        if not runs:
            return not_applicable(
                f"the client was not run through {' or '.join(PENDING_SCENARIOS)}"
            )
        found = [p for run in runs if (p := pending_payment(run)) is not None]
        if not found:
            return error(
                "the client never got a settlement_pending answer: no evidence",
                sent=[run.evidence()["sent"] for run in runs],
            )
        for pending in found:
            verdict = judge(pending)
            if verdict is not None:
                return verdict
        scenarios = ", ".join(p.run.scenario for p in found)
        return passed(f"{what} ({scenarios})", sent=[p.evidence()["sent"] for p in found])

    return grade


def _one_authorization(pending: PendingPayment) -> Verdict | None:
    others = pending.other_authorizations()
    if not others:
        return None
    return failed(
        f"after settlement_pending in {pending.run.scenario}, signed {len(others)} more "
        f"authorization(s) for the same request: a second payment",
        **pending.evidence(),
    )


def _sent_again_until_settled(pending: PendingPayment) -> Verdict | None:
    resent = pending.resent()
    if not resent:
        return failed(
            f"after settlement_pending in {pending.run.scenario}, the same payment was never "
            "sent again: the job it paid for was not collected",
            **pending.evidence(),
        )
    if not any(e["status"] == 200 for e in resent):
        return failed(
            f"sent the same payment {len(resent)} more time(s) in {pending.run.scenario} and "
            "gave up before the job came",
            **pending.evidence(),
        )
    return None


catalog.check(
    "CLI-027",
    "after a settlement_pending answer, never signs a second authorization for that request",
    spec_must("x402-specification-v2.md §2 Core Payment Flow (one authorization per request)"),
)(_over_pending("one authorization per request", _one_authorization))
catalog.check(
    "CLI-028",
    "after a settlement_pending answer, sends the same payment again until it gets the job",
    policy(
        "an unknown settlement outcome is learned by sending the same payment again; the specs "
        "are silent on settlement_pending"
    ),
)(_over_pending("the same payment sent again bought the job", _sent_again_until_settled))
