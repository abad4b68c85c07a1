"""Bodies read with a limit: refused from the declared length, or as soon as they pass it."""

from __future__ import annotations

import anyio
import pytest
from starlette.requests import Request
from starlette.types import Message

from x402_service.bodies import BodyTooLargeError, read_body

CHUNK = b"x" * 1024


def _request(
    chunks: int, headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[Request, list[int]]:
    """A request streaming `chunks` chunks of 1 KiB; the list counts the chunks handed out."""
    handed = [0]

    async def receive() -> Message:
        handed[0] += 1
        more = handed[0] < chunks
        return {"type": "http.request", "body": CHUNK, "more_body": more}

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers or []}
    return Request(scope, receive), handed


def test_a_body_within_the_limit_is_read_whole() -> None:
    request, handed = _request(4)
    assert anyio.run(read_body, request, 4096) == CHUNK * 4
    assert handed == [4]


def test_a_streamed_body_is_refused_as_soon_as_it_passes_the_limit() -> None:
    request, handed = _request(300_000)  # 300 MB if it were read to the end
    with pytest.raises(BodyTooLargeError, match="exceeds 4096 bytes"):
        anyio.run(read_body, request, 4096)
    assert handed == [5]


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    request, handed = _request(300_000, [(b"content-length", b"314572800")])
    with pytest.raises(BodyTooLargeError, match="314572800 bytes; at most 4096"):
        anyio.run(read_body, request, 4096)
    assert handed == [0]


@pytest.mark.parametrize("declared", [b"9" * 40, b"-1", b"12abc"])
def test_an_odd_declared_length_is_judged_by_the_bytes_that_come(declared: bytes) -> None:
    request, handed = _request(8, [(b"content-length", declared)])
    with pytest.raises(BodyTooLargeError):
        anyio.run(read_body, request, 4096)
    assert handed == [5]


def test_a_declared_length_within_the_limit_is_read_whole() -> None:
    request, handed = _request(4, [(b"content-length", b"4096")])
    assert anyio.run(read_body, request, 4096) == CHUNK * 4
    assert handed == [4]


def test_a_declared_length_beside_chunked_framing_is_not_trusted() -> None:
    headers = [(b"content-length", b"10"), (b"transfer-encoding", b"chunked")]
    request, handed = _request(300_000, headers)
    with pytest.raises(BodyTooLargeError, match="exceeds 4096 bytes"):
        anyio.run(read_body, request, 4096)
    assert handed == [5]
