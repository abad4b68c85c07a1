"""The client checks, computed from what the mock saw while the client ran through scenarios.

A check with no evidence is an error, not a pass: a scenario in which the client sent nothing,
or never reached what the check observes, says so instead of passing.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from conformance.catalog import (
    Source,
    Verdict,
    catalog,
    error,
    failed,
    listing_rule,
    not_applicable,
    passed,
    policy,
    spec_must,
    spec_should,
)
from conformance.client.payments import (
    Judge,
    NotComparable,
    accepted_as_offered,
    payments,
    signed_under_offered_domain,
    terms_as_offered,
    valid_when_sent,
    window_within_timeout,
)
from conformance.client.session import ClientSession, ScenarioRun
from x402_core.headers import decode_json_header

E2E = "e2e__text-client-protocol.txt"
E2E_EXIT = spec_must(E2E + " (exit 0 on success, 1 on failure; JSON result on the last line)")
EVM = "scheme_exact_evm.md §1 EIP-3009"
POLLING = "an asynchronous job is polled until it is terminal"
RETRY_AFTER_TOLERANCE = 0.25
NO_REQUEST = "the client made no request in any scenario: nothing to judge (did it run?)"

ScenarioGrade = Callable[[ClientSession, ScenarioRun], Verdict]


def _check(check_id: str, title: str, source: Source) -> Callable[..., object]:
    return catalog.check(check_id, title, source)


def _in(scenario: str) -> Callable[[ScenarioGrade], Callable[[ClientSession], Verdict]]:
    """A check of one scenario's run: not applicable when the client was not run through it, an
    error when it sent nothing in it (a client that never ran cannot pass)."""

    def wrap(grade: ScenarioGrade) -> Callable[[ClientSession], Verdict]:
        @functools.wraps(grade)
        def in_scenario(session: ClientSession) -> Verdict:
            run = session.run(scenario)
            if run is None:
                return not_applicable(f"the client was not run through scenario {scenario!r}")
            if not run.purchases:
                return error(
                    f"the client sent no request in scenario {scenario!r}: no evidence",
                    **run.evidence(),
                )
            return grade(session, run)

        return in_scenario

    return wrap


def _each_payment(title: str, judge: Judge) -> Callable[[ClientSession], Verdict]:
    """A check every payment must pass, each judged against the offer it answered."""

    def grade(session: ClientSession) -> Verdict:
        if not session.made_requests:
            return error(NO_REQUEST)
        judged = abstained = 0
        reasons: list[str] = []
        for payment in payments(session):
            try:
                problem = judge(payment)
            except NotComparable as exc:
                abstained += 1
                reasons.append(str(exc))
                continue
            judged += 1
            if problem is not None:
                return failed(problem, sent=payment.shown())
        if not judged:
            why = f": {sorted(set(reasons))}" if reasons else ""
            return not_applicable(f"no payment this check can judge{why}")
        return passed(f"{title}: {judged} payment(s)" + (f", {abstained} n/a" if abstained else ""))

    return grade


@_check("CLI-001", "pays for the image and reports success (exit 0, JSON result)", E2E_EXIT)
@_in("quick")
def happy_path(session: ClientSession, run: ScenarioRun) -> Verdict:
    ok = run.run.success and run.run.exit_code == 0 and len(run.paid) >= 1
    return (passed if ok else failed)("the paid request and its report", **run.evidence())


@_check(
    "CLI-002",
    "every payment header decodes as the version it is sent under",
    spec_must("x402-specification-v2.md §5.2 PaymentPayload (required fields)"),
)
def headers_decode(session: ClientSession) -> Verdict:
    if not session.made_requests:
        return error(NO_REQUEST)
    paid = session.all_paid()
    if not paid:
        return not_applicable("the client never paid")
    bad = [(run.scenario, e["headers"]) for run, e in paid if e.get("payment") is None]
    if bad:
        return failed("a payment header did not decode", sent=bad[:2])
    return passed(f"{len(paid)} payment header(s) decode")


catalog.check(
    "CLI-003",
    "`accepted` is one of the requirements offered in the 402 it answers",
    spec_must("x402-specification-v2.md §5.2.2 accepted (the payment method chosen)"),
)(_each_payment("accepted as offered", accepted_as_offered))
catalog.check(
    "CLI-004",
    "the authorization pays the offered amount to payTo on the offered network",
    spec_must("x402-specification-v2.md §6.1.2 Amount Validation, Parameter Matching"),
)(_each_payment("terms as offered", terms_as_offered))
catalog.check(
    "CLI-005",
    "the signature is EIP-712 under the offered token's domain (chain, contract, name, version)",
    spec_must(EVM + " Phase 1 (the signature of transferWithAuthorization)"),
)(_each_payment("signed under the offered domain", signed_under_offered_domain))
catalog.check(
    "CLI-006",
    "the authorization is valid when sent: validAfter ≤ now < validBefore",
    spec_must("x402-specification-v2.md §6.1.2 Time Window Check"),
)(_each_payment("valid when sent", valid_when_sent))
catalog.check(
    "CLI-026",
    "validBefore is at most maxTimeoutSeconds (+30 s) ahead",
    policy(
        "maxTimeoutSeconds bounds the payment's life; the spec does not say it bounds the window"
    ),
)(_each_payment("windows within the timeout", window_within_timeout))


@_check(
    "CLI-007",
    "nonces are 32 bytes and never used for two different payments",
    spec_must("x402-specification-v2.md §5.2.2 nonce, §10.1 Replay Attack Prevention"),
)
def nonces(session: ClientSession) -> Verdict:
    if not session.made_requests:
        return error(NO_REQUEST)
    made = [p.payload for p in payments(session) if p.payload is not None]
    if not made:
        return not_applicable("the client never paid")
    bodies: dict[tuple[str, str], set[str]] = defaultdict(set)
    for payload in made:
        auth = payload.payload.authorization
        bodies[(auth.from_.lower(), auth.nonce.lower())].add(
            json.dumps(payload.wire(), sort_keys=True)
        )
    reused = [nonce for (_, nonce), seen in bodies.items() if len(seen) > 1]
    if reused:
        return failed("a nonce was used for two different payments", received=reused)
    resent = len(made) - len(bodies)
    note = f"{len(bodies)} distinct nonce(s)" + (
        f", {resent} identical re-send(s)" if resent else ""
    )
    return passed(note)


@_check(
    "CLI-008",
    "the paid request re-sends the same body as the unpaid one",
    policy("the payment buys the request the 402 answered, not another"),
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


@_check(
    "CLI-009",
    "pays once per request",
    spec_must("x402-specification-v2.md §2 Core Payment Flow (one authorization per request)"),
)
@_in("quick")
def pays_once(session: ClientSession, run: ScenarioRun) -> Verdict:
    ok = len(run.paid) == 1 and len(run.settled) == 1
    return (passed if ok else failed)(f"{len(run.paid)} paid request(s)", **run.evidence())


def _gave_up(scenario: str, what: str) -> Callable[[ClientSession], Verdict]:
    """Reports failure, without paying in a loop, after a payment that cannot succeed."""

    @_in(scenario)
    def grade(session: ClientSession, run: ScenarioRun) -> Verdict:
        if not run.paid:
            return error(
                f"the client never paid in scenario {scenario!r}: no evidence", **run.evidence()
            )
        ok = len(run.paid) <= 2 and not run.run.success
        return (passed if ok else failed)(
            f"{what}: {len(run.paid)} paid attempt(s)", **run.evidence()
        )

    return grade


catalog.check(
    "CLI-010",
    "does not pay again in a loop when settlement fails, and reports the failure",
    E2E_EXIT,
)(_gave_up("settle_fails", "settlement refused"))
catalog.check(
    "CLI-023",
    "when the server cannot reach its facilitator (503), reports failure without paying in a loop",
    E2E_EXIT,
)(_gave_up("facilitator_down", "facilitator down"))


@_check("CLI-011", "polls the job until a terminal status, then stops", listing_rule(POLLING))
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


@_check(
    "CLI-012",
    "waits as long as Retry-After asks between polls",
    policy("RFC 9110 §10.2.3 Retry-After on status answers"),
)
@_in("quick")
def honours_retry_after(session: ClientSession, run: ScenarioRun) -> Verdict:
    gaps = _gaps(run)
    if not gaps:
        return not_applicable("no poll was answered with Retry-After")
    short = [g for g in gaps if g[1] + RETRY_AFTER_TOLERANCE < g[0]]
    return (failed if short else passed)("(asked, waited) seconds", received=gaps)


@_check(
    "CLI-013",
    "backs off on 429 and still completes",
    policy("RFC 6585 §4 429 Too Many Requests, with Retry-After"),
)
@_in("rate_limited")
def backs_off_on_429(session: ClientSession, run: ScenarioRun) -> Verdict:
    limited = sum(e["status"] == 429 for e in run.polls)
    ok = run.run.success and limited <= 3
    return (passed if ok else failed)(f"{limited} poll(s) answered 429", **run.evidence())


@_check(
    "CLI-014",
    "rides out 503s on the status endpoint and completes",
    policy("a 503 with Retry-After is temporary (RFC 9110 §15.6.4)"),
)
@_in("status_errors")
def survives_503(session: ClientSession, run: ScenarioRun) -> Verdict:
    return (passed if run.run.success else failed)("completed despite 503s", **run.evidence())


def _bought(run: ScenarioRun) -> Verdict | None:
    """An error when the client never bought the scenario's job: it never met what is judged."""
    if run.settled:
        return None
    return error(
        f"the client never bought a job in scenario {run.scenario!r}: no evidence",
        **run.evidence(),
    )


@_check(
    "CLI-015",
    "reports a failed job as a failure (exit 1)",
    listing_rule(POLLING + "; " + E2E + ": exit 1 on failure"),
)
@_in("fail")
def reports_failed_job(session: ClientSession, run: ScenarioRun) -> Verdict:
    if (no_job := _bought(run)) is not None:
        return no_job
    ok = not run.run.success and run.run.exit_code not in (0, None)
    return (passed if ok else failed)("a failed job", **run.evidence())


@_check(
    "CLI-016",
    "gives up on a stuck job within its timeout and reports it",
    policy("X402_TIMEOUT_SECONDS, this harness's extension of the e2e contract"),
)
@_in("stuck")
def gives_up_on_stuck_job(session: ClientSession, run: ScenarioRun) -> Verdict:
    if (no_job := _bought(run)) is not None:
        return no_job
    ok = not run.run.timed_out and not run.run.success and run.run.seconds <= run.timeout + 2
    return (passed if ok else failed)(
        f"gave up after {run.run.seconds:.1f} s (timeout {run.timeout} s)", **run.evidence()
    )


@_check(
    "CLI-017",
    "downloads the completed job's images",
    policy("an image job is bought for its images"),
)
@_in("quick")
def downloads_images(session: ClientSession, run: ScenarioRun) -> Verdict:
    ok = any(e["status"] == 200 for e in run.downloads)
    return (passed if ok else failed)(f"{len(run.downloads)} image download(s)", **run.evidence())


@_check(
    "CLI-018",
    "reads the settlement: reports the transaction it paid in",
    spec_should(E2E + " (payment_response.transaction in the result)"),
)
@_in("quick")
def reads_settlement(session: ClientSession, run: ScenarioRun) -> Verdict:
    settled = [
        e["response_headers"].get("payment-response")
        or e["response_headers"].get("x-payment-response")
        for e in run.settled
    ]
    reported = json.dumps(run.run.result or {})
    transactions = [_json_field(decode_json_header(h), "transaction") for h in settled if h]
    ok = bool(transactions) and all(t and t in reported for t in transactions)
    return (passed if ok else failed)(
        "the settlement's transaction in the result", expected=transactions, received=run.run.result
    )


def _refuses(scenario: str, what: str) -> Callable[[ClientSession], Verdict]:
    @_in(scenario)
    def grade(session: ClientSession, run: ScenarioRun) -> Verdict:
        ok = not run.paid and not run.run.success
        outcome = "success" if run.run.success else "failure"
        note = f"{what}: {len(run.paid)} payment(s), reported {outcome}"
        return (passed if ok else failed)(note, **run.evidence())

    return grade


REFUSALS = "client-side budget and asset limits (out of the spec's scope, §Document Scope)"
catalog.check(
    "CLI-019",
    "refuses, without paying, an offer on a network it does not know",
    policy(REFUSALS),
)(_refuses("offer_unknown_network", "unknown network"))
catalog.check(
    "CLI-020",
    "refuses, without paying, an offer in an asset it does not know",
    policy(REFUSALS),
)(_refuses("offer_unknown_asset", "unknown asset"))
catalog.check("CLI-021", "refuses, without paying, a price above its maximum", policy(REFUSALS))(
    _refuses("offer_overpriced", "100 × the price")
)
catalog.check(
    "CLI-022",
    "refuses, without paying, a PAYMENT-REQUIRED it cannot read",
    policy("an offer that cannot be read cannot be paid as offered"),
)(_refuses("offer_malformed", "malformed offer"))


@_check(
    "CLI-024",
    "each payment header carries its own version: v2 in PAYMENT-SIGNATURE, v1 in X-PAYMENT",
    spec_must("x402-specification-v2.md §5.2.2, v1 §5.2.2: x402Version must be 2 / must be 1"),
)
def header_matches_version(session: ClientSession) -> Verdict:
    if not session.made_requests:
        return error(NO_REQUEST)
    paid = session.all_paid()
    if not paid:
        return not_applicable("the client never paid")
    for run, entry in paid:
        sent = {"scenario": run.scenario, "headers": entry["headers"]}
        for header, version in (("payment-signature", 2), ("x-payment", 1)):
            value = entry["headers"].get(header)
            if value is None:
                continue
            try:
                carried = _json_field(decode_json_header(value), "x402Version")
            except ValueError:
                continue  # does not decode: CLI-002's to judge
            if carried != version:
                return failed(f"x402Version {carried!r} under {header} (v{version})", sent=sent)
    return passed(f"{len(paid)} payment(s), each version under its own header")


@_check(
    "CLI-025",
    "polls only the status URL of the job it bought",
    policy("a client reads only what it bought"),
)
@_in("quick")
def polls_own_job(session: ClientSession, run: ScenarioRun) -> Verdict:
    bought = {json.loads(e["response_body"]).get("id") for e in run.settled if e["response_body"]}
    polled = {e["path"].rsplit("/", 1)[-1] for e in run.polls}
    stray = polled - bought
    return (failed if stray else passed)(
        "polled job ids", expected=sorted(bought), received=sorted(polled)
    )


def _json_field(data: object, name: str) -> Any:
    """A member of a decoded JSON object (None when it is no object)."""
    return data.get(name) if isinstance(data, dict) else None
