"""The admin API under `/__mock__/`: scenarios, the test clock, jobs, the journal, reset.

It is served with the mock on the same loopback address; it is how tests and the conformance
runner steer the server without asking a client under test to send special headers.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mock_server.clock import ClockError, advance_seconds
from mock_server.journal_view import page_json
from mock_server.purchases import Purchase, PurchaseState
from mock_server.responses import base_url, error, iso, job_view
from mock_server.scenarios import SCENARIOS, UnknownScenarioError
from mock_server.state import ServerState
from x402_core import strictjson
from x402_service.bodies import read_body

MAX_ADMIN_BODY_BYTES = 64 * 1024
FILTERS = frozenset({"payer", "job", "path"})
"""Of the readable journal."""


async def _json_object(request: Request) -> dict[str, Any]:
    """The JSON object of an admin request (ValueError: too large, not JSON, not an object)."""
    try:
        data = strictjson.loads(await read_body(request, MAX_ADMIN_BODY_BYTES) or b"{}")
    except strictjson.JsonError as exc:
        raise ValueError(f"the body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def state_of(request: Request) -> ServerState:
    return request.app.state.mock


async def health(request: Request) -> Response:
    """`GET /__mock__/health`: alive; the scenario, clock, facilitator and counts (jobs and
    purchases by state, counted in the store without loading them)."""
    state = state_of(request)
    counts = state.store.counts()
    return JSONResponse(
        {
            "status": "ok",
            "default_scenario": state.scenarios.default.name,
            "queued_scenarios": state.scenarios.queued(),
            "clock": "test" if state.clock.is_test else "real",
            "now": state.clock.now(),
            "facilitator_url": state.settings.facilitator_url,
            "jobs": counts["jobs"],
            "settlements": counts[PurchaseState.SETTLED],
            "purchases": {s.value: counts[s] for s in PurchaseState},
        }
    )


async def scenarios(request: Request) -> Response:
    """`GET /__mock__/scenarios`: every scenario with one line on what it does."""
    state = state_of(request)
    return JSONResponse(
        {
            "default": state.scenarios.default.name,
            "queued": state.scenarios.queued(),
            "scenarios": {name: s.description for name, s in SCENARIOS.items()},
        }
    )


async def set_scenario(request: Request) -> Response:
    """`POST /__mock__/scenario {"name": ...}`: the default scenario for new jobs."""
    try:
        name = (await _json_object(request)).get("name")
        if not isinstance(name, str):
            raise ValueError('expected {"name": "<scenario>"}')
        state_of(request).scenarios.set_default(name)
    except (ValueError, UnknownScenarioError) as exc:
        return error(400, "invalid_request", str(exc))
    return await scenarios(request)


async def queue_scenarios(request: Request) -> Response:
    """`POST /__mock__/scenario/queue {"names": [...]}`: scenarios of the next paid jobs."""
    try:
        names = (await _json_object(request)).get("names")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError('expected {"names": ["<scenario>", ...]}')
        state_of(request).scenarios.enqueue(names)
    except (ValueError, UnknownScenarioError) as exc:
        return error(400, "invalid_request", str(exc))
    return await scenarios(request)


async def advance_clock(request: Request) -> Response:
    """`POST /__mock__/clock/advance {"seconds": N}`: move the test clock forward."""
    try:
        seconds = advance_seconds((await _json_object(request)).get("seconds"))
        now = state_of(request).clock.advance(seconds)
    except ClockError as exc:
        return error(409, "real_clock", str(exc))
    except ValueError as exc:
        return error(400, "invalid_request", str(exc))
    return JSONResponse({"now": now})


async def jobs(request: Request) -> Response:
    """`GET /__mock__/jobs`: every job with its current status and scenario."""
    state = state_of(request)
    now, base = state.clock.now(), base_url(request, state)
    return JSONResponse(
        {
            "jobs": [
                {**job_view(job, now, base), "scenario": job.scenario, "payer": job.payer}
                for job in state.store.jobs()
            ],
            "settlements": [
                {
                    "key": p.key,
                    "job_id": p.job_id,
                    "request_sha256": p.request_sha256,
                    "version": p.version,
                    "settlement": p.settlement,
                }
                for p in state.store.purchases(frozenset({PurchaseState.SETTLED}))
            ],
        }
    )


async def purchases(request: Request) -> Response:
    """`GET /__mock__/purchases?state=pending`: purchases (all, or in one state) with their
    payer, job id, request, settlement or pending transaction, and why they are where they are."""
    wanted = request.query_params.get("state")
    try:
        states = None if wanted is None else frozenset({PurchaseState(wanted)})
    except ValueError:
        known = ", ".join(s.value for s in PurchaseState)
        return error(400, "invalid_request", f"state is {wanted!r}; expected one of {known}")
    return JSONResponse(
        {"purchases": [_purchase_view(p) for p in state_of(request).store.purchases(states)]}
    )


def _purchase_view(purchase: Purchase) -> dict[str, Any]:
    view = dataclasses.asdict(purchase)
    view.pop("settle_body")
    view["created_at"] = iso(purchase.created_at)
    view["updated_at"] = iso(purchase.updated_at)
    view["transaction"] = purchase.transaction or None
    return view


async def journal(request: Request) -> Response:
    """`GET /__mock__/journal?since=N&limit=M`: a page of the requests and answers recorded after
    sequence number N; `next` is the `since` of the following page, `more` whether there is one.
    `view=readable` decodes them for a person (see `journal_view`), filtered by `payer`, `job`
    and `path`."""
    query = request.query_params
    view = query.get("view", "raw")
    try:
        if view == "readable":
            page = page_json(await request.app.state.inspector.readable_page(query))
        elif view == "raw" and not FILTERS.intersection(query):
            page = state_of(request).journal.read(query)
        else:
            raise ValueError(
                f"view is {view[:20]!r} with filters {sorted(FILTERS.intersection(query))}; "
                "expected view=raw (no filters) or view=readable (filters payer, job, path)"
            )
    except ValueError as exc:
        return error(400, "invalid_request", str(exc))
    return Response(page, media_type="application/json")


async def reset(request: Request) -> Response:
    """`POST /__mock__/reset`: forget the journal, queued scenarios, the default scenario, the
    test clock's lead and refused purchases. Purchases that moved (or may have moved) money and
    their jobs are kept unless the body says `{"purchases": true}`."""
    try:
        wipe = (await _json_object(request)).get("purchases", False)
        if not isinstance(wipe, bool):
            raise ValueError('expected {"purchases": true|false}')
    except ValueError as exc:
        return error(400, "invalid_request", str(exc))
    state_of(request).reset(purchases=wipe)
    return JSONResponse({"status": "reset", "purchases_kept": not wipe})


ADMIN_ROUTES = [
    Route("/health", health, methods=["GET"]),
    Route("/scenarios", scenarios, methods=["GET"]),
    Route("/scenario", set_scenario, methods=["POST"]),
    Route("/scenario/queue", queue_scenarios, methods=["POST"]),
    Route("/clock/advance", advance_clock, methods=["POST"]),
    Route("/jobs", jobs, methods=["GET"]),
    Route("/purchases", purchases, methods=["GET"]),
    Route("/journal", journal, methods=["GET"]),
    Route("/reset", reset, methods=["POST"]),
]
