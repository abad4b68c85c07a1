"""The client checks, computed from what the mock saw while the client ran through scenarios."""

from __future__ import annotations

import functools
import itertools
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from conformance.catalog import Level, Verdict, catalog, failed, not_applicable, passed
from conformance.client.session import ClientSession, ScenarioRun
from x402_core.eip3009 import Authorization, Domain, SignatureError, recover_signer, transfer_digest
from x402_core.headers import decode_json_header
from x402_core.models import PaymentPayloadV1, PaymentPayloadV2, PaymentRequirementsV2
from x402_core.models.convert import requirements_v1_to_v2
from x402_core.networks import network_by_caip2

E2E = "e2e__text-client-protocol.txt"
HTTP_V2 = "transports-v2__http.md"
EVM = "scheme_exact_evm.md §1 Phase 1"
LISTING = "listing: polling (Retry-After)"
SKEW_SECONDS = 30
RETRY_AFTER_TOLERANCE = 0.25


def _in(
    scenario: str,
) -> Callable[
    [Callable[[ClientSession, ScenarioRun], Verdict]], Callable[[ClientSession], Verdict]
]:
    """A check of one scenario's run; not applicable when the client was not run through it."""

    def wrap(
        grade: Callable[[ClientSession, ScenarioRun], Verdict],
    ) -> Callable[[ClientSession], Verdict]:
        @functools.wraps(grade)
        def in_scenario(session: ClientSession) -> Verdict:
            run = session.run(scenario)
            if run is None:
                return not_applicable(f"the client was not run through scenario {scenario!r}")
            return grade(session, run)

        return in_scenario

    return wrap


def _payments(session: ClientSession) -> list[tuple[str, dict[str, Any], Any]]:
    """(scenario, journal entry, decoded payload) of every paid request the client made."""
    decoded = []
    for scenario, entry in session.all_paid():
        version = entry.get("payment_version")
        model = PaymentPayloadV2 if version == 2 else PaymentPayloadV1
        payload = model.model_validate(entry["payment"]) if entry.get("payment") else None
        decoded.append((scenario, entry, payload))
    return decoded


def _each_payment(
    title: str, judge: Callable[[ClientSession, dict[str, Any], Any], str | None]
) -> Callable[[ClientSession], Verdict]:
    """A check every payment must pass; `judge` names what is wrong, or None."""

    def grade(session: ClientSession) -> Verdict:
        payments = [(s, e, p) for s, e, p in _payments(session) if p is not None]
        if not payments:
            return not_applicable("the client made no payment that decodes (see CLI-002)")
        for scenario, entry, payload in payments:
            problem = judge(session, entry, payload)
            if problem is not None:
                return failed(problem, sent={"scenario": scenario, "payment": payload.wire()})
        return passed(f"{title}: {len(payments)} payment(s)")

    return grade


@catalog.check(
    "CLI-001", Level.MUST, "pays for the image and reports success (exit 0, JSON result)", E2E
)
@_in("quick")
def happy_path(session: ClientSession, run: ScenarioRun) -> Verdict:
    ok = run.run.success and run.run.exit_code == 0 and len(run.paid) >= 1
    return (passed if ok else failed)("the paid request and its report", **run.evidence())


@catalog.check(
    "CLI-002",
    Level.MUST,
    "every payment header decodes as the version it is sent under",
    HTTP_V2 + " PAYMENT-SIGNATURE",
)
def headers_decode(session: ClientSession) -> Verdict:
    paid = session.all_paid()
    if not paid:
        return not_applicable("the client never paid")
    bad = [(s, e["headers"]) for s, e in paid if e.get("payment") is None]
    if bad:
        return failed("a payment header did not decode", sent=bad[:2])
    return passed(f"{len(paid)} payment header(s) decode")


def _accepted(session: ClientSession, entry: dict[str, Any], payload: Any) -> str | None:
    if not isinstance(payload, PaymentPayloadV2):
        return None
    offered = session.offer_v2.accepts if session.offer_v2 else []
    return (
        None if payload.accepted in offered else "`accepted` is not one of the offered requirements"
    )


def _requirements(session: ClientSession, payload: Any) -> PaymentRequirementsV2 | None:
    """What the payment answers: v2's `accepted`, or the v1 offer (in v2 terms)."""
    if isinstance(payload, PaymentPayloadV2):
        return payload.accepted
    if session.offer_v1 is not None:
        return requirements_v1_to_v2(session.offer_v1.accepts[0])
    return session.offer_v2.accepts[0] if session.offer_v2 else None


def _terms(session: ClientSession, entry: dict[str, Any], payload: Any) -> str | None:
    offer = _requirements(session, payload)
    auth = payload.payload.authorization
    if offer is None:
        return "no offer to compare with"
    if auth.to.lower() != offer.pay_to.lower():
        return f"to is {auth.to}; payTo is {offer.pay_to}"
    if auth.value != offer.amount:
        return f"value is {auth.value}; the amount is {offer.amount}"
    network = payload.accepted.network if isinstance(payload, PaymentPayloadV2) else payload.network
    if network not in (offer.network, network_by_caip2(offer.network).name):
        return f"network is {network}; the offer's is {offer.network}"
    return None


def _signature(session: ClientSession, entry: dict[str, Any], payload: Any) -> str | None:
    offer = _requirements(session, payload)
    if offer is None or not offer.extra:
        return "no offer to take the domain from"
    chain_id = network_by_caip2(offer.network).chain_id
    domain = Domain(offer.extra["name"], offer.extra["version"], chain_id, offer.asset)
    auth = Authorization.from_wire(payload.payload.authorization)
    try:
        signer = recover_signer(
            transfer_digest(domain, auth), bytes.fromhex(payload.payload.signature[2:])
        )
    except SignatureError as exc:
        return f"the signature does not recover: {exc}"
    if signer.lower() != auth.from_address.lower():
        return f"under {domain}, the signature recovers to {signer}, not from={auth.from_address}"
    return None


def _window(session: ClientSession, entry: dict[str, Any], payload: Any) -> str | None:
    offer = _requirements(session, payload)
    auth = payload.payload.authorization
    sent = entry["time"]
    after, before = int(auth.valid_after), int(auth.valid_before)
    longest = (offer.max_timeout_seconds if offer else 300) + SKEW_SECONDS
    if after > sent:
        return f"validAfter {after} is after the request ({sent:.0f})"
    if before <= sent:
        return f"validBefore {before} had passed at the request ({sent:.0f})"
    if before > sent + longest:
        return f"validBefore is {before - sent:.0f} s ahead; at most maxTimeoutSeconds (+{SKEW_SECONDS} s)"  # noqa: E501
    return None


catalog.check(
    "CLI-003",
    Level.MUST,
    "`accepted` is one of the offered requirements, verbatim",
    HTTP_V2 + " PaymentPayload",
)(_each_payment("accepted as offered", _accepted))
catalog.check(
    "CLI-004", Level.MUST, "the authorization pays the amount to payTo on the offered network", EVM
)(_each_payment("terms as offered", _terms))
catalog.check(
    "CLI-005",
    Level.MUST,
    "the signature is EIP-712 under the token's domain (chain id, contract, name, version)",
    EVM,
)(_each_payment("signed under the token's domain", _signature))
catalog.check(
    "CLI-006",
    Level.MUST,
    "validAfter ≤ now < validBefore ≤ now + maxTimeoutSeconds",
    "scheme_exact_evm.md §1 Phase 2",
)(_each_payment("windows within the timeout", _window))


@catalog.check(
    "CLI-007", Level.MUST, "nonces are 32 bytes and never reused", "x402-specification-v2.md §10.1"
)
def nonces(session: ClientSession) -> Verdict:
    paid = [p for _, _, p in _payments(session) if p is not None]
    if not paid:
        return not_applicable("the client never paid")
    counts = Counter(p.payload.authorization.nonce for p in paid)
    reused = [n for n, c in counts.items() if c > 1]
    distinct_bodies = {json.dumps(p.wire(), sort_keys=True) for p in paid}
    if reused and len(distinct_bodies) == len(paid):
        return failed("a nonce was used for two different payments", received=reused)
    return passed(f"{len(counts)} distinct nonce(s)")


@catalog.check(
    "CLI-008",
    Level.MUST,
    "the paid request re-sends the same body as the unpaid one",
    HTTP_V2 + " §payment flow",
)
@_in("quick")
def same_body(session: ClientSession, run: ScenarioRun) -> Verdict:
    if not run.unpaid or not run.paid:
        return not_applicable("no unpaid-then-paid pair")
    first, paid = (
        json.loads(run.unpaid[0]["body"] or "null"),
        json.loads(run.paid[0]["body"] or "null"),
    )
    return (passed if first == paid else failed)("bodies", sent={"unpaid": first, "paid": paid})


@catalog.check("CLI-009", Level.MUST, "pays once per request", "x402-specification-v2.md §2")
@_in("quick")
def pays_once(session: ClientSession, run: ScenarioRun) -> Verdict:
    settled = [e for e in run.paid if e["status"] == 200]
    ok = len(run.paid) == 1 and len(settled) == 1
    return (passed if ok else failed)(f"{len(run.paid)} paid request(s)", **run.evidence())


@catalog.check(
    "CLI-010",
    Level.MUST,
    "does not pay again in a loop when settlement fails, and reports the failure",
    E2E,
)
@_in("settle_fails")
def no_loop_on_failed_settlement(session: ClientSession, run: ScenarioRun) -> Verdict:
    ok = len(run.paid) <= 2 and not run.run.success
    return (passed if ok else failed)(f"{len(run.paid)} paid attempt(s)", **run.evidence())


@catalog.check("CLI-011", Level.MUST, "polls the job until a terminal status, then stops", LISTING)
@_in("quick")
def polls_to_terminal(session: ClientSession, run: ScenarioRun) -> Verdict:
    statuses = [
        json.loads(e["response_body"]).get("status")
        for e in run.polls
        if e["status"] == 200 and e["response_body"]
    ]
    if not statuses or statuses[-1] not in ("completed", "failed"):
        return failed("never saw a terminal status", **run.evidence())
    after = len(statuses) - 1 - statuses.index(statuses[-1])
    return (passed if after == 0 else failed)(f"statuses {statuses}", **run.evidence())


def _gaps(run: ScenarioRun) -> list[tuple[float, float]]:
    """(asked wait, actual gap) between consecutive status polls."""
    gaps = []
    for before, after in itertools.pairwise(run.polls):
        asked = before["response_headers"].get("retry-after")
        if asked is not None and asked.isdigit():
            gaps.append((float(asked), after["time"] - before["time"]))
    return gaps


@catalog.check("CLI-012", Level.SHOULD, "waits as long as Retry-After asks between polls", LISTING)
@_in("quick")
def honours_retry_after(session: ClientSession, run: ScenarioRun) -> Verdict:
    gaps = _gaps(run)
    if not gaps:
        return not_applicable("no poll was answered with Retry-After")
    short = [g for g in gaps if g[1] + RETRY_AFTER_TOLERANCE < g[0]]
    return (failed if short else passed)("(asked, waited) seconds", received=gaps)


@catalog.check("CLI-013", Level.MUST, "backs off on 429 and still completes", LISTING + ", 429")
@_in("rate_limited")
def backs_off_on_429(session: ClientSession, run: ScenarioRun) -> Verdict:
    limited = sum(e["status"] == 429 for e in run.polls)
    ok = run.run.success and limited <= 3
    return (passed if ok else failed)(f"{limited} poll(s) answered 429", **run.evidence())


@catalog.check(
    "CLI-014", Level.MUST, "rides out 503s on the status endpoint and completes", LISTING + ", 503"
)
@_in("status_errors")
def survives_503(session: ClientSession, run: ScenarioRun) -> Verdict:
    return (passed if run.run.success else failed)("completed despite 503s", **run.evidence())


@catalog.check("CLI-015", Level.MUST, "reports a failed job as a failure (exit 1)", E2E)
@_in("fail")
def reports_failed_job(session: ClientSession, run: ScenarioRun) -> Verdict:
    ok = not run.run.success and run.run.exit_code not in (0, None)
    return (passed if ok else failed)("a failed job", **run.evidence())


@catalog.check(
    "CLI-016", Level.MUST, "gives up on a stuck job within its timeout and reports it", E2E
)
@_in("stuck")
def gives_up_on_stuck_job(session: ClientSession, run: ScenarioRun) -> Verdict:
    ok = not run.run.timed_out and not run.run.success and run.run.seconds <= run.timeout + 2
    return (passed if ok else failed)(
        f"gave up after {run.run.seconds:.1f} s (timeout {run.timeout} s)", **run.evidence()
    )


@catalog.check("CLI-017", Level.SHOULD, "downloads the completed job's images", LISTING)
@_in("quick")
def downloads_images(session: ClientSession, run: ScenarioRun) -> Verdict:
    ok = any(e["status"] == 200 for e in run.downloads)
    return (passed if ok else failed)(f"{len(run.downloads)} image download(s)", **run.evidence())


@catalog.check(
    "CLI-018", Level.SHOULD, "reads the settlement: reports the transaction it paid in", E2E
)
@_in("quick")
def reads_settlement(session: ClientSession, run: ScenarioRun) -> Verdict:
    settled = [
        e["response_headers"].get("payment-response")
        or e["response_headers"].get("x-payment-response")
        for e in run.paid
        if e["status"] == 200
    ]
    reported = json.dumps(run.run.result or {})
    transactions = [decode_json_header(h).get("transaction") for h in settled if h]  # type: ignore[union-attr]
    ok = bool(transactions) and all(t and t in reported for t in transactions)
    return (passed if ok else failed)(
        "the settlement's transaction in the result", expected=transactions, received=run.run.result
    )


def _refuses(scenario: str, what: str) -> Callable[[ClientSession], Verdict]:
    @_in(scenario)
    def grade(session: ClientSession, run: ScenarioRun) -> Verdict:
        ok = not run.paid and not run.run.success
        note = f"{what}: {len(run.paid)} payment(s), reported {'success' if run.run.success else 'failure'}"  # noqa: E501
        return (passed if ok else failed)(note, **run.evidence())

    return grade


REFUSALS = "x402-specification-v2.md §5.1 PaymentRequired; the client's own limits"
catalog.check(
    "CLI-019",
    Level.MUST,
    "refuses, without paying, an offer on a network it does not know",
    REFUSALS,
)(_refuses("offer_unknown_network", "unknown network"))
catalog.check(
    "CLI-020",
    Level.MUST,
    "refuses, without paying, an offer in an asset it does not know",
    REFUSALS,
)(_refuses("offer_unknown_asset", "unknown asset"))
catalog.check(
    "CLI-021", Level.MUST, "refuses, without paying, a price above its maximum", REFUSALS
)(_refuses("offer_overpriced", "100 × the price"))
catalog.check(
    "CLI-022",
    Level.MUST,
    "refuses, without paying, a PAYMENT-REQUIRED it cannot read",
    HTTP_V2 + " PAYMENT-REQUIRED",
)(_refuses("offer_malformed", "malformed offer"))


@catalog.check(
    "CLI-023",
    Level.MUST,
    "when the server cannot reach its facilitator (503), reports failure without paying in a loop",
    E2E,
)
@_in("facilitator_down")
def facilitator_down(session: ClientSession, run: ScenarioRun) -> Verdict:
    ok = len(run.paid) <= 2 and not run.run.success
    return (passed if ok else failed)(f"{len(run.paid)} paid attempt(s)", **run.evidence())


@catalog.check(
    "CLI-024",
    Level.MUST,
    "sends one payment header, whose x402Version is its header's (v2 or v1)",
    HTTP_V2 + " PAYMENT-SIGNATURE",
)
def header_matches_version(session: ClientSession) -> Verdict:
    paid = session.all_paid()
    if not paid:
        return not_applicable("the client never paid")
    for scenario, entry in paid:
        headers = entry["headers"]
        if "payment-signature" in headers and "x-payment" in headers:
            return failed(
                "sent PAYMENT-SIGNATURE and X-PAYMENT together",
                sent={"scenario": scenario, "headers": headers},
            )
        expected = 2 if "payment-signature" in headers else 1
        payment = entry.get("payment") or {}
        if payment and payment.get("x402Version") != expected:
            return failed(
                f"x402Version {payment.get('x402Version')} under a v{expected} header",
                sent={"scenario": scenario, "payment": payment},
            )
    return passed(f"{len(paid)} payment(s), one header each, versions consistent")


@catalog.check("CLI-025", Level.SHOULD, "polls only the status URL of the job it bought", LISTING)
@_in("quick")
def polls_own_job(session: ClientSession, run: ScenarioRun) -> Verdict:
    bought = {
        json.loads(e["response_body"]).get("id")
        for e in run.paid
        if e["status"] == 200 and e["response_body"]
    }
    polled = {e["path"].rsplit("/", 1)[-1] for e in run.polls}
    stray = polled - bought
    return (failed if stray else passed)(
        "polled job ids", expected=sorted(bought), received=sorted(polled)
    )
