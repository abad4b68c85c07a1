"""Small pieces of HTML, every value escaped: the inspector's pages are built from these."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from mock_server.journal_view import iso_time

ADMIN_BASE = "/__mock__"
USDC_DECIMALS = 6


def h(value: Any) -> str:
    """Text as HTML: escaped, quotes included."""
    return html.escape("" if value is None else str(value), quote=True)


def pretty(value: Any) -> str:
    """A value as indented JSON (text as is)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def when(moment: float | str | None) -> str:
    """A time (seconds since the epoch, or an ISO timestamp) as `HH:MM:SS.mmm`, the full
    timestamp on hover."""
    stamp = moment if isinstance(moment, str) else iso_time(moment)
    if stamp is None:
        return ""
    return f'<time datetime="{h(stamp)}" title="{h(stamp)}">{h(stamp[11:23])}</time>'


def usdc(atomic: int) -> str:
    whole, part = divmod(atomic, 10**USDC_DECIMALS)
    return f"{whole:,}.{part:06d}".rstrip("0").rstrip(".") + " USDC"


def facts_list(facts: Mapping[str, Any]) -> str:
    """A definition list of the facts that have a value; structured ones as JSON."""
    rows = []
    for name, value in facts.items():
        if value is None or value == "" or value == {}:
            continue
        if isinstance(value, dict | list):
            shown = f"<pre>{h(pretty(value))}</pre>"
        else:
            shown = h(json.dumps(value) if isinstance(value, bool) else value)
        rows.append(f"<dt>{h(name)}</dt><dd>{shown}</dd>")
    return f"<dl>{''.join(rows)}</dl>" if rows else ""


def entry_link(seq: int, shown: Iterable[int] = ()) -> str:
    """A link to journal entry `seq`: its row on this page, or its readable JSON."""
    if seq in shown:
        return f'<a href="#entry-{seq}">#{seq}</a>'
    query = urlencode({"view": "readable", "since": seq - 1, "limit": 1})
    return f'<a href="{ADMIN_BASE}/journal?{h(query)}">#{seq}</a>'


def options(values: Iterable[str], selected: str, blank: str = "") -> str:
    """`<option>`s of a select, the selected one marked; `blank` labels an empty first choice."""
    choices = [f'<option value="">{h(blank)}</option>'] if blank else []
    for value in values:
        mark = " selected" if value == selected else ""
        choices.append(f'<option value="{h(value)}"{mark}>{h(value)}</option>')
    return "".join(choices)


def short(text: str | None, keep: int = 10) -> str:
    """A long hex string as its start and end, the whole on hover."""
    if not text:
        return ""
    if len(text) <= 2 * keep + 1:
        return f"<code>{h(text)}</code>"
    return f'<code title="{h(text)}">{h(text[:keep])}…{h(text[-6:])}</code>'
