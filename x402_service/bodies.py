"""Request bodies read with a limit: refused while they stream in, never held whole first."""

from __future__ import annotations

from starlette.requests import Request


class BodyTooLargeError(ValueError):
    """A body over the limit; what arrived so far is dropped, the rest is never read."""


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refusing more than `limit` bytes before reading them all."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and len(declared) < 20:
        if int(declared) > limit:
            raise BodyTooLargeError(f"the body is {declared} bytes; at most {limit} are accepted")
        if "transfer-encoding" not in request.headers:
            return await request.body()  # the server delivers no more than the declared length
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(f"the body exceeds {limit} bytes; at most {limit} are accepted")
        chunks.append(chunk)
    return b"".join(chunks)
