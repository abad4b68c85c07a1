"""The inspector's documents: the page (header, controls, filters, the live part) and the
sign-in page shown when the admin API has a token and the browser no session yet.

No build step and nothing from another site: the stylesheet and scripts beside this module are
inlined, each under the response's nonce, so its Content-Security-Policy allows nothing else.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from mock_server.inspector.markup import ADMIN_BASE, h, options
from mock_server.inspector.timeline import STATUS_WORDS, TimelineFilter


@dataclass(frozen=True, slots=True)
class Document:
    html: str
    nonce: str

    @property
    def headers(self) -> dict[str, str]:
        policy = (
            f"default-src 'none'; script-src 'nonce-{self.nonce}'; "
            f"style-src 'nonce-{self.nonce}'; img-src 'self' data:; connect-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        )
        return {
            "Content-Security-Policy": policy,
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        }


@cache
def asset(name: str) -> str:
    return files("mock_server.inspector").joinpath("assets", name).read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class Heading:
    """What the page's header says about the server."""

    endpoint: str
    facilitator_url: str
    scenarios: tuple[str, ...]
    test_clock: bool


def _document(title: str, body: str, script: str, state: str = "") -> Document:
    nonce = secrets.token_urlsafe(16)
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f'<title>{h(title)}</title><style nonce="{nonce}">{asset("inspector.css")}</style>'
        f'</head><body data-base="{ADMIN_BASE}" data-state="{h(state)}">{body}'
        f'<script nonce="{nonce}">{asset(script)}</script></body></html>'
    )
    return Document(html, nonce)


def inspector_page(heading: Heading, wanted: TimelineFilter, live: str, state: str) -> Document:
    """The whole page; `live` is the fragment the event stream keeps up to date, as of the
    server state `state` names (the event stream's tag)."""
    body = (
        "<header><h1>x402-harness inspector</h1>"
        f"<span>endpoint <code>{h(heading.endpoint)}</code></span>"
        f"<span>facilitator <code>{h(heading.facilitator_url)}</code></span>"
        '<span id="live-status">connecting…</span></header>'
        f'<div id="controls">{_controls(heading)}</div>'
        f'<main>{_filters(heading, wanted)}<div id="live">{live}</div></main>'
    )
    return _document("x402-harness inspector", body, "inspector.js", state)


def _controls(heading: Heading) -> str:
    scenarios = options(heading.scenarios, "happy")
    clock_off = "" if heading.test_clock else " disabled"
    clock_note = "" if heading.test_clock else " (real clock: start with --clock test)"
    return (
        '<form data-action="queue"><label>next paid job</label>'
        f'<select name="scenario">{scenarios}</select><button>queue</button></form>'
        '<form data-action="default"><label>default scenario</label>'
        f'<select name="scenario">{scenarios}</select><button>set</button></form>'
        f'<form data-action="clock"><label>test clock{h(clock_note)}</label>'
        f'<input name="seconds" type="number" min="0" step="any" value="5" size="5"{clock_off}>'
        f"<button{clock_off}>advance</button></form>"
        '<form data-action="reset"><label><input name="purchases" type="checkbox"> also '
        "purchases and jobs</label><button>reset</button></form>"
        '<form data-action="report"><label>conformance report (JSON)</label>'
        '<input name="report" type="file" accept=".json,application/json">'
        "<button>upload</button></form>"
        '<p id="notice"></p>'
    )


def _filters(heading: Heading, wanted: TimelineFilter) -> str:
    return (
        f'<form id="filters" method="get" action="{ADMIN_BASE}/">'
        f'<label>payer <input name="payer" value="{h(wanted.payer)}" size="20"></label> '
        f'<label>job <input name="job" value="{h(wanted.job)}" size="20"></label> '
        f'<label>status <select name="status">{options(STATUS_WORDS, wanted.status, "any")}'
        "</select></label> "
        f'<label>scenario <select name="scenario">'
        f"{options(heading.scenarios, wanted.scenario, 'any')}</select></label> "
        f'<button>filter</button> <a href="{ADMIN_BASE}/">clear</a></form>'
    )


def sign_in_page() -> Document:
    """Asks for the admin token, or takes it from the link's fragment (`#token=…`)."""
    body = (
        '<header><h1>x402-harness inspector</h1></header><main><section id="sign-in">'
        "<h2>This server's admin API has a token</h2>"
        "<p>Open <code>/__mock__/#token=TOKEN</code> (the fragment never leaves the browser), "
        "or give the token here. It is exchanged once for a session cookie of this page.</p>"
        '<form id="sign-in-form"><input name="token" type="password" autocomplete="off" '
        'size="40" aria-label="admin token"> <button>sign in</button></form>'
        '<p id="notice" class="bad"></p></section></main>'
    )
    return _document("x402-harness inspector: sign in", body, "sign_in.js")
