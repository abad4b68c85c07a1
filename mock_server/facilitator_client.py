"""The server's calls to the facilitator: `/verify` and `/settle` over HTTP."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from x402_core.models import SettleResponse, VerifyResponse

AnswerT = TypeVar("AnswerT", VerifyResponse, SettleResponse)


class FacilitatorUnavailableError(RuntimeError):
    """The facilitator did not answer, or answered something that is not an x402 answer."""


class FacilitatorClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def verify(self, body: dict[str, Any]) -> VerifyResponse:
        return await self._post("/verify", body, VerifyResponse)

    async def settle(self, body: dict[str, Any]) -> SettleResponse:
        return await self._post("/settle", body, SettleResponse)

    async def _post(self, path: str, body: dict[str, Any], answer: type[AnswerT]) -> AnswerT:
        try:
            response = await self._http.post(path, json=body)
        except httpx.HTTPError as exc:
            raise FacilitatorUnavailableError(f"facilitator {path} failed: {exc!r}") from exc
        if response.status_code >= 500:
            raise FacilitatorUnavailableError(
                f"facilitator {path} answered {response.status_code}: {response.text[:200]}"
            )
        try:
            return answer.model_validate_json(response.content)
        except ValidationError as exc:
            raise FacilitatorUnavailableError(
                f"facilitator {path} answered {response.status_code} with no x402 answer: "
                f"{response.text[:200]}"
            ) from exc

    async def aclose(self) -> None:
        await self._http.aclose()
