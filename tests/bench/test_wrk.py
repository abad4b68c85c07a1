"""wrk runs the requests it is given, tens of thousands of them, and a run whose script did not
run (as Debian's wrk does with a large Lua table) fails loudly instead of measuring plain GETs."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.wrk import (
    WrkScriptError,
    lua_script,
    parse_report,
    raw_request,
    run_wrk,
    write_requests,
    wrk_rate,
)
from x402_service.serving import ServerThread

MANY = 60_000
"""As many distinct requests as bench/verify.py sends by default."""


@pytest.fixture
def seen() -> Counter[str]:
    return Counter()


@pytest.fixture
def server(seen: Counter[str]) -> Iterator[str]:
    """Counts each request by method and body; answers 402 to POST /paid and 200 otherwise."""

    async def answer(request: Request) -> Response:
        seen[f"{request.method} {(await request.body()).decode()}"] += 1
        return Response(b"", 402 if request.url.path == "/paid" else 200)

    app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])
    with ServerThread(app) as running:
        yield running.url


def _posts(count: int) -> list[tuple[str, bytes, dict[str, str]]]:
    return [("POST", json.dumps({"n": n}).encode(), {"Content-Type": "application/json"})
            for n in range(count)]  # fmt: skip


def test_tens_of_thousands_of_requests_are_sent_as_given(server: str, seen: Counter[str]) -> None:
    rate = wrk_rate(server + "/free", _posts(MANY), seconds=1, connections=4)
    assert rate > 0
    assert "GET " not in seen, "wrk sent requests of its own"
    assert len(seen) > 100, "distinct bodies, sent in turn"


def test_unexpected_answers_fail_the_run(server: str) -> None:
    with pytest.raises(RuntimeError, match="were not 2xx"):
        wrk_rate(server + "/paid", _posts(10), seconds=1, connections=2)
    assert wrk_rate(server + "/paid", _posts(10), seconds=1, connections=2, expect="402") > 0


def test_a_script_that_did_not_run_fails_loudly(server: str, seen: Counter[str]) -> None:
    """The benchmarks' former script: a table literal of MANY requests, each with a headers table
    (LuaJIT: "main function has more than 65536 constants"). wrk still exits 0."""
    rows = [f'{{"POST", {json.dumps(b.decode())}, {{["Content-Type"] = "application/json"}}}}'
            for _, b, _ in _posts(MANY)]  # fmt: skip
    old_style = (
        "requests = {\n" + ",\n".join(rows) + "\n}\ni = 0\n"
        "request = function()\n  i = i % #requests + 1\n  local r = requests[i]\n"
        "  return wrk.format(r[1], nil, r[3], r[2])\nend\n"
    )
    with pytest.raises(WrkScriptError, match="did not run its Lua script"):
        parse_report(run_wrk(server + "/free", old_style, seconds=1, connections=2))
    assert seen["GET "] > 0, "Debian's wrk sends plain GETs when the script fails to load"


def test_a_missing_requests_file_fails_loudly(server: str, tmp_path: Path) -> None:
    script = lua_script(tmp_path / "absent.bin")
    with pytest.raises(WrkScriptError):
        parse_report(run_wrk(server + "/free", script, seconds=1, connections=1))


def test_requests_are_written_as_wrk_would_send_them(tmp_path: Path) -> None:
    raw = raw_request("http://127.0.0.1:8402/v1/x?a=1", "POST", b"{}", {"X-A": "1"})
    assert raw == (
        b"POST /v1/x?a=1 HTTP/1.1\r\nHost: 127.0.0.1:8402\r\nX-A: 1\r\nContent-Length: 2\r\n\r\n{}"
    )
    path = tmp_path / "requests.bin"
    write_requests(path, "http://127.0.0.1:1/", [("GET", b"", {})] * 2)
    one = raw_request("http://127.0.0.1:1/", "GET", b"", {})
    assert path.read_bytes() == (b"%d\n" % len(one) + one) * 2


def test_the_report_is_read_and_its_absence_is_an_error() -> None:
    output = (
        "Running 1s test @ http://127.0.0.1:1/\n  4000 requests in 1.00s, 1.2MB read\n"
        "Requests/sec:   3999.50\nx402-bench: loaded 60000, sent 4004, unexpected 0\n"
    )
    report = parse_report(output)
    counts = (report.rate, report.completed, report.loaded, report.sent, report.unexpected)
    assert counts == (3999.5, 4000, 60000, 4004, 0)
    assert parse_report(output + "  Non-2xx or 3xx responses: 17\n").non_2xx == 17
    with pytest.raises(WrkScriptError):
        parse_report(output.replace("x402-bench", "something else"))
