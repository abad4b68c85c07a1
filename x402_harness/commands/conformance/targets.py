"""Graded targets stay on this machine unless the person running the grade says otherwise."""

from __future__ import annotations

from collections.abc import Iterable

from facilitator_sim.chains.evm import is_loopback_url


class RemoteTargetError(ValueError):
    """A URL off this machine was given without --allow-remote."""


def refuse_remote(urls: Iterable[str | None], *, allowed: bool) -> None:
    for url in filter(None, urls):
        if not allowed and not is_loopback_url(url):
            raise RemoteTargetError(
                f"refusing {url}: it is not on loopback; pass --allow-remote to grade it anyway"
            )
