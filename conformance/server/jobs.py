"""The server checks of the job a payment bought: its Location, statuses and images."""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable

from conformance.catalog import (
    Verdict,
    catalog,
    failed,
    listing_rule,
    not_applicable,
    passed,
    policy,
)
from conformance.server.probe import ServerProbe, StatusTrail
from x402_core.jobstatus import is_path
from x402_payer.images import PNG_SIGNATURE

LISTING = "listing (seed: xgen-images-generate.card.json)"
JOBS = "an asynchronous job answered at its status URL"
STATUS_TIMES = ("created_at", "updated_at")


def _on_trail(
    grade: Callable[[ServerProbe, StatusTrail], Verdict],
) -> Callable[[ServerProbe], Verdict]:
    """A check of the bought job's status trail; not applicable when no job was bought, or when
    the server has no status route."""

    @functools.wraps(grade)
    def on_trail(probe: ServerProbe) -> Verdict:
        if not probe.listing.is_job:
            return not_applicable("the listing's answer is not a job: the answer is the result")
        try:
            trail = probe.trail
        except Exception as exc:  # the paid request itself failed: its own checks say how
            return not_applicable(f"no job was bought (see SRV-018): {exc}")
        if trail is None:
            return not_applicable("no job was bought (see SRV-018)")
        if trail.no_route:
            first = trail.answers[0]
            return not_applicable(
                f"no status route: GET {trail.url} answered {first.status}", **first.evidence()
            )
        return grade(probe, trail)

    return on_trail


@catalog.check(
    "SRV-021",
    "the paid answer's Location is the job's status URL",
    policy("RFC 9110 §10.2.2 Location of a created resource"),
)
def location(probe: ServerProbe) -> Verdict:
    if not probe.listing.is_job:
        return not_applicable("the listing's answer is not a job: nothing to point at")
    answer = probe.paid
    job_id = answer.json_field("id")
    where = answer.headers.get("location", "")
    ok = isinstance(job_id, str) and where.rstrip("/").endswith(f"/{job_id}")
    return (passed if ok else failed)(f"Location: {where!r}", **answer.evidence())


@catalog.check(
    "SRV-023",
    "job statuses are the listing's and move only along pending → processing → completed | failed",
    listing_rule(LISTING + " output status (pending, processing, completed, failed)"),
)
@_on_trail
def transitions(probe: ServerProbe, trail: StatusTrail) -> Verdict:
    ok = is_path(trail.statuses) and not trail.timed_out
    note = f"observed {trail.statuses}" + (
        " (timed out before a terminal status)" if trail.timed_out else ""
    )
    return (passed if ok else failed)(note, received=trail.statuses)


@catalog.check("SRV-024", "a terminal status never changes", policy(JOBS))
@_on_trail
def terminal_sticks(probe: ServerProbe, trail: StatusTrail) -> Verdict:
    if trail.timed_out:
        return not_applicable("the job never became terminal (see SRV-023)")
    final = trail.statuses[-1]
    ok = all(s == final for s in trail.after_terminal)
    return (passed if ok else failed)(
        f"{final}, then {trail.after_terminal}", received=trail.after_terminal
    )


@catalog.check(
    "SRV-025",
    "status answers carry Retry-After while the job runs",
    policy("RFC 9110 §10.2.3 Retry-After tells pollers when to come back"),
)
@_on_trail
def retry_after(probe: ServerProbe, trail: StatusTrail) -> Verdict:
    if not trail.retry_after_while_running:
        return not_applicable("the job was terminal at the first poll")
    ok = all(v is not None and v.strip().isdigit() for v in trail.retry_after_while_running)
    return (passed if ok else failed)(
        "Retry-After values", received=trail.retry_after_while_running
    )


@catalog.check(
    "SRV-026",
    "status answers carry id, status, the request's fields and times",
    policy(JOBS + ", described by the request that made it"),
)
@_on_trail
def status_fields(probe: ServerProbe, trail: StatusTrail) -> Verdict:
    wanted = ("id", "status", *probe.valid_request, *STATUS_TIMES)
    missing = [f for f in wanted if trail.final.json_field(f) is None]
    return (failed if missing else passed)(
        f"missing: {missing}" if missing else "all present", received=trail.final.body
    )


@catalog.check(
    "SRV-027",
    "a completed job's images download as PNGs of the size they claim",
    policy("an image job delivers the images it lists"),
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


@catalog.check("SRV-028", "an unknown job id is answered 404", policy("RFC 9110 §15.5.5 404"))
@_on_trail
def unknown_id(probe: ServerProbe, trail: StatusTrail) -> Verdict:
    url = trail.url.rstrip("/").rsplit("/", 1)[0] + "/no-such-job-0000"
    answer = probe.request("GET", url)
    ok = answer.status == 404
    return (passed if ok else failed)(
        f"answered {answer.status}", expected=404, **answer.evidence()
    )


@catalog.check(
    "SRV-029",
    "a failed job ends `failed` with an error code and message",
    policy(JOBS + "; a failure says why"),
)
@_on_trail
def failure_shape(probe: ServerProbe, trail: StatusTrail) -> Verdict:
    job = trail.final.body if isinstance(trail.final.body, dict) else {}
    if job.get("status") != "failed":
        return not_applicable("the job did not fail")
    error = job.get("error")
    ok = isinstance(error, dict) and bool(error.get("code")) and bool(error.get("message"))
    return (passed if ok else failed)("error: {code, message}", received=job)
