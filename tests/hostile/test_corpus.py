"""Hostile requests a schema cannot express, sent to both servers: none is a 5xx, none changes
state (jobs, settlements, balances, scenario, clock), and both journals stay readable."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.factories import authorization, verify_body
from tests.hostile.conftest import Targets
from x402_core.headers import PAYMENT_SIGNATURE, X_PAYMENT
from x402_core.wallets import test_wallet

GENERATE = "/v1/images/generate"
BODY = {"model": "nano-banana-2", "prompt": "a hostile fox"}
MEGABYTE = 1024 * 1024
JSON = {"content-type": "application/json"}
PAYER = test_wallet(2).address


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body sent chunked (no Content-Length): the server learns its size only as it comes."""
    sent = 0
    while sent < total:
        yield b" " * size
        sent += size


def _forged(payer: str | None = None) -> dict[str, Any]:
    """A well-formed v2 verify body whose signature is wallet 1's over wallet 2's authorization;
    `payer` replaces the authorization's `from`."""
    body = verify_body(2, wallet=test_wallet(1), auth=authorization(test_wallet(2)))
    if payer is not None:
        body["paymentPayload"]["payload"]["authorization"]["from"] = payer
    return body


FORGED = json.dumps(_forged()["paymentPayload"]).encode()
STANDARD = base64.b64encode(FORGED).decode()
URL_SAFE = base64.urlsafe_b64encode(FORGED).decode()
BASE64_VARIANTS = {
    "standard": (STANDARD, {402}),
    "url-safe": (URL_SAFE, {402}),
    "unpadded": (STANDARD.rstrip("="), {402}),
    "spaces around": (f"  {STANDARD}  ", {402}),
    "line breaks inside": (STANDARD[:40] + "\n" + STANDARD[40:], {400}),
    "mixed alphabets": (STANDARD[:8] + "-_" + STANDARD[10:], {400}),
    "not base64": ("%%%not base64%%%", {400}),
    "only padding": ("====", {400}),
    "empty": ("", {400}),
    "non-ASCII": ("ünïcødé", {400}),
    "base64 of non-UTF-8": (base64.b64encode(b"\xff\xfe{}").decode(), {400}),
    "base64 of NaN": (base64.b64encode(b'{"x402Version": NaN}').decode(), {400}),
    "base64 of a huge integer": (base64.b64encode(b'{"a": ' + b"9" * 6000 + b"}").decode(), {400}),
    "base64 of duplicate keys": (base64.b64encode(b'{"a": 1, "a": 2}').decode(), {400}),
    "base64 of deep nesting": (base64.b64encode(b"[" * 4000 + b"]" * 4000).decode(), {400}),
    "oversized": ("A" * 20_000, {400}),
}


def _raw_post(base_url: str, path: str, header_lines: list[bytes], body: bytes) -> int:
    """POST over a plain socket, header lines as given (httpx refuses to send odd ones)."""
    url = httpx.URL(base_url)
    request = b"\r\n".join(
        [
            b"POST " + path.encode() + b" HTTP/1.1",
            b"Host: 127.0.0.1",
            b"Content-Type: application/json",
            b"Connection: close",
            *header_lines,
            b"Content-Length: " + str(len(body)).encode(),
            b"",
            body,
        ]
    )
    with socket.create_connection((url.host, url.port), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while b"\r\n" not in answer:
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize("name", sorted(BASE64_VARIANTS))
@pytest.mark.parametrize("header", [PAYMENT_SIGNATURE, X_PAYMENT])
def test_payment_header_variants(unchanged: Targets, header: str, name: str) -> None:
    value, expected = BASE64_VARIANTS[name]
    line = header.encode() + b": " + value.encode()
    status = _raw_post(unchanged.mock_url, GENERATE, [line], json.dumps(BODY).encode())
    if header == X_PAYMENT and expected == {402}:
        expected = {400}  # a v2 payload in the v1 header does not fit the v1 schema
    assert status in expected


def test_both_payment_headers_at_once(unchanged: Targets) -> None:
    headers = {PAYMENT_SIGNATURE: STANDARD, X_PAYMENT: STANDARD}
    answer = httpx.post(unchanged.mock_url + GENERATE, json=BODY, headers=headers)
    assert answer.status_code == 400
    assert "not both" in answer.json()["message"]


def _bad_bodies() -> dict[str, tuple[Any, dict[str, str]]]:
    return {
        "1 MiB with Content-Length": (b" " * MEGABYTE, JSON),
        "1 MiB chunked": (_chunks(MEGABYTE), JSON),
        "invalid UTF-8": (b'{"model": "nano-banana-2", "prompt": "\xc3\x28"}', JSON),
        "a lone surrogate": (b'{"model": "nano-banana-2", "prompt": "\\udfff"}', JSON),
        "deep nesting": (b"[" * 30_000 + b"]" * 30_000, JSON),
        "NaN": (b'{"model": "nano-banana-2", "prompt": "x", "x402Version": NaN}', JSON),
        "Infinity": (b'{"x402Version": Infinity}', JSON),
        "1e999": (b'{"x402Version": 1e999}', JSON),
        "a huge integer": (b'{"x402Version": ' + b"7" * 5000 + b"}", JSON),
        "duplicate keys": (b'{"x402Version": 2, "x402Version": 1}', JSON),
        "text/plain": (b"model=nano-banana-2&prompt=x", {"content-type": "text/plain"}),
        "a form": (b"model=nano-banana-2", {"content-type": "application/x-www-form-urlencoded"}),
        "multipart": (b"--x\r\n\r\n--x--", {"content-type": "multipart/form-data; boundary=x"}),
        "no body": (b"", {}),
        "JSON null": (b"null", JSON),
        "a JSON string": (b'"\\r\\nX-Injected: 1"', JSON),
        "CRLF in the payer's address": (json.dumps(_forged(PAYER + "\r\n")).encode(), JSON),
        "LF after the payer's address": (json.dumps(_forged(PAYER + "\n")).encode(), JSON),
    }


@pytest.mark.parametrize("name", sorted(_bad_bodies()))
@pytest.mark.parametrize("path", [GENERATE, "/verify", "/settle", "/__mock__/scenario"])
def test_bad_bodies_are_a_4xx(unchanged: Targets, path: str, name: str) -> None:
    content, headers = _bad_bodies()[name]
    base = unchanged.facilitator_url if path in ("/verify", "/settle") else unchanged.mock_url
    answer = httpx.post(base + path, content=content, headers=headers, timeout=30)
    assert answer.status_code in (400, 415), answer.text
    assert answer.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "raw_header",
    [
        b"PAYMENT-SIGNATURE: abc\r\n folded",
        b"PAYMENT-SIGNATURE: abc\rX-Injected: 1",
        b"PAYMENT-SIGNATURE: abc\nX-Injected: 1",
        b"PAYMENT-SIGNATURE: a\x00b",
        b"PAYMENT-SIGNATURE : abc",
        b"X-PAYMENT: " + b"A" * 300_000,
    ],
)
@pytest.mark.parametrize("server", ["mock", "facilitator"])
def test_crlf_and_control_characters_in_header_lines(
    unchanged: Targets, server: str, raw_header: bytes
) -> None:
    base = unchanged.mock_url if server == "mock" else unchanged.facilitator_url
    path = GENERATE if server == "mock" else "/verify"
    status = _raw_post(base, path, [raw_header], json.dumps(BODY).encode())
    assert 400 <= status < 500
