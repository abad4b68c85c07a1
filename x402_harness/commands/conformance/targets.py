"""Graded targets stay on this machine unless the person running the grade says otherwise."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpx
from urllib3.util import parse_url

from x402_core.loopback import HostReader, url_refusal
from x402_harness.usage import UsageError

_BARE_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*(?::[0-9]+)?(?:/|$)")
"""`127.0.0.1:8402/…`, `localhost:8402`: a host where the URL should start, its scheme left out."""
READERS: dict[str, HostReader] = {
    "httpx": lambda url: httpx.URL(url).host,
    "urllib3": lambda url: parse_url(url).host,
    "urllib": lambda url: urlsplit(url).hostname,
}
"""The parsers of what connects to a target: httpx (conformance, invariants), urllib3
(requests: Locust's HttpUser) and urllib (geventhttpclient: Locust's FastHttpUser)."""


class RemoteTargetError(UsageError):
    """A URL off this machine was given without --allow-remote, or one nothing answers at."""


def refuse_remote(urls: Iterable[str | None], *, allowed: bool) -> None:
    """Refuse a URL without its scheme, any ambiguous URL, and any off this machine unless
    `allowed`."""
    for url in filter(None, urls):
        if _BARE_HOST.match(url):
            raise RemoteTargetError(
                f"{url} is missing http:// (or https://): give the whole URL, e.g. http://{url}"
            )
        refusal = url_refusal(url, allow_remote=allowed, seen_by=READERS)
        if refusal is not None:
            hint = "" if allowed or "ambiguous" in refusal else "; pass --allow-remote to use it"
            raise RemoteTargetError(f"refusing {url}: {refusal}{hint}")


def require_answering(url: str, timeout: float = 10.0) -> None:
    """Grading a URL nothing listens at would fail every check for one reason: say it once."""
    try:
        httpx.get(url, timeout=timeout)
    except httpx.TransportError as exc:
        raise RemoteTargetError(f"nothing answers at {url}: {exc}") from exc
