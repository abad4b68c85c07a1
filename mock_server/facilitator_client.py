"""The server's calls to the facilitator: `/verify` and `/settle` over HTTP.

aiohttp rather than httpx here: on this hot path (two calls per paid request) httpx's async
pool spends most of its time polling idle sockets, which capped paid requests near 200/s.
"""

from __future__ import annotations

from typing import Any, TypeVar

import aiohttp
from pydantic import ValidationError

from x402_core.models import SettleResponse, VerifyResponse

AnswerT = TypeVar("AnswerT", VerifyResponse, SettleResponse)


class FacilitatorUnavailableError(RuntimeError):
    """The facilitator did not answer, or answered something that is not an x402 answer."""


class FacilitatorClient:
    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def verify(self, body: dict[str, Any]) -> VerifyResponse:
        return await self._post("/verify", body, VerifyResponse)

    async def settle(self, body: dict[str, Any]) -> SettleResponse:
        return await self._post("/settle", body, SettleResponse)

    async def _post(self, path: str, body: dict[str, Any], answer: type[AnswerT]) -> AnswerT:
        if self._session is None:  # made on first use, inside the server's event loop
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(self._base_url + path, json=body) as response:
                status, content = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise FacilitatorUnavailableError(f"facilitator {path} failed: {exc!r}") from exc
        if status >= 500:
            raise FacilitatorUnavailableError(
                f"facilitator {path} answered {status}: {content[:200]!r}"
            )
        try:
            return answer.model_validate_json(content)
        except ValidationError as exc:
            raise FacilitatorUnavailableError(
                f"facilitator {path} answered {status} with no x402 answer: {content[:200]!r}"
            ) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
