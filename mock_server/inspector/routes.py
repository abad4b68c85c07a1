"""The inspector's routes under `/__mock__/`, behind the admin guard like the rest of it."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from mock_server.images import Picture, thumbnail_png
from mock_server.inspector.markup import ADMIN_BASE
from mock_server.inspector.page import Heading, inspector_page, sign_in_page
from mock_server.inspector.reports import MAX_REPORT_BYTES, ConformanceReport
from mock_server.inspector.sections import render_live
from mock_server.inspector.state import Inspector
from mock_server.inspector.timeline import TimelineFilter
from mock_server.inspector.views import live_view
from mock_server.jobs import Status
from mock_server.responses import error
from mock_server.scenarios import SCENARIOS
from x402_core import strictjson
from x402_core.headers import describe_validation_error
from x402_service.access import session_cookie_name
from x402_service.bodies import BodyTooLargeError, read_body

PAGE_PATH = ADMIN_BASE + "/"
"""The page itself: served without the token (it then asks for it), every other rule holds."""
TICK_SECONDS = 0.5
"""How often an event stream looks for changes."""
KEEP_ALIVE_SECONDS = 15.0
THUMBNAIL_SIDE = 192


def inspector_of(request: Request) -> Inspector:
    return request.app.state.inspector


def _filter(request: Request) -> TimelineFilter:
    return TimelineFilter.from_query(request.query_params, SCENARIOS)


def fingerprint_tag(inspector: Inspector) -> str:
    return hashlib.sha256(repr(inspector.fingerprint()).encode()).hexdigest()[:16]


async def page(request: Request) -> Response:
    """`GET /__mock__/`: the inspector; the sign-in page when the admin API has a token and
    this browser has no session yet."""
    inspector = inspector_of(request)
    if not inspector.access.admits(request.headers):
        document = sign_in_page()
        return HTMLResponse(document.html, headers=document.headers)
    try:
        wanted = _filter(request)
    except ValueError as exc:
        return error(400, "invalid_request", str(exc))
    server = inspector.server
    heading = Heading(
        endpoint=f"{server.listing.method} {server.listing.path}",
        facilitator_url=server.settings.facilitator_url,
        scenarios=tuple(SCENARIOS),
        test_clock=server.clock.is_test,
    )
    state = fingerprint_tag(inspector)  # before the view: a change meanwhile is announced
    live = render_live(await live_view(inspector, wanted))
    document = inspector_page(heading, wanted, live, state)
    return HTMLResponse(document.html, headers=document.headers)


async def live(request: Request) -> Response:
    """`GET /__mock__/inspector/live?payer&job&status&scenario`: the page's live part."""
    try:
        wanted = _filter(request)
    except ValueError as exc:
        return error(400, "invalid_request", str(exc))
    fragment = render_live(await live_view(inspector_of(request), wanted))
    return HTMLResponse(fragment, headers={"Cache-Control": "no-store"})


async def events(request: Request) -> Response:
    """`GET /__mock__/inspector/events`: server-sent events, `ready` once, then `change`
    whenever the journal, the purchases, the jobs, the scenarios or the clock changed."""
    inspector = inspector_of(request)

    async def stream() -> AsyncIterator[str]:
        last = fingerprint_tag(inspector)
        yield f"retry: 1000\nevent: ready\ndata: {json.dumps({'state': last})}\n\n"
        quiet = 0.0
        while not inspector.closing.is_set():
            await asyncio.sleep(TICK_SECONDS)
            current = fingerprint_tag(inspector)
            if current != last:
                last, quiet = current, 0.0
                yield f"event: change\ndata: {json.dumps({'state': current})}\n\n"
            elif (quiet := quiet + TICK_SECONDS) >= KEEP_ALIVE_SECONDS:
                quiet = 0.0
                yield ": keep-alive\n\n"

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


async def thumbnail(request: Request) -> Response:
    """`GET /__mock__/inspector/thumbnails/{job_id}.png`: a completed job's image, small (not
    recorded in the journal, unlike the client's downloads)."""
    inspector = inspector_of(request)
    server = inspector.server
    job_id = request.path_params["job_id"]
    job = server.store.get_job(job_id)
    if job is None or job.status_at(server.clock.now()) is not Status.COMPLETED:
        return error(404, "not_found", f"no completed job {job_id!r}")
    picture = Picture.of(job.request)

    def render() -> bytes:
        full = server.images.get((job_id, 1), lambda: picture.render(1))
        return thumbnail_png(full, THUMBNAIL_SIDE)

    png = await run_in_threadpool(inspector.thumbnails.get, (job_id, 1), render)
    return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=3600"})


async def session(request: Request) -> Response:
    """`POST /__mock__/inspector/session`: with the admin token, a session cookie for this
    browser (HttpOnly, SameSite=Strict), so the page works behind `--admin-token`."""
    sessions = inspector_of(request).access.sessions
    if sessions is None:
        return error(404, "not_found", "this server grants no browser sessions")
    answer = JSONResponse({"session": "granted"})
    answer.set_cookie(
        session_cookie_name(request.headers),
        sessions.grant(),
        path=ADMIN_BASE,
        httponly=True,
        samesite="strict",
    )
    return answer


async def upload_report(request: Request) -> Response:
    """`POST /__mock__/inspector/reports?name=NAME`: a conformance run's JSON report (written by
    `conformance ... --json PATH`), shown with its checks linked to the journal."""
    try:
        data = strictjson.loads(await read_body(request, MAX_REPORT_BYTES))
        report = ConformanceReport.model_validate(data)
    except BodyTooLargeError as exc:
        return error(400, "invalid_request", str(exc))
    except strictjson.JsonError as exc:
        return error(400, "invalid_request", f"the report is not JSON: {exc}")
    except ValidationError as exc:
        return error(
            400,
            "invalid_request",
            f"{describe_validation_error(exc)}; expected the JSON of `conformance ... --json`",
        )
    name = request.query_params.get("name") or "report.json"
    upload = inspector_of(request).reports.add(name, report)
    return JSONResponse({"report": upload.number, "checks": len(report.results)})


INSPECTOR_ROUTES = [
    Route("/", page, methods=["GET"]),
    Route("/inspector/live", live, methods=["GET"]),
    Route("/inspector/events", events, methods=["GET"]),
    Route("/inspector/thumbnails/{job_id}.png", thumbnail, methods=["GET"]),
    Route("/inspector/session", session, methods=["POST"]),
    Route("/inspector/reports", upload_report, methods=["POST"]),
]
