"""Graded targets stay on this machine unless the person running the grade says otherwise."""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from facilitator_sim.chains.evm import is_loopback_url


class RemoteTargetError(ValueError):
    """A URL off this machine was given without --allow-remote, or one nothing answers at."""


def refuse_remote(urls: Iterable[str | None], *, allowed: bool) -> None:
    for url in filter(None, urls):
        if not allowed and not is_loopback_url(url):
            raise RemoteTargetError(
                f"refusing {url}: it is not on loopback; pass --allow-remote to grade it anyway"
            )


def require_answering(url: str, timeout: float = 10.0) -> None:
    """Grading a URL nothing listens at would fail every check for one reason: say it once."""
    try:
        httpx.get(url, timeout=timeout)
    except httpx.TransportError as exc:
        raise RemoteTargetError(f"nothing answers at {url}: {exc}") from exc
