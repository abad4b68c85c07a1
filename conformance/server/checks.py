"""The server checks of the offer and the payment: the 402 in each version offered, refusals that
take nothing, settlement headers and replays. The job's own checks are in `jobs.py`."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from conformance.catalog import (
    Source,
    Verdict,
    catalog,
    failed,
    listing_rule,
    not_applicable,
    passed,
    policy,
    spec_must,
    spec_should,
)
from conformance.server.probe import Answer, MissingHeaderError, ServerProbe
from x402_core.headers import PAYMENT_REQUIRED, HeaderError
from x402_core.listing import JOB_STATUSES
from x402_core.models import PaymentRequiredV1, PaymentRequiredV2, SettleResponse

HTTP_V2 = "transports-v2__http.md"
HTTP_V1 = "transports-v1__http.md"
SPEC_V2 = "x402-specification-v2.md"
LISTING = "listing (seed: xgen-images-generate.card.json)"
TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
HEADER_WARN_BYTES = 8 * 1024
HEADER_LIMIT_BYTES = 16 * 1024
OTHER_PAYEE = "0x000000000000000000000000000000000000dEaD"


def _check(check_id: str, title: str, source: Source) -> Callable[..., Any]:
    return catalog.check(check_id, title, source)


def _v2(probe: ServerProbe) -> PaymentRequiredV2 | None:
    offer = probe.offer_v2
    return offer if isinstance(offer, PaymentRequiredV2) else None


def _v1(probe: ServerProbe) -> PaymentRequiredV1 | None:
    offer = probe.offer_v1
    return offer if isinstance(offer, PaymentRequiredV1) else None


def _requirement_field(probe: ServerProbe, v2_field: str, v1_field: str, expected: Any) -> Verdict:
    """Compare one requirement field, in every version offered, with the listing."""
    seen: dict[str, Any] = {}
    if (offer := _v2(probe)) is not None:
        seen["v2"] = [getattr(a, v2_field) for a in offer.accepts]
    if (offer1 := _v1(probe)) is not None:
        seen["v1"] = [getattr(a, v1_field) for a in offer1.accepts]
    if not seen:
        return failed("no offer could be read (see SRV-002, SRV-003)", **probe.unpaid.evidence())
    norm = _normal(expected)
    wrong = {v: vals for v, vals in seen.items() if any(_normal(x) != norm for x in vals)}
    if wrong:
        return failed(f"{v2_field} differs from the listing", expected=expected, received=wrong)
    return passed(f"{v2_field} is the listing's", expected=expected, received=seen)


def _normal(value: Any) -> Any:
    return value.lower() if isinstance(value, str) and value.startswith("0x") else value


@_check(
    "SRV-001",
    "a valid unpaid request is answered 402",
    spec_must(HTTP_V2 + " Payment Required Signaling (HTTP 402)"),
)
def unpaid_is_402(probe: ServerProbe) -> Verdict:
    answer = probe.unpaid
    ok = answer.status == 402
    return (passed if ok else failed)(
        f"answered {answer.status}", expected=402, **answer.evidence()
    )


@_check(
    "SRV-002",
    "the 402 carries PAYMENT-REQUIRED: base64 JSON of a v2 PaymentRequired",
    spec_must(HTTP_V2 + " PAYMENT-REQUIRED; " + SPEC_V2 + " §5.1 (x402Version must be 2)"),
)
def v2_header(probe: ServerProbe) -> Verdict:
    offer = probe.offer_v2
    if isinstance(offer, HeaderError):
        if isinstance(offer, MissingHeaderError) and _v1(probe) is not None:
            return not_applicable("the server offers x402 v1 only (no PAYMENT-REQUIRED)")
        return failed(f"{offer.reason}: {offer.message}", **probe.unpaid.evidence())
    if not offer.accepts:
        return failed("accepts is empty", received=offer.wire())
    return passed("decodes as a v2 PaymentRequired", received=offer.wire())


@_check(
    "SRV-003",
    "the 402 body is a v1 PaymentRequired, for v1 clients",
    spec_should(HTTP_V1 + " Payment Required Signaling (v1 clients read the body)"),
)
def v1_body(probe: ServerProbe) -> Verdict:
    offer = probe.offer_v1
    if isinstance(offer, ValueError):
        return failed(f"the body is not a v1 PaymentRequired: {offer}", **probe.unpaid.evidence())
    if not offer.accepts:
        return failed("accepts is empty", received=probe.unpaid.body)
    return passed("the body is a v1 PaymentRequired", received=probe.unpaid.body)


@_check(
    "SRV-004",
    "the price is the listing's, as a canonical atomic amount",
    listing_rule(LISTING + " maxAmountRequired"),
)
def price(probe: ServerProbe) -> Verdict:
    return _requirement_field(probe, "amount", "max_amount_required", str(probe.listing.amount))


@_check("SRV-005", "the asset is USDC of the listing's network", listing_rule(LISTING + " asset"))
def asset(probe: ServerProbe) -> Verdict:
    return _requirement_field(probe, "asset", "asset", probe.listing.asset)


@_check("SRV-006", "payTo is the listing's", listing_rule(LISTING + " payTo"))
def pay_to(probe: ServerProbe) -> Verdict:
    return _requirement_field(probe, "pay_to", "pay_to", probe.listing.pay_to)


@_check(
    "SRV-007",
    "the network is the listing's (CAIP-2 in v2, name in v1)",
    listing_rule(LISTING + " network; " + SPEC_V2 + " §11.1 Network Identifiers"),
)
def network(probe: ServerProbe) -> Verdict:
    offer, offer1 = _v2(probe), _v1(probe)
    seen = {
        "v2": [a.network for a in offer.accepts] if offer else None,
        "v1": [a.network for a in offer1.accepts] if offer1 else None,
    }
    want = {"v2": probe.listing.network.caip2, "v1": probe.listing.network.name}
    wrong = {v: n for v, n in seen.items() if n is not None and any(x != want[v] for x in n)}
    if not any(seen.values()):
        return failed("no offer could be read", **probe.unpaid.evidence())
    return (failed if wrong else passed)("networks", expected=want, received=seen)


@_check(
    "SRV-008", "maxTimeoutSeconds is the listing's", listing_rule(LISTING + " maxTimeoutSeconds")
)
def timeout(probe: ServerProbe) -> Verdict:
    seconds = probe.listing.max_timeout_seconds
    return _requirement_field(probe, "max_timeout_seconds", "max_timeout_seconds", seconds)


@_check(
    "SRV-009",
    "extra gives the token's EIP-712 name and version",
    spec_should("scheme_exact_evm.md §1 (the domain a client signs under; extra is optional)"),
)
def extra(probe: ServerProbe) -> Verdict:
    return _requirement_field(probe, "extra", "extra", probe.listing.extra)


@_check(
    "SRV-010",
    "the v1 offer describes the resource: resource, description, mimeType, outputSchema",
    spec_should("x402-specification-v1.md §5.1.2 (mimeType, outputSchema optional)"),
)
def v1_description(probe: ServerProbe) -> Verdict:
    offer = _v1(probe)
    if offer is None:
        return not_applicable("no v1 offer (see SRV-003)")
    missing = [
        name
        for a in offer.accepts
        for name, value in (
            ("resource", a.resource),
            ("description", a.description),
            ("mimeType", a.mime_type),
            ("outputSchema", a.output_schema),
        )
        if not value
    ]
    return (failed if missing else passed)(
        f"missing: {missing}" if missing else "all present", received=probe.unpaid.body
    )


@_check(
    "SRV-011",
    "an invalid body is refused with 400 before any payment is asked",
    policy("validate the request before money moves (the listing's required body fields)"),
)
def invalid_body_first(probe: ServerProbe) -> Verdict:
    answer = probe.send(probe.invalid_request)
    ok = answer.status == 400
    return (passed if ok else failed)(
        f"answered {answer.status}", expected=400, **answer.evidence()
    )


@_check(
    "SRV-012",
    "an invalid body sent with a valid payment takes nothing: the payment stays usable",
    policy("no charge without a job"),
)
def invalid_body_takes_nothing(probe: ServerProbe) -> Verdict:
    refused, reused = probe.invalid_body_with_payment
    evidence = {
        "sent": [refused.evidence()["sent"], reused.evidence()["sent"]],
        "received": [refused.evidence()["received"], reused.evidence()["received"]],
    }
    if refused.status != 400:
        return failed(f"the invalid body was answered {refused.status}", expected=400, **evidence)
    if reused.status != 200:
        return failed(f"the same payment then failed ({reused.status}): it was taken", **evidence)
    return passed("refused with 400; the same payment later bought a job", **evidence)


@_check(
    "SRV-013",
    "a malformed payment header is refused with 400",
    spec_should(HTTP_V2 + " Error Handling (Invalid Payment: 400)"),
)
def malformed_header(probe: ServerProbe) -> Verdict:
    answers = [
        probe.send(probe.valid_request, {name: "%%% not base64 %%%"})
        for name in _header_names(probe)
    ]
    wrong = [a for a in answers if a.status != 400]
    evidence = _evidence(answers)
    if wrong:
        return failed(f"answered {[a.status for a in answers]}", expected=400, **evidence)
    return passed("answered 400", **evidence)


def _header_names(probe: ServerProbe) -> list[str]:
    return ["PAYMENT-SIGNATURE" if v == 2 else "X-PAYMENT" for v in probe.versions] or [
        "PAYMENT-SIGNATURE"
    ]


def _evidence(answers: list[Answer]) -> dict[str, Any]:
    if len(answers) == 1:
        return answers[0].evidence()
    return {
        "sent": [a.evidence()["sent"] for a in answers],
        "received": [a.evidence()["received"] for a in answers],
    }


def _refusal_problem(probe: ServerProbe, answer: Answer, what: str) -> str | None:
    """What is wrong with the answer to a payment that must be refused, or None."""
    if answer.status != 402:
        return f"{what}: answered {answer.status}, expected 402"
    if answer.json_field("id") is not None or "location" in answer.headers:
        return f"{what}: refused, yet a job was named"
    reasons = set(answer.reasons())
    if not answer.has_settlement_header() and reasons and reasons <= probe.unpaid_reasons():
        return (
            f"{what}: answered as if no payment had been sent ({sorted(reasons) or 'no reason'}, "
            "as to the unpaid request): the payment header was not read"
        )
    return None


def _refused_payment(probe: ServerProbe, what: str, **changes: Any) -> Verdict:
    """Pay in every version offered with `changes` to the terms: each must be refused."""
    if not probe.versions:
        return failed("no offer could be read (see SRV-002, SRV-003)", **probe.unpaid.evidence())
    answers = [probe.send(probe.valid_request, probe.payment(v, **changes)) for v in probe.versions]
    for answer in answers:
        problem = _refusal_problem(probe, answer, what)
        if problem is not None:
            return failed(problem, **_evidence(answers))
    versions = ", ".join(f"v{v}" for v in probe.versions)
    return passed(f"{what}: 402, no job ({versions})", **_evidence(answers))


@_check(
    "SRV-014",
    "an underpaying payment is refused with 402 and creates no job",
    spec_must(SPEC_V2 + " §6.1.2 Amount Validation"),
)
def underpaid(probe: ServerProbe) -> Verdict:
    return _refused_payment(probe, "value one unit short", amount=str(probe.listing.amount - 1))


@_check(
    "SRV-015",
    "an expired payment is refused with 402 and creates no job",
    spec_must(SPEC_V2 + " §6.1.2 Time Window Check"),
)
def expired(probe: ServerProbe) -> Verdict:
    return _refused_payment(probe, "expired an hour ago", now=int(time.time()) - 3600)


@_check(
    "SRV-016",
    "a payment to another payee is refused with 402 and creates no job",
    spec_must(SPEC_V2 + " §6.1.2 Parameter Matching"),
)
def wrong_payee(probe: ServerProbe) -> Verdict:
    return _refused_payment(probe, "paid to 0x…dEaD", pay_to=OTHER_PAYEE)


@_check(
    "SRV-017",
    "a refused payment's 402 names the reason (body `error`, PAYMENT-REQUIRED or the settlement)",
    spec_should(SPEC_V2 + " §9 Error Handling (codes that may be returned)"),
)
def refusal_reason(probe: ServerProbe) -> Verdict:
    if not probe.versions:
        return failed("no offer could be read (see SRV-002, SRV-003)", **probe.unpaid.evidence())
    amount = str(probe.listing.amount - 1)
    answers = [
        probe.send(probe.valid_request, probe.payment(v, amount=amount)) for v in probe.versions
    ]
    for answer in answers:
        reasons = set(answer.reasons()) - probe.unpaid_reasons()
        if answer.status != 402 or not reasons:
            return failed(
                f"answered {answer.status} with no reason beyond the unpaid one "
                f"({sorted(answer.reasons())})",
                **_evidence(answers),
            )
    return passed(
        "reasons: " + ", ".join(sorted({r for a in answers for r in a.reasons()})),
        **_evidence(answers),
    )


@_check(
    "SRV-018",
    "a valid payment is answered 200 with what the listing's output requires (a job: id, status)",
    listing_rule(LISTING + " output (required fields)"),
)
def paid_answer(probe: ServerProbe) -> Verdict:
    answer = probe.paid
    required = probe.listing.output_schema.get("required", [])
    body = answer.body if isinstance(answer.body, dict) else {}
    missing = [name for name in required if name not in body]
    if answer.status != 200 or missing:
        return failed(
            f"answered {answer.status}; missing {', '.join(missing) or 'nothing'}",
            expected=f"200 with {', '.join(required) or 'a JSON object'}",
            **answer.evidence(),
        )
    if not probe.listing.is_job:
        return passed(f"answered 200 with {', '.join(required)}", **answer.evidence())
    job_id, status = answer.json_field("id"), answer.json_field("status")
    ok = isinstance(job_id, str) and bool(job_id) and status in JOB_STATUSES
    return (passed if ok else failed)(
        f"answered {answer.status}, job {job_id!r} {status!r}", **answer.evidence()
    )


def _settled(probe: ServerProbe, version: int) -> Verdict:
    answer = probe.paid_in(version)
    if answer is None:
        return not_applicable(f"the server offers no v{version} requirements")
    if answer.status != 200:
        return failed(f"the paid request was answered {answer.status}", **answer.evidence())
    settlement = probe.settlement(answer, version)
    if isinstance(settlement, HeaderError):
        return failed(f"{settlement.reason}: {settlement.message}", **answer.evidence())
    wire = settlement.wire()
    if not isinstance(settlement, SettleResponse) or not settlement.success:
        return failed("the settlement header does not say success", received=wire)
    if not TX_HASH.match(settlement.transaction or ""):
        return failed("the settlement names no transaction hash", received=wire)
    chain = probe.chain
    if chain is not None and not chain.transaction_succeeded(settlement.transaction):
        return failed("the transaction it names did not succeed on chain", received=wire)
    return passed(f"settled in {settlement.transaction}", received=wire)


@_check(
    "SRV-019",
    "a paid v2 answer carries PAYMENT-RESPONSE: a successful settlement",
    spec_must(HTTP_V2 + " Settlement Response Delivery; " + SPEC_V2 + " §5.3"),
)
def settlement_v2(probe: ServerProbe) -> Verdict:
    return _settled(probe, 2)


@_check(
    "SRV-020",
    "a valid v1 payment (X-PAYMENT) gets a job and X-PAYMENT-RESPONSE",
    spec_must(HTTP_V1 + " Settlement Response Delivery"),
)
def settlement_v1(probe: ServerProbe) -> Verdict:
    return _settled(probe, 1)


@_check(
    "SRV-022",
    "a replayed payment returns the same job and is not charged again",
    policy("re-sending a payment with the same request returns what it bought"),
)
def replay(probe: ServerProbe) -> Verdict:
    first = probe.paid
    if first.status != 200:
        return not_applicable("the first payment did not buy a job (see SRV-018)")
    again, rise = probe.replayed
    evidence = {"received": {"first": first.body, "replay": again.body, "payee balance rise": rise}}
    if again.status != 200 or again.json_field("id") != first.json_field("id"):
        return failed(f"the replay was answered {again.status} with another or no job", **evidence)
    if probe.settlement_header(again) != probe.settlement_header(first):
        return failed("the replay's settlement header differs from the first", **evidence)
    if rise not in (None, 0):
        return failed(f"the payee was paid again ({rise} more)", **evidence)
    return passed(
        "same job, same settlement" + ("" if rise is None else ", no second charge"), **evidence
    )


def _header_size(probe: ServerProbe, limit: int) -> Verdict:
    value = probe.unpaid.headers.get(PAYMENT_REQUIRED.lower())
    if value is None:
        return not_applicable("no PAYMENT-REQUIRED header (see SRV-002)")
    size = len(value.encode())
    note = f"PAYMENT-REQUIRED is {size:,} bytes; limit {limit:,}"
    return (passed if size <= limit else failed)(note, received=size, expected=f"≤ {limit}")


@_check(
    "SRV-030",
    "PAYMENT-REQUIRED fits in 8 KB (common proxies' default header buffer)",
    policy("nginx's and most proxies' default header buffer is 8 KB"),
)
def header_fits_proxies(probe: ServerProbe) -> Verdict:
    return _header_size(probe, HEADER_WARN_BYTES)


@_check(
    "SRV-031",
    "PAYMENT-REQUIRED fits in 16 KB (Node.js's limit on all headers of an answer)",
    policy("Node.js clients (fetch, axios) refuse answers whose headers exceed 16 KB"),
)
def header_fits_node(probe: ServerProbe) -> Verdict:
    return _header_size(probe, HEADER_LIMIT_BYTES)
