"""`Payer` (httpx.Client) and `AsyncPayer` (httpx.AsyncClient): thin shells that run the flows."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import anyio
import httpx

from x402_payer.flows import (
    Flow,
    GenerationResult,
    PaidResponse,
    PayerCore,
    Progress,
    Send,
)
from x402_payer.policy import PayerPolicy

T = TypeVar("T")
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = "x402-harness-payer/0.1"


class _Shell:
    """What both clients share: the core that holds the key, the policy and the flows."""

    core: PayerCore

    @property
    def address(self) -> str:
        """The payer's checksummed address."""
        return self.core.address

    @property
    def policy(self) -> PayerPolicy:
        return self.core.policy


class Payer(_Shell):
    """The reference x402 paying client, synchronous. Closes its client only if it made it."""

    def __init__(
        self,
        private_key: bytes | str,
        policy: PayerPolicy | None = None,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.core = PayerCore(private_key, policy or PayerPolicy(), clock)
        self._owns_client = client is None
        self.client = client or httpx.Client(
            timeout=DEFAULT_TIMEOUT, headers={"User-Agent": USER_AGENT}
        )
        self._sleep = sleep

    def request_paid(
        self, method: str, url: str, *, json: Any = None, headers: Any = None
    ) -> PaidResponse:
        """Send the request, and pay once if it answers 402 (see `PayerCore.paid_request`)."""
        return self._run(self.core.paid_request(method, url, json, headers))

    def poll_job(
        self, status_url: str, *, timeout: float | None = None, progress: Progress | None = None
    ) -> dict[str, Any]:
        """The completed job; JobFailedError, JobTimeoutError or PollingError otherwise."""
        return self._run(self.core.poll(status_url, timeout, progress))

    def download_images(
        self, job: dict[str, Any], dest_dir: str | Path, *, status_url: str | None = None
    ) -> list[Path]:
        """The job's images saved as PNGs; relative URLs resolve against the job's status URL."""
        return self._run(self.core.download(job, dest_dir, status_url))

    def generate_image(
        self,
        base_url: str,
        body: dict[str, Any],
        dest_dir: str | Path,
        *,
        progress: Progress | None = None,
    ) -> GenerationResult:
        """Pay for `POST {base_url}/v1/images/generate`, poll the job, download its images."""
        return self._run(self.core.generate(base_url, body, dest_dir, progress))

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, flow: Flow[T]) -> T:
        reply: httpx.Response | None = None
        error: httpx.TransportError | None = None
        try:
            while True:
                try:
                    step = flow.send(reply) if error is None else flow.throw(error)
                except StopIteration as stop:
                    return stop.value
                reply, error = None, None
                if isinstance(step, Send):
                    try:
                        reply = self.client.request(
                            step.method,
                            step.url,
                            headers=step.headers,
                            content=step.content,
                            follow_redirects=step.follow_redirects,
                        )
                    except httpx.TransportError as exc:
                        error = exc
                else:
                    self._sleep(step.seconds)
        finally:
            flow.close()


class AsyncPayer(_Shell):
    """The reference x402 paying client, asynchronous (asyncio or trio, through anyio)."""

    def __init__(
        self,
        private_key: bytes | str,
        policy: PayerPolicy | None = None,
        *,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.core = PayerCore(private_key, policy or PayerPolicy(), clock)
        self._owns_client = client is None
        self.client = client or httpx.AsyncClient(
            timeout=DEFAULT_TIMEOUT, headers={"User-Agent": USER_AGENT}
        )
        self._sleep = sleep

    async def request_paid(
        self, method: str, url: str, *, json: Any = None, headers: Any = None
    ) -> PaidResponse:
        """Send the request, and pay once if it answers 402 (see `PayerCore.paid_request`)."""
        return await self._run(self.core.paid_request(method, url, json, headers))

    async def poll_job(
        self, status_url: str, *, timeout: float | None = None, progress: Progress | None = None
    ) -> dict[str, Any]:
        """The completed job; JobFailedError, JobTimeoutError or PollingError otherwise."""
        return await self._run(self.core.poll(status_url, timeout, progress))

    async def download_images(
        self, job: dict[str, Any], dest_dir: str | Path, *, status_url: str | None = None
    ) -> list[Path]:
        """The job's images saved as PNGs; relative URLs resolve against the job's status URL."""
        return await self._run(self.core.download(job, dest_dir, status_url))

    async def generate_image(
        self,
        base_url: str,
        body: dict[str, Any],
        dest_dir: str | Path,
        *,
        progress: Progress | None = None,
    ) -> GenerationResult:
        """Pay for `POST {base_url}/v1/images/generate`, poll the job, download its images."""
        return await self._run(self.core.generate(base_url, body, dest_dir, progress))

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self, flow: Flow[T]) -> T:
        reply: httpx.Response | None = None
        error: httpx.TransportError | None = None
        try:
            while True:
                try:
                    step = flow.send(reply) if error is None else flow.throw(error)
                except StopIteration as stop:
                    return stop.value
                reply, error = None, None
                if isinstance(step, Send):
                    try:
                        reply = await self.client.request(
                            step.method,
                            step.url,
                            headers=step.headers,
                            content=step.content,
                            follow_redirects=step.follow_redirects,
                        )
                    except httpx.TransportError as exc:
                        error = exc
                else:
                    await self._sleep(step.seconds)
        finally:
            flow.close()
