"""A Locust answer seen as the `httpx.Response` that the paying client's pure decisions read
(`x402_payer.offers`, `x402_payer.polling`), so that the load users judge answers as it does."""

from __future__ import annotations

from typing import Any

import httpx


def as_httpx(answer: Any, method: str) -> httpx.Response:
    """`answer`: a Locust (FastHttpUser) response that arrived (status code above 0)."""
    headers = list(answer.headers.items()) if answer.headers is not None else []
    return httpx.Response(
        answer.status_code,
        headers=headers,
        content=answer.content or b"",
        request=httpx.Request(method, answer.url or "http://unknown"),
    )


def transport_error(answer: Any) -> str | None:
    """Why nothing arrived (connection refused, timeout), or None when an answer did."""
    if answer.status_code:
        return None
    return f"no answer: {getattr(answer, 'error', None) or 'connection failed'}"
