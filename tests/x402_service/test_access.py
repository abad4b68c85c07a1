"""Admin access rules: Host, Origin, fetch site, content type and token, each refused alone."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers

from x402_service.access import (
    MAX_SESSIONS,
    SESSION_COOKIE_PREFIX,
    AdminAccess,
    AdminSessions,
    Refusal,
)

GOOD = {"host": "127.0.0.1:8402"}


def _refusal(access: AdminAccess, headers: dict[str, str], method: str = "GET") -> Refusal | None:
    scope = {
        "type": "http",
        "method": method,
        "scheme": "http",
        "path": "/__mock__/reset",
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
    }
    return access.refusal(scope)


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:8402", "127.0.0.1", "localhost:8402", "LOCALHOST", "[::1]:8402", "127.9.9.9:1"],
)
def test_loopback_hosts_are_welcome(host: str) -> None:
    assert _refusal(AdminAccess(), {"host": host}) is None


@pytest.mark.parametrize(
    "host",
    [
        "",
        "attacker.example",
        "attacker.example:8402",
        "127.0.0.1.attacker.example",
        "localhost.attacker.example:8402",
        "127.1:8402",
        "0x7f000001",
        "127.0.0.1@attacker.example",
        "127.0.0.1:8402 ",
        "[::ffff:127.0.0.1]",
        "192.168.1.10:8402",
    ],
)
def test_other_hosts_are_refused_against_dns_rebinding(host: str) -> None:
    headers = {"host": host} if host else {}
    refusal = _refusal(AdminAccess(), headers)
    assert refusal is not None
    assert (refusal.status, refusal.error) == (403, "forbidden_host")


def test_the_public_host_and_a_bound_address_are_this_server() -> None:
    access = AdminAccess.for_server("", "10.0.0.5", "https://mock.example:8443/")
    assert _refusal(access, {"host": "mock.example:8443"}) is None
    assert _refusal(access, {"host": "10.0.0.5:8402"}) is None
    origin = {"host": "127.0.0.1:8402", "origin": "https://mock.example:8443"}
    assert _refusal(access, origin, "POST") is None
    assert _refusal(AdminAccess.for_server("", "0.0.0.0"), {"host": "0.0.0.0"}) is not None


@pytest.mark.parametrize(
    "origin", ["http://attacker.example", "null", "http://127.0.0.1:9999", "https://127.0.0.1:8402"]
)
def test_a_foreign_origin_is_refused(origin: str) -> None:
    refusal = _refusal(AdminAccess(), GOOD | {"origin": origin}, "POST")
    assert refusal is not None
    assert (refusal.status, refusal.error) == (403, "forbidden_origin")


def test_the_servers_own_origin_is_welcome() -> None:
    assert _refusal(AdminAccess(), GOOD | {"origin": "http://127.0.0.1:8402"}, "POST") is None


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_a_cross_site_fetch_is_refused_even_without_origin(site: str) -> None:
    refusal = _refusal(AdminAccess(), GOOD | {"sec-fetch-site": site})
    assert refusal is not None
    assert refusal.status == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "text/plain", "content-length": "17"},
        {"content-type": "text/plain;charset=UTF-8", "content-length": "0"},
        {"content-type": "application/x-www-form-urlencoded", "content-length": "9"},
        {"content-type": "multipart/form-data; boundary=x", "content-length": "9"},
        {"content-length": "9"},
        {"transfer-encoding": "chunked"},
    ],
)
def test_a_post_body_must_be_json(headers: dict[str, str]) -> None:
    refusal = _refusal(AdminAccess(), GOOD | headers, "POST")
    assert refusal is not None
    assert (refusal.status, refusal.error) == (415, "unsupported_media_type")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"content-length": "0"},
        {"content-type": "application/json", "content-length": "2"},
        {"content-type": "Application/JSON; charset=utf-8", "content-length": "2"},
    ],
)
def test_json_and_bodiless_posts_pass(headers: dict[str, str]) -> None:
    assert _refusal(AdminAccess(), GOOD | headers, "POST") is None


@pytest.mark.parametrize(
    ("authorization", "allowed"),
    [
        ("Bearer s3cret", True),
        ("bearer s3cret", True),
        ("", False),
        ("Bearer", False),
        ("Bearer s3cre", False),
        ("Bearer s3cret2", False),
        ("Basic s3cret", False),
    ],
)
def test_a_token_when_set_is_required(authorization: str, allowed: bool) -> None:
    headers = GOOD | ({"authorization": authorization} if authorization else {})
    refusal = _refusal(AdminAccess(token="s3cret"), headers)
    assert (refusal is None) is allowed
    if refusal is not None:
        assert (refusal.status, refusal.error) == (401, "unauthorized")


@settings(max_examples=300, derandomize=True)
@given(st.text(alphabet="0123456789abcdefxlohst.:[]@% -", max_size=30))
def test_a_welcome_host_header_always_names_loopback(host: str) -> None:
    if _refusal(AdminAccess(), {"host": host}) is None:
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        assert name.lower().strip("[]") in {"localhost", "::1"} or name.startswith("127.")


def test_a_granted_session_stands_in_for_the_token_on_its_own_port_only() -> None:
    sessions = AdminSessions()
    access = AdminAccess(token="s3cret", sessions=sessions)
    granted = sessions.grant()
    mine = GOOD | {"cookie": f"{SESSION_COOKIE_PREFIX}8402={granted}"}
    assert _refusal(access, mine) is None
    assert access.admits(Headers(mine))
    other_port = {"host": "127.0.0.1:9000", "cookie": f"{SESSION_COOKIE_PREFIX}8402={granted}"}
    for headers in (
        other_port,
        GOOD | {"cookie": f"{SESSION_COOKIE_PREFIX}8402=forged"},
        GOOD | {"cookie": f"{SESSION_COOKIE_PREFIX}8402="},
        GOOD,
    ):
        refusal = _refusal(access, headers)
        assert refusal is not None
        assert refusal.status == 401
    assert _refusal(AdminAccess(token="s3cret"), mine) is not None  # no sessions granted here


def test_a_session_does_not_lift_the_other_rules() -> None:
    sessions = AdminSessions()
    access = AdminAccess(token="s3cret", sessions=sessions)
    cookie = {"cookie": f"{SESSION_COOKIE_PREFIX}8402={sessions.grant()}"}
    cross_site = GOOD | cookie | {"origin": "http://attacker.example"}
    refusal = _refusal(access, cross_site, "POST")
    assert refusal is not None
    assert refusal.error == "forbidden_origin"


def test_sessions_are_bounded_the_oldest_forgotten() -> None:
    sessions = AdminSessions()
    first = sessions.grant()
    for _ in range(MAX_SESSIONS):
        sessions.grant()
    cookie = {"cookie": f"{SESSION_COOKIE_PREFIX}8402={first}"}
    assert not sessions.admits(Headers(GOOD | cookie))


def test_a_token_free_path_skips_only_the_token() -> None:
    access = AdminAccess(token="s3cret")
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": "/__mock__/",
        "headers": [(b"host", b"attacker.example")],
    }
    assert access.refusal(scope, check_token=False) is not None
    scope["headers"] = [(b"host", b"127.0.0.1:8402")]
    assert access.refusal(scope, check_token=False) is None
    assert access.refusal(scope) is not None
