"""The server's calls to the facilitator: `/verify` and `/settle` over HTTP.

aiohttp rather than httpx here: on this hot path (two calls per paid request) httpx's async
pool spends most of its time polling idle sockets, which capped paid requests near 200/s.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, TypeVar

import aiohttp
from pydantic import ValidationError

from x402_core.models import SettleResponse, VerifyResponse

AnswerT = TypeVar("AnswerT", VerifyResponse, SettleResponse)


class FacilitatorUnavailableError(RuntimeError):
    """The facilitator did not answer, or answered something that is not an x402 answer: what
    it did with the request is not known."""


class FacilitatorUnreachableError(FacilitatorUnavailableError):
    """No connection could be made: the request never reached the facilitator."""


class FacilitatorClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        on_request_sent: Callable[[str], None] | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._on_request_sent = on_request_sent
        """Called with the URL once a request's body has been sent (crash-point tests)."""

    async def verify(self, body: dict[str, Any]) -> VerifyResponse:
        return await self._post("/verify", body, VerifyResponse)

    async def settle(self, body: dict[str, Any]) -> SettleResponse:
        return await self._post("/settle", body, SettleResponse)

    async def _post(self, path: str, body: dict[str, Any], answer: type[AnswerT]) -> AnswerT:
        if self._session is None:  # made on first use, inside the server's event loop
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, trace_configs=self._traces()
            )
        try:
            async with self._session.post(self._base_url + path, json=body) as response:
                status, content = response.status, await response.read()
        except aiohttp.ClientConnectorError as exc:
            raise FacilitatorUnreachableError(f"facilitator {path}: no connection: {exc}") from exc
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

    def _traces(self) -> list[aiohttp.TraceConfig]:
        hook = self._on_request_sent
        if hook is None:
            return []

        async def sent(
            session: aiohttp.ClientSession,
            context: SimpleNamespace,
            params: aiohttp.TraceRequestChunkSentParams,
        ) -> None:
            hook(str(params.url))

        trace = aiohttp.TraceConfig()
        trace.on_request_chunk_sent.append(sent)
        return [trace]

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
