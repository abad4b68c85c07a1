"""The journal: entries of bounded size with visible markers, a size cap, JSON-safe pages."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from x402_core import strictjson
from x402_service.journal import (
    DEFAULT_PAGE_ENTRIES,
    LEFT_OUT_HEADER,
    MAX_BODY_CHARS,
    MAX_HEADER_CHARS,
    MAX_PAGE_ENTRIES,
    Journal,
    JournalMiddleware,
    bounded_headers,
    note,
    payment_json,
    text_of,
)


def _record(journal: Journal, **changes: Any) -> None:
    fields: dict[str, Any] = {
        "method": "POST",
        "path": "/verify",
        "query": "",
        "headers": {"host": "127.0.0.1"},
        "body": "{}",
        "payment": "null",
        "payment_version": None,
        "status": 200,
        "response_headers": {},
        "response_body": "{}",
        "duration_ms": 1.0,
    }
    journal.record(**(fields | changes))


def _page(journal: Journal, **query: str) -> dict[str, Any]:
    return strictjson.loads(journal.read(query))


def test_a_long_body_is_cut_with_a_marker_saying_how_long_it_was() -> None:
    text = text_of(b"a" * (10 * MAX_BODY_CHARS))
    assert text.startswith("a" * MAX_BODY_CHARS)
    assert text.endswith(f"…[truncated: {10 * MAX_BODY_CHARS} bytes in all]")
    assert text_of(b"\xff" * 10) == "\ufffd" * 10


def test_headers_are_cut_per_value_and_in_all() -> None:
    huge = [(b"x-big-%d" % i, b"v" * 256 * 1024) for i in range(40)]
    kept = bounded_headers([(b"Host", b"127.0.0.1"), *huge])
    assert kept["host"] == "127.0.0.1"
    assert kept["x-big-0"].endswith(f"…[truncated: {256 * 1024} characters in all]")
    assert len(kept["x-big-0"]) < MAX_HEADER_CHARS + 50
    assert kept[LEFT_OUT_HEADER].endswith("headers left out (over the size cap)")
    assert sum(len(k) + len(v) for k, v in kept.items()) < 20 * 1024


def test_the_first_of_repeated_headers_is_kept() -> None:
    assert bounded_headers([(b"a", b"1"), (b"A", b"2")]) == {"a": "1"}


def test_a_payment_with_nan_or_infinity_is_recorded_as_json_that_any_reader_accepts() -> None:
    journal = Journal()
    payment = {"x402Version": 2, "extensions": {"a": float("nan"), "b": [float("-inf")]}}
    _record(journal, payment=payment_json(payment), payment_version=2)
    entry = _page(journal)["entries"][0]
    assert entry["payment"] == {"x402Version": 2, "extensions": {"a": "nan", "b": ["-inf"]}}


def test_an_oversized_payment_is_left_out_with_a_marker() -> None:
    assert "left out" in json.loads(payment_json({"a": "x" * 100_000}))["truncated"]


def test_the_journal_keeps_under_its_character_cap_dropping_the_oldest() -> None:
    journal = Journal(max_chars=100_000)
    for _ in range(100):
        _record(journal, body="b" * 10_000)
    seqs = [e["seq"] for e in journal.entries()]
    assert 5 <= len(seqs) <= 10
    assert seqs[-1] == 100
    assert seqs == list(range(seqs[0], 101))


def test_pages_say_where_to_continue() -> None:
    journal = Journal()
    for _ in range(7):
        _record(journal)
    first = _page(journal, limit="3")
    assert [e["seq"] for e in first["entries"]] == [1, 2, 3]
    assert (first["next"], first["more"]) == (3, True)
    second = _page(journal, since="3", limit="3")
    assert [e["seq"] for e in second["entries"]] == [4, 5, 6]
    last = _page(journal, since=str(second["next"]), limit="3")
    assert ([e["seq"] for e in last["entries"]], last["next"], last["more"]) == ([7], 7, False)
    empty = _page(journal, since="7")
    assert (empty["entries"], empty["next"], empty["more"]) == ([], 7, False)


def test_the_default_page_is_bounded() -> None:
    journal = Journal()
    for _ in range(DEFAULT_PAGE_ENTRIES + 1):
        _record(journal)
    page = _page(journal)
    assert (len(page["entries"]), page["more"]) == (DEFAULT_PAGE_ENTRIES, True)


@pytest.mark.parametrize(
    "query",
    [
        {"since": "-1"},
        {"since": "1.5"},
        {"since": "9" * 5000},
        {"since": "١٢"},
        {"limit": "0"},
        {"limit": str(MAX_PAGE_ENTRIES + 1)},
        {"limit": "many"},
    ],
)
def test_a_bad_since_or_limit_says_what_is_expected(query: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="expected"):
        Journal().read(query)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=6))
def test_following_next_reads_every_entry_once(limits: list[int]) -> None:
    journal = Journal()
    for _ in range(25):
        _record(journal)
    seen: list[int] = []
    since, more = 0, True
    for limit in limits * 25:
        if not more:
            break
        page = _page(journal, since=str(since), limit=str(limit))
        seen += [e["seq"] for e in page["entries"]]
        since, more = page["next"], page["more"]
    assert seen == list(range(1, 26))


def test_a_request_the_payment_reader_chokes_on_is_still_recorded() -> None:
    def choking(headers: Headers, body: bytes) -> tuple[dict[str, Any] | None, int | None]:
        raise ValueError("Exceeds the limit (4300 digits) for integer string conversion")

    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"got": len(await request.body())})

    journal = Journal()
    app = Starlette(
        routes=[Route("/", echo, methods=["POST"])],
        middleware=[Middleware(JournalMiddleware, journal=journal, read_payment=choking)],
    )
    transport = httpx.ASGITransport(app=app)

    async def post() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return await http.post("/", content=b"{}")

    assert anyio.run(post).status_code == 200
    [entry] = journal.entries()
    assert (entry["status"], entry["payment"], entry["response_body"]) == (200, None, '{"got":2}')


def test_a_handler_notes_what_the_wire_does_not_show_and_notes_are_bounded() -> None:
    async def served(request: Request) -> JSONResponse:
        note(request.scope, scenario="slow", long="x" * 10_000)
        return JSONResponse({})

    journal = Journal()
    app = Starlette(
        routes=[Route("/", served, methods=["POST"])],
        middleware=[
            Middleware(JournalMiddleware, journal=journal, read_payment=lambda h, b: (None, None))
        ],
    )
    transport = httpx.ASGITransport(app=app)

    async def post() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return await http.post("/", content=b"{}")

    anyio.run(post)
    [entry] = journal.entries()
    assert entry["notes"]["scenario"] == "slow"
    assert entry["notes"]["long"].endswith("…[truncated: 10000 characters in all]")


def test_the_oldest_and_latest_sequence_numbers_follow_drops_and_clears() -> None:
    journal = Journal(max_entries=3)
    assert (journal.oldest_seq, journal.last_seq) == (None, 0)
    for _ in range(5):
        _record(journal)
    assert (journal.oldest_seq, journal.last_seq) == (3, 5)
    journal.clear()
    assert (journal.oldest_seq, journal.last_seq) == (None, 5)
