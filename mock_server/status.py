"""`GET /v1/images/generate/{id}` (free polling) and `GET /v1/images/{id}/{n}.png`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_server.images import Picture
from mock_server.jobs import Status
from mock_server.responses import base_url, error, job_view, retry_after
from mock_server.scenarios import Fault, scenario_of
from mock_server.state import ServerState

IMAGE_ROUTE = "/v1/images/{job_id}/{index:int}.png"
RATE_LIMIT_SECONDS = 1.0
"""rate_limited: polls closer together than this (real time) get 429."""


@dataclass(frozen=True, slots=True)
class PollAnswer:
    """What a poll of a job gets, whichever transport asked: an HTTP status, the JSON body (the
    job, or an error) and the seconds to wait before the next poll."""

    status: int
    body: dict[str, Any]
    retry_after: int | None = None


def poll(state: ServerState, job_id: str, base: str) -> PollAnswer:
    """A poll of `job_id`, with the job's scenario faults applied."""
    job = state.store.get_job(job_id)
    if job is None:
        return _failure(404, "not_found", f"no job {job_id!r}; ids come from a paid request")
    since, count = state.polls.poll(job_id)
    scenario = scenario_of(job.scenario)
    now = state.clock.now()
    wait = retry_after(job, now)
    polled_too_fast = since is not None and since < RATE_LIMIT_SECONDS
    if scenario.has(Fault.RATE_LIMITED_POLLING) and wait is not None and polled_too_fast:
        return _failure(429, "rate_limited", "polled too fast; wait for Retry-After", 1)
    if scenario.has(Fault.STATUS_ERRORS) and count % 2 == 0:
        return _failure(
            503, "unavailable", "status is briefly unavailable (scenario status_errors)", 1
        )
    return PollAnswer(200, job_view(job, now, base), wait)


def _failure(status: int, code: str, message: str, wait: int | None = None) -> PollAnswer:
    return PollAnswer(status, {"error": code, "message": message}, wait)


async def job_status(request: Request) -> Response:
    """`GET /v1/images/generate/{id}`: the job, with Retry-After while it is not finished."""
    state: ServerState = request.app.state.mock
    answer = poll(state, request.path_params["job_id"], base_url(request, state))
    headers = {"Retry-After": str(answer.retry_after)} if answer.retry_after is not None else None
    return JSONResponse(answer.body, answer.status, headers=headers)


async def job_image(request: Request) -> Response:
    """`GET /v1/images/{id}/{n}.png`: the rendered PNG of a completed job."""
    state: ServerState = request.app.state.mock
    job_id, index = request.path_params["job_id"], request.path_params["index"]
    job = state.store.get_job(job_id)
    if job is None or index != 1 or job.status_at(state.clock.now()) is not Status.COMPLETED:
        return error(404, "not_found", f"no image {index} of a completed job {job_id!r}")
    picture = Picture.of(job.request)
    png = state.images.get((job_id, index), lambda: picture.render(index))
    return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=86400"})
