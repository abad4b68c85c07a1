"""Memory stays bounded under floods: each server in its own process, its peak RSS read from /proc.

A 300 MB body (declared, and chunked with no length), then hundreds of requests with 256 KiB
headers, then a read of each journal. Before the fixes one 300 MB POST took the mock from 89 MB
to 1.27 GB and the header flood plus one journal read peaked at 2 GB; the bound here is generous.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from x402_harness.processes import ServiceProcess
from x402_service.serving import free_port

PEAK_GROWTH_BOUND = 200 * 1024 * 1024
HUGE_BODY = 300 * 1024 * 1024
HEADER_FLOOD = 600
HEADER_BYTES = 256 * 1024


def _peak_rss(pid: int) -> int:
    """The process's peak resident set (VmHWM) in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM in /proc/{pid}/status")


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, tuple[ServiceProcess, str]]]:
    facilitator_url = f"http://127.0.0.1:{free_port()}"
    mock_url = f"http://127.0.0.1:{free_port()}"
    facilitator = ServiceProcess(
        "facilitator", ["facilitator", "--port", facilitator_url.rsplit(":", 1)[1]], {}
    )
    mock = ServiceProcess(
        "server",
        ["server", "--port", mock_url.rsplit(":", 1)[1], "--facilitator-url", facilitator_url],
        {},
    )
    try:
        facilitator.start(facilitator_url + "/health")
        mock.start(mock_url + "/health")
        yield {
            "mock": (mock, mock_url),
            "facilitator": (facilitator, facilitator_url),
        }
    finally:
        mock.stop()
        facilitator.stop()


def _send_huge_body(base_url: str, path: str, *, chunked: bool) -> int:
    """Stream up to HUGE_BODY bytes until the server answers or stops reading; its status."""
    url = httpx.URL(base_url)
    framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % HUGE_BODY
    head = b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" % (
        path.encode()
    )
    piece = b" " * (256 * 1024)
    chunk = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
    with socket.create_connection((url.host, url.port), timeout=30) as connection:
        connection.sendall(head + framing + b"\r\n\r\n")
        connection.settimeout(2)  # a server that stopped reading makes sendall block: stop there
        sent = 0
        try:
            while sent < HUGE_BODY:
                connection.sendall(chunk)
                sent += len(piece)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            pass
        connection.settimeout(30)
        answer = connection.recv(65536)
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize(
    ("server", "path"), [("mock", "/v1/images/generate"), ("facilitator", "/verify")]
)
def test_floods_leave_the_peak_rss_bounded(
    servers: dict[str, tuple[ServiceProcess, str]], server: str, path: str
) -> None:
    process, url = servers[server]
    assert process.pid is not None
    with httpx.Client(base_url=url, timeout=60) as http:
        http.post(path, json={})  # warm up: imports and first allocations
    baseline = _peak_rss(process.pid)

    assert _send_huge_body(url, path, chunked=False) == 400
    assert _send_huge_body(url, path, chunked=True) == 400
    junk = {"x-junk": "A" * HEADER_BYTES}
    with httpx.Client(base_url=url, timeout=60) as http:
        flood = [http.post(path, content=b"{}", headers=junk) for _ in range(HEADER_FLOOD)]
        journal = "/__mock__/journal" if server == "mock" else "/journal"
        page = http.get(journal).json()

    assert {answer.status_code for answer in flood} == {400}
    assert page["more"] is True
    kept = [e["headers"]["x-junk"] for e in page["entries"] if "x-junk" in e["headers"]]
    assert kept
    assert all(value.endswith(f"[truncated: {HEADER_BYTES} characters in all]") for value in kept)
    growth = _peak_rss(process.pid) - baseline
    print(f"{server}: peak RSS {baseline / 2**20:.0f} MiB before, grew by {growth / 2**20:.0f} MiB")
    assert growth < PEAK_GROWTH_BOUND, f"peak RSS grew by {growth / 2**20:.0f} MiB"
