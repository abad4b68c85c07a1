"""Reading a harness server's journal over HTTP, a page at a time."""

from __future__ import annotations

from typing import Any

import httpx


def read_journal(
    http: httpx.Client, path: str = "/journal", since: int = 0
) -> list[dict[str, Any]]:
    """Every entry after sequence number `since`, following the pages' `next` to the end."""
    entries: list[dict[str, Any]] = []
    while True:
        page = http.get(path, params={"since": since}).raise_for_status().json()
        entries += page["entries"]
        if not page["more"]:
            return entries
        since = page["next"]
