"""The client checks of the payment-identifier extension, over every payment of every scenario:
an id sent is a valid one, one id stands for one payment (and its re-sends), and a server that
requires an id gets one."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from conformance.catalog import (
    Verdict,
    catalog,
    error,
    failed,
    not_applicable,
    passed,
    spec_must,
    spec_should,
)
from conformance.client.payments import MadePayment, payments
from conformance.client.session import ClientSession, ScenarioRun
from x402_core.models import PaymentPayloadV2
from x402_core.payment_identifier import ID_RULE, PAYMENT_IDENTIFIER, is_valid_id

SPEC = "extensions__payment_identifier.md"
REQUIRED_SCENARIO = "identifier_required"
NO_REQUEST = "the client made no request in any scenario: nothing to judge (did it run?)"


def _sent_id(payment: MadePayment) -> Any:
    """The id a payment carries (None: none); whatever it is, valid or not."""
    payload = payment.payload
    if not isinstance(payload, PaymentPayloadV2):
        return None
    extension = (payload.extensions or {}).get(PAYMENT_IDENTIFIER)
    info = extension.get("info") if isinstance(extension, dict) else None
    return info.get("id") if isinstance(info, dict) else None


def _signed(payment: MadePayment) -> str:
    """What makes re-sends one payment: the same signed authorization."""
    return "" if payment.payload is None else payment.payload.payload.signature.lower()


@catalog.check(
    "CLI-050",
    "a payment-identifier the client sends is valid: " + ID_RULE,
    spec_must(SPEC + " `id` Format"),
)
def valid_ids(session: ClientSession) -> Verdict:
    if not session.made_requests:
        return error(NO_REQUEST)
    sent = [(p, _sent_id(p)) for p in payments(session)]
    with_id = [(p, i) for p, i in sent if i is not None]
    if not with_id:
        return not_applicable("the client sent no payment-identifier")
    bad = [(p, i) for p, i in with_id if not is_valid_id(i)]
    if bad:
        return failed(f"an invalid id {bad[0][1]!r}", sent=bad[0][0].shown(), expected=ID_RULE)
    return passed(f"{len(with_id)} payment(s) with a valid id")


@catalog.check(
    "CLI-051",
    "one payment-identifier per payment: its re-sends reuse it, no other payment shares it",
    spec_should(SPEC + " Responsibilities (client: generates unique id, reuses it on retries)"),
)
def one_id_per_payment(session: ClientSession) -> Verdict:
    if not session.made_requests:
        return error(NO_REQUEST)
    made = [p for p in payments(session) if p.payload is not None]
    if not any(_sent_id(p) is not None for p in made):
        return not_applicable("the client sent no payment-identifier")
    ids_of: dict[str, set[str]] = defaultdict(set)
    payments_of: dict[str, set[str]] = defaultdict(set)
    for payment in made:
        ids_of[_signed(payment)].add(str(_sent_id(payment)))
        payments_of[str(_sent_id(payment))].add(_signed(payment))
    changed = {a: sorted(i) for a, i in ids_of.items() if len(i) > 1}
    if changed:
        return failed("a re-sent payment changed its id", received=changed)
    shared = {i: len(a) for i, a in payments_of.items() if len(a) > 1 and i != "None"}
    if shared:
        return failed("one id was sent with several payments", received=shared)
    return passed(f"{len(ids_of)} payment(s), each with its own id")


@catalog.check(
    "CLI-052",
    "when the 402 declares the payment-identifier required, the payment carries one",
    spec_must(SPEC + " Responsibilities (client: must provide id if server sets required: true)"),
)
def sends_required_id(session: ClientSession) -> Verdict:
    run = session.run(REQUIRED_SCENARIO)
    if run is None:
        return not_applicable(f"the client was not run through scenario {REQUIRED_SCENARIO!r}")
    if not run.purchases:
        return error(f"the client sent no request in {REQUIRED_SCENARIO!r}", **run.evidence())
    return _required_verdict(session, run)


def _required_verdict(session: ClientSession, run: ScenarioRun) -> Verdict:
    mine = [p for p in payments(session) if p.run is run]
    if not mine:
        return failed("the client never paid an offer that required an id", **run.evidence())
    missing = [p for p in mine if _sent_id(p) is None]
    if missing:
        return failed("a payment without an id", sent=missing[0].shown())
    return passed(f"{len(mine)} payment(s), each with an id")
