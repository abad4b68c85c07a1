"""Who may use a server's admin routes: its owner, not a web page the owner happens to open.

A page on any site can send a "simple" cross-site POST (text/plain or a form) to 127.0.0.1, and a
page whose DNS name is rebound to 127.0.0.1 is same-origin with the server. So admin routes
refuse a Host that does not name this server, an Origin that is not its own, a cross-site fetch,
and a POST body that is not JSON; with a token configured, a request without it too, unless it
carries the cookie of a browser session granted in exchange for the token.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from x402_core.loopback import (
    AmbiguousUrlError,
    HttpUrl,
    is_loopback_host,
    parse_http_url,
    split_authority,
)

WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
SAFE_FETCH_SITES = frozenset({"same-origin", "none"})
BODILESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_COOKIE_PREFIX = "x402h_admin_"
MAX_SESSIONS = 64


def session_cookie_name(headers: Headers) -> str:
    """The session cookie of the server this request reached: named by its port, since a
    browser sends a host's cookies to every port of it."""
    _, _, port = headers.get("host", "").rpartition(":")
    return SESSION_COOKIE_PREFIX + (port if port.isdigit() and port.isascii() else "80")


class AdminSessions:
    """Browser sessions of the admin API: a random id in an HttpOnly, SameSite=Strict cookie,
    granted to a request that carries the token, so that a page (its images, its event stream)
    can use the admin routes without the token in every request. Kept in memory; the oldest of
    more than MAX_SESSIONS is forgotten."""

    def __init__(self) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def grant(self) -> str:
        session = secrets.token_urlsafe(32)
        with self._lock:
            self._ids[session] = None
            while len(self._ids) > MAX_SESSIONS:
                self._ids.popitem(last=False)
        return session

    def admits(self, headers: Headers) -> bool:
        """Whether the request carries the cookie of a session granted here."""
        given = cookie_parser(headers.get("cookie", "")).get(session_cookie_name(headers), "")
        with self._lock:
            known = list(self._ids)
        return bool(given) and any(hmac.compare_digest(given, s) for s in known)


@dataclass(frozen=True)
class Refusal:
    status: int
    error: str
    message: str


@dataclass(frozen=True)
class AdminAccess:
    token: str = ""
    """When set, `Authorization: Bearer <token>` is required."""
    hosts: frozenset[str] = frozenset()
    """Host names, besides loopback ones, that name this server."""
    origins: frozenset[str] = frozenset()
    """Origins, besides the request's own, that are this server (its public URL's)."""
    sessions: AdminSessions | None = field(default=None, compare=False)
    """Browser sessions that stand in for the token, if the server grants any."""

    @classmethod
    def for_server(
        cls,
        token: str,
        bound_host: str,
        public_url: str = "",
        sessions: AdminSessions | None = None,
    ) -> AdminAccess:
        """The access of a server bound to `bound_host` and known to clients as `public_url`."""
        hosts = set() if bound_host in WILDCARD_HOSTS else {bound_host.lower().strip("[]")}
        origins = set()
        if public_url:
            try:
                public = parse_http_url(public_url)
            except AmbiguousUrlError:
                pass  # not a URL clients can use; only loopback names this server then
            else:
                hosts.add(public.host)
                origins.add(_origin(public))
        return cls(token, frozenset(hosts), frozenset(origins), sessions)

    def refusal(self, scope: Scope, *, check_token: bool = True) -> Refusal | None:
        """Why this request may not use the admin routes, or None; `check_token=False` leaves
        the token to the route (a page that shows a sign-in form without it)."""
        headers = Headers(scope=scope)
        return (
            self._host_refusal(headers)
            or self._origin_refusal(headers, scope["scheme"])
            or _body_refusal(headers, scope["method"])
            or (self._token_refusal(headers) if check_token else None)
        )

    def admits(self, headers: Headers) -> bool:
        """Whether the request passes the token check: no token set, the token, or a session."""
        return self._token_refusal(headers) is None

    def _host_refusal(self, headers: Headers) -> Refusal | None:
        host = headers.get("host", "")
        try:
            name, _ = split_authority(host)
        except AmbiguousUrlError:
            name = None
        if name is not None and (is_loopback_host(name) or name in self.hosts):
            return None
        return Refusal(
            403,
            "forbidden_host",
            f"Host {host[:100]!r} does not name this server (a loopback address or its public "
            "host): admin requests through other names are refused, against DNS rebinding",
        )

    def _origin_refusal(self, headers: Headers, scheme: str) -> Refusal | None:
        origin = headers.get("origin")
        own = f"{scheme}://{headers.get('host', '')}".lower()
        if origin is not None and origin.lower() not in {own, *self.origins}:
            return Refusal(
                403,
                "forbidden_origin",
                f"Origin {origin[:100]!r} is not this server: cross-site admin requests are "
                "refused",
            )
        site = headers.get("sec-fetch-site")
        if site is not None and site not in SAFE_FETCH_SITES:
            return Refusal(
                403, "forbidden_origin", f"a {site[:40]} fetch: admin requests from pages refused"
            )
        return None

    def _token_refusal(self, headers: Headers) -> Refusal | None:
        if not self.token or _bearer_matches(headers.get("authorization", ""), self.token):
            return None
        if self.sessions is not None and self.sessions.admits(headers):
            return None
        return Refusal(401, "unauthorized", "the admin API needs 'Authorization: Bearer <token>'")


def _body_refusal(headers: Headers, method: str) -> Refusal | None:
    """Only JSON bodies: a page may send text/plain or a form cross-site without asking."""
    if method in BODILESS_METHODS:
        return None
    content_type = headers.get("content-type")
    if content_type is None:
        bodiless = headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers
        if bodiless:
            return None
    elif content_type.split(";", 1)[0].strip().lower() == "application/json":
        return None
    return Refusal(
        415,
        "unsupported_media_type",
        f"Content-Type {(content_type or '')[:100]!r}: an admin request with a body sends it as "
        "application/json",
    )


def _origin(url: HttpUrl) -> str:
    """As a browser writes it in Origin: no default port, IPv6 in brackets."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    default = 443 if url.scheme == "https" else 80
    port = "" if url.port in (None, default) else f":{url.port}"
    return f"{url.scheme}://{host}{port}"


def _bearer_matches(authorization: str, token: str) -> bool:
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


class AdminGuard:
    """ASGI middleware in front of admin routes: answers a Refusal instead of calling them.
    `token_free_paths` pass without the token (every other rule holds): their routes decide."""

    def __init__(
        self, app: ASGIApp, access: AdminAccess, token_free_paths: frozenset[str] = frozenset()
    ) -> None:
        self.app = app
        self.access = access
        self.token_free_paths = token_free_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            check_token = scope["path"] not in self.token_free_paths
            refusal = self.access.refusal(scope, check_token=check_token)
            if refusal is not None:
                headers = {"WWW-Authenticate": "Bearer"} if refusal.status == 401 else None
                answer = JSONResponse(
                    {"error": refusal.error, "message": refusal.message}, refusal.status, headers
                )
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)
