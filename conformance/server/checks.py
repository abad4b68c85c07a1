"""The server checks: the 402 offer in both versions, the order of a paid request, refusals that
take nothing, jobs and their statuses, images, and replays that are never charged twice."""

from __future__ import annotations

import functools
import re
import struct
import time
from collections.abc import Callable
from typing import Any

from conformance.catalog import Level, Verdict, catalog, failed, not_applicable, passed
from conformance.server.probe import INVALID_BODY, VALID_BODY, Answer, ServerProbe, StatusTrail
from x402_core.headers import HeaderError
from x402_core.jobstatus import is_path
from x402_core.models import PaymentRequiredV1, PaymentRequiredV2, SettleResponse

HTTP_V2 = "transports-v2__http.md"
HTTP_V1 = "transports-v1__http.md"
SPEC_V2 = "x402-specification-v2.md"
LISTING = "listing (seed: xgen-images-generate.card.json)"
TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STATUS_FIELDS = (
    "id",
    "status",
    "model",
    "prompt",
    "resolution",
    "aspect_ratio",
    "created_at",
    "updated_at",
)


def _check(check_id: str, level: Level, title: str, spec: str) -> Any:
    return catalog.check(check_id, level, title, spec)


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


@_check("SRV-001", Level.MUST, "a valid unpaid request is answered 402", HTTP_V2 + " §402")
def unpaid_is_402(probe: ServerProbe) -> Verdict:
    answer = probe.unpaid
    ok = answer.status == 402
    return (passed if ok else failed)(
        f"answered {answer.status}", expected=402, **answer.evidence()
    )


@_check(
    "SRV-002",
    Level.MUST,
    "the 402 carries PAYMENT-REQUIRED: base64 JSON of a v2 PaymentRequired",
    HTTP_V2 + " PAYMENT-REQUIRED",
)
def v2_header(probe: ServerProbe) -> Verdict:
    offer = probe.offer_v2
    if isinstance(offer, HeaderError):
        return failed(f"{offer.reason}: {offer.message}", **probe.unpaid.evidence())
    if offer.x402_version != 2 or not offer.accepts:
        return failed("x402Version is not 2 or accepts is empty", received=offer.wire())
    return passed("decodes as a v2 PaymentRequired", received=offer.wire())


@_check(
    "SRV-003",
    Level.SHOULD,
    "the 402 body is a v1 PaymentRequired, for v1 clients",
    HTTP_V1 + " 402 body",
)
def v1_body(probe: ServerProbe) -> Verdict:
    offer = probe.offer_v1
    if isinstance(offer, ValueError):
        return failed(f"the body is not a v1 PaymentRequired: {offer}", **probe.unpaid.evidence())
    if offer.x402_version != 1 or not offer.accepts:
        return failed("x402Version is not 1 or accepts is empty", received=probe.unpaid.body)
    return passed("the body is a v1 PaymentRequired", received=probe.unpaid.body)


@_check(
    "SRV-004",
    Level.MUST,
    "the price is the listing's, as a canonical atomic amount",
    LISTING + " maxAmountRequired",
)
def price(probe: ServerProbe) -> Verdict:
    return _requirement_field(probe, "amount", "max_amount_required", str(probe.listing.amount))


@_check("SRV-005", Level.MUST, "the asset is USDC of the listing's network", LISTING + " asset")
def asset(probe: ServerProbe) -> Verdict:
    return _requirement_field(probe, "asset", "asset", probe.listing.asset)


@_check("SRV-006", Level.MUST, "payTo is the listing's", LISTING + " payTo")
def pay_to(probe: ServerProbe) -> Verdict:
    return _requirement_field(probe, "pay_to", "pay_to", probe.listing.pay_to)


@_check(
    "SRV-007",
    Level.MUST,
    "the network is the listing's (CAIP-2 in v2, name in v1)",
    SPEC_V2 + " §11.1 Network Identifiers",
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
    "SRV-008", Level.SHOULD, "maxTimeoutSeconds is the listing's", LISTING + " maxTimeoutSeconds"
)
def timeout(probe: ServerProbe) -> Verdict:
    seconds = probe.listing.max_timeout_seconds
    return _requirement_field(probe, "max_timeout_seconds", "max_timeout_seconds", seconds)


@_check(
    "SRV-009",
    Level.MUST,
    "extra gives the token's EIP-712 name and version",
    "scheme_exact_evm.md §1 Phase 1",
)
def extra(probe: ServerProbe) -> Verdict:
    return _requirement_field(probe, "extra", "extra", probe.listing.extra)


@_check(
    "SRV-010",
    Level.SHOULD,
    "the v1 offer describes the resource: resource, description, mimeType, outputSchema",
    HTTP_V1 + " PaymentRequirements",
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
    Level.MUST,
    "an invalid body is refused with 400 before any payment is asked",
    LISTING + " input schema",
)
def invalid_body_first(probe: ServerProbe) -> Verdict:
    answer = probe.post(INVALID_BODY)
    ok = answer.status == 400
    return (passed if ok else failed)(
        f"answered {answer.status}", expected=400, **answer.evidence()
    )


@_check(
    "SRV-012",
    Level.MUST,
    "an invalid body sent with a valid payment takes nothing: the payment stays usable",
    LISTING + " input schema",
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
    Level.MUST,
    "a malformed payment header is refused with 400",
    HTTP_V2 + " PAYMENT-SIGNATURE",
)
def malformed_header(probe: ServerProbe) -> Verdict:
    answer = probe.post(VALID_BODY, {"PAYMENT-SIGNATURE": "%%% not base64 %%%"})
    ok = answer.status == 400
    return (passed if ok else failed)(
        f"answered {answer.status}", expected=400, **answer.evidence()
    )


def _refused_payment(probe: ServerProbe, headers: dict[str, str], what: str) -> Verdict:
    answer = probe.post(VALID_BODY, headers)
    if answer.status != 402:
        return failed(f"{what}: answered {answer.status}", expected=402, **answer.evidence())
    if answer.json_field("id") is not None or "location" in answer.headers:
        return failed(f"{what}: refused, yet a job was named", **answer.evidence())
    return passed(f"{what}: 402, no job", **answer.evidence())


@_check(
    "SRV-014",
    Level.MUST,
    "an underpaying payment is refused with 402 and creates no job",
    SPEC_V2 + " §6.1.2 Amount Validation",
)
def underpaid(probe: ServerProbe) -> Verdict:
    amount = str(probe.listing.amount - 1)
    return _refused_payment(probe, probe.payment_v2(amount=amount), "value one unit short")


@_check(
    "SRV-015",
    Level.MUST,
    "an expired payment is refused with 402 and creates no job",
    SPEC_V2 + " §6.1.2 Time Window Check",
)
def expired(probe: ServerProbe) -> Verdict:
    return _refused_payment(
        probe, probe.payment_v2(now=int(time.time()) - 3600), "expired an hour ago"
    )


@_check(
    "SRV-016",
    Level.MUST,
    "a payment to another payee is refused with 402 and creates no job",
    SPEC_V2 + " §6.1.2 Parameter Matching",
)
def wrong_payee(probe: ServerProbe) -> Verdict:
    other = "0x000000000000000000000000000000000000dEaD"
    return _refused_payment(probe, probe.payment_v2(pay_to=other), "paid to 0x…dEaD")


@_check(
    "SRV-017",
    Level.SHOULD,
    "a refused payment's 402 names the reason in `error`",
    SPEC_V2 + " §9 Error Handling",
)
def refusal_reason(probe: ServerProbe) -> Verdict:
    answer = probe.post(VALID_BODY, probe.payment_v2(amount=str(probe.listing.amount - 1)))
    reason = answer.json_field("error")
    ok = answer.status == 402 and isinstance(reason, str) and reason != ""
    return (passed if ok else failed)(f"error: {reason!r}", **answer.evidence())


@_check(
    "SRV-018",
    Level.MUST,
    "a valid v2 payment is answered 200 with a job id and status",
    LISTING + " output schema",
)
def paid_v2_job(probe: ServerProbe) -> Verdict:
    answer = probe.paid_v2
    job_id, status = answer.json_field("id"), answer.json_field("status")
    ok = (
        answer.status == 200
        and isinstance(job_id, str)
        and bool(job_id)
        and status in ("pending", "processing", "completed", "failed")
    )
    return (passed if ok else failed)(
        f"answered {answer.status}, job {job_id!r} {status!r}", **answer.evidence()
    )


def _settled(probe: ServerProbe, answer: Answer, version: int) -> Verdict:
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
    Level.MUST,
    "a paid v2 answer carries PAYMENT-RESPONSE: a successful settlement",
    HTTP_V2 + " PAYMENT-RESPONSE",
)
def settlement_v2(probe: ServerProbe) -> Verdict:
    return _settled(probe, probe.paid_v2, 2)


@_check(
    "SRV-020",
    Level.MUST,
    "a valid v1 payment (X-PAYMENT) gets a job and X-PAYMENT-RESPONSE",
    HTTP_V1 + " X-PAYMENT-RESPONSE",
)
def settlement_v1(probe: ServerProbe) -> Verdict:
    if _v1(probe) is None:
        return not_applicable("the server offers no v1 requirements (see SRV-003)")
    return _settled(probe, probe.paid_v1, 1)


@_check(
    "SRV-021",
    Level.SHOULD,
    "the paid answer's Location is the job's status URL",
    LISTING + " output schema",
)
def location(probe: ServerProbe) -> Verdict:
    answer = probe.paid_v2
    job_id = answer.json_field("id")
    where = answer.headers.get("location", "")
    ok = isinstance(job_id, str) and where.rstrip("/").endswith(f"/{job_id}")
    return (passed if ok else failed)(f"Location: {where!r}", **answer.evidence())


@_check(
    "SRV-022",
    Level.MUST,
    "a replayed payment returns the same job and is not charged again",
    SPEC_V2 + " §10.1 Replay Attack Prevention",
)
def replay(probe: ServerProbe) -> Verdict:
    first = probe.paid_v2
    if first.status != 200:
        return not_applicable("the first payment did not buy a job (see SRV-018)")
    again, rise = probe.replayed_v2
    evidence = {"received": {"first": first.body, "replay": again.body, "payee balance rise": rise}}
    if again.status != 200 or again.json_field("id") != first.json_field("id"):
        return failed(f"the replay was answered {again.status} with another or no job", **evidence)
    if probe.settlement_header(again, 2) != probe.settlement_header(first, 2):
        return failed("the replay's settlement header differs from the first", **evidence)
    if rise not in (None, 0):
        return failed(f"the payee was paid again ({rise} more)", **evidence)
    return passed(
        "same job, same settlement" + ("" if rise is None else ", no second charge"), **evidence
    )


def _on_trail(
    grade: Callable[[ServerProbe, StatusTrail], Verdict],
) -> Callable[[ServerProbe], Verdict]:
    """A check of the bought job's status trail; not applicable when no job was bought."""

    @functools.wraps(grade)
    def on_trail(probe: ServerProbe) -> Verdict:
        try:
            trail = probe.trail
        except Exception as exc:  # the paid request itself failed: its own checks say how
            return not_applicable(f"no job was bought (see SRV-018): {exc}")
        if trail is None:
            return not_applicable("no job was bought (see SRV-018)")
        return grade(probe, trail)

    return on_trail


@_check(
    "SRV-023",
    Level.MUST,
    "job statuses move only along pending → processing → completed | failed",
    LISTING + " output schema",
)
@_on_trail
def transitions(probe: ServerProbe, trail: StatusTrail) -> Verdict:
    ok = is_path(trail.statuses) and not trail.timed_out
    note = f"observed {trail.statuses}" + (
        " (timed out before a terminal status)" if trail.timed_out else ""
    )
    return (passed if ok else failed)(note, received=trail.statuses)


@_check("SRV-024", Level.MUST, "a terminal status never changes", LISTING + " output schema")
@_on_trail
def terminal_sticks(probe: ServerProbe, trail: StatusTrail) -> Verdict:
    if trail.timed_out:
        return not_applicable("the job never became terminal (see SRV-023)")
    final = trail.statuses[-1]
    ok = all(s == final for s in trail.after_terminal)
    return (passed if ok else failed)(
        f"{final}, then {trail.after_terminal}", received=trail.after_terminal
    )


@_check(
    "SRV-025",
    Level.SHOULD,
    "status answers carry Retry-After while the job runs",
    LISTING + " polling",
)
@_on_trail
def retry_after(probe: ServerProbe, trail: StatusTrail) -> Verdict:
    if not trail.retry_after_while_running:
        return not_applicable("the job was terminal at the first poll")
    ok = all(v is not None and v.strip().isdigit() for v in trail.retry_after_while_running)
    return (passed if ok else failed)(
        "Retry-After values", received=trail.retry_after_while_running
    )


@_check(
    "SRV-026",
    Level.SHOULD,
    "status answers carry id, status, model, prompt, resolution, aspect_ratio, times",
    LISTING + " output schema",
)
@_on_trail
def status_fields(probe: ServerProbe, trail: StatusTrail) -> Verdict:
    missing = [f for f in STATUS_FIELDS if trail.final.json_field(f) is None]
    return (failed if missing else passed)(
        f"missing: {missing}" if missing else "all present", received=trail.final.body
    )


@_check(
    "SRV-027",
    Level.MUST,
    "a completed job's images download as PNGs of the size they claim",
    LISTING + " output schema",
)
@_on_trail
def images(probe: ServerProbe, trail: StatusTrail) -> Verdict:
    job = trail.final.body if isinstance(trail.final.body, dict) else {}
    if job.get("status") != "completed":
        return not_applicable(f"the job ended {job.get('status')!r}, not completed")
    claims = job.get("images")
    if not isinstance(claims, list) or not claims:
        return failed("a completed job lists no images", received=job)
    seen = []
    for claim in claims:
        answer = probe.request("GET", str(claim.get("url")))
        size = _png_size(answer.content)
        seen.append({"url": claim.get("url"), "status": answer.status, "png size": size})
        if answer.status != 200 or size != (claim.get("width"), claim.get("height")):
            return failed("an image is not the PNG it claims to be", expected=claims, received=seen)
    return passed(f"{len(seen)} PNG(s) as claimed", received=seen)


def _png_size(content: bytes) -> tuple[int, int] | None:
    if not content.startswith(PNG_SIGNATURE) or content[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", content[16:24])


@_check("SRV-028", Level.MUST, "an unknown job id is answered 404", LISTING + " output schema")
def unknown_id(probe: ServerProbe) -> Verdict:
    answer = probe.request("GET", probe.status_url("no-such-job-0000"))
    ok = answer.status == 404
    return (passed if ok else failed)(
        f"answered {answer.status}", expected=404, **answer.evidence()
    )


@_check(
    "SRV-029",
    Level.MUST,
    "a failed job ends `failed` with an error code and message",
    LISTING + " output schema",
)
@_on_trail
def failure_shape(probe: ServerProbe, trail: StatusTrail) -> Verdict:
    job = trail.final.body if isinstance(trail.final.body, dict) else {}
    if job.get("status") != "failed":
        return not_applicable("the job did not fail")
    error = job.get("error")
    ok = isinstance(error, dict) and bool(error.get("code")) and bool(error.get("message"))
    return (passed if ok else failed)("error: {code, message}", received=job)
