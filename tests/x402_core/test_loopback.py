"""The loopback judgement: one plain URL form that every parser agrees on; the rest refused."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3.util import parse_url

from x402_core.loopback import (
    AmbiguousUrlError,
    is_loopback_host,
    parse_http_url,
    split_authority,
    url_refusal,
)

AMBIGUOUS_URLS = [
    "http://remote.invalid\\@127.0.0.1:{port}",
    "http://127.0.0.1:{port}\\@remote.invalid",
    "http://remote.invalid\\.127.0.0.1:{port}",
    "http://user@127.0.0.1:{port}",
    "http://remote.invalid@127.0.0.1:{port}",
    "http://127.0.0.1:{port}@remote.invalid",
    "http://127.0.0.1:{port}:x@remote.invalid",
    "http://%31%32%37.0.0.1:{port}",
    "http://127.0.0.1%2eremote.invalid:{port}",
    "http://127.0.0.1%00.remote.invalid:{port}",
    "http://127.0.0.1\t:{port}",
    "http://127.0.0.1 :{port}",
    " http://127.0.0.1:{port}",
    "http://127.0.0.1:{port}\r\nHost: remote.invalid",
    "http://127.0.0.1:{port}/\n",
    "http://127.1:{port}",
    "http://127.0.1:{port}",
    "http://0x7f.0.0.1:{port}",
    "http://0x7f000001:{port}",
    "http://0177.0.0.1:{port}",
    "http://127.0.0.01:{port}",
    "http://2130706433:{port}",
    "http://017700000001:{port}",
    "http://127.0.0.256:{port}",
    "http://[::1%25lo]:{port}",
    "http://[0:0:0:0:0:0:0:1]:{port}",
    "http://[::ffff:127.0.0.1]:{port}",
    "http://[::1]x:{port}",
    "http://localhost.:{port}",
    "http://local\u0127host:{port}",
    "http://ｌｏｃａｌｈｏｓｔ:{port}",
    "http://127.0.0.1:0{port}",
    "http://127.0.0.1:",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:+{port}",
    "ftp://127.0.0.1:{port}",
    "file:///etc/passwd",
    "ws://127.0.0.1:{port}",
    "http:/127.0.0.1:{port}",
    "http:\\\\127.0.0.1:{port}",
    "//127.0.0.1:{port}",
    "127.0.0.1:{port}",
    "http://",
]
"""URLs some parser reads as loopback and another as something else (or cannot read at all)."""
REMOTE_URLS = [
    "http://10.1.2.3:8545",
    "http://example.com",
    "https://192.168.1.10/rpc",
    "http://127.0.0.1.remote.invalid:{port}",
    "http://localhost.remote.invalid:{port}",
    "http://[::2]:{port}",
    "http://0.0.0.0:{port}",
]
LOOPBACK_URLS = [
    "http://127.0.0.1:8545",
    "http://127.8.9.10:8545",
    "http://localhost:8545",
    "http://LOCALHOST",
    "HTTPS://LocalHost:443/rpc",
    "http://[::1]:8545",
    "http://127.0.0.1:8545/path?query#fragment",
    "http://127.0.0.1#@remote.invalid",
    "http://127.0.0.1/@remote.invalid",
]
PARSERS = {
    "urllib": lambda url: urlsplit(url).hostname,
    "urllib3": lambda url: parse_url(url).host,
    "httpx": lambda url: httpx.URL(url).host,
}


@pytest.mark.parametrize("url", AMBIGUOUS_URLS)
def test_ambiguous_urls_are_refused_even_when_remote_is_allowed(url: str) -> None:
    url = url.format(port=8545)
    refusal = url_refusal(url, allow_remote=True)
    assert refusal is not None
    assert refusal.startswith("it is ambiguous")
    with pytest.raises(AmbiguousUrlError):
        parse_http_url(url)


@pytest.mark.parametrize("url", REMOTE_URLS)
def test_remote_urls_are_refused_unless_allowed(url: str) -> None:
    url = url.format(port=8545)
    assert "not on loopback" in (url_refusal(url) or "")
    assert url_refusal(url, allow_remote=True, seen_by=PARSERS) is None


@pytest.mark.parametrize("url", LOOPBACK_URLS)
def test_loopback_urls_pass_and_every_parser_agrees(url: str) -> None:
    assert url_refusal(url, seen_by=PARSERS) is None


def test_a_parser_that_reads_another_host_is_a_refusal() -> None:
    refusal = url_refusal("http://127.0.0.1:8545", seen_by={"odd": lambda url: "remote.invalid"})
    assert refusal == "odd reads its host as 'remote.invalid', not '127.0.0.1'"


def test_a_parser_that_cannot_read_it_is_a_refusal() -> None:
    def broken(url: str) -> str:
        raise RuntimeError("no")

    assert (
        url_refusal("http://127.0.0.1", seen_by={"broken": broken}) == "broken cannot parse it: no"
    )


@pytest.mark.parametrize(
    ("authority", "expected"),
    [
        ("127.0.0.1:8402", ("127.0.0.1", 8402)),
        ("LocalHost", ("localhost", None)),
        ("[::1]:80", ("::1", 80)),
        ("mock-server:8402", ("mock-server", 8402)),
    ],
)
def test_split_authority(authority: str, expected: tuple[str, int | None]) -> None:
    assert split_authority(authority) == expected


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.255.0.1", True),
        ("::1", True),
        ("::2", False),
        ("10.0.0.1", False),
        ("localhost.remote.invalid", False),
        ("::ffff:127.0.0.1", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


URL_PIECES = st.sampled_from(
    [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "remote.invalid",
        "@",
        "\\",
        ":",
        "8545",
        "/",
        "?",
        "#",
        "%2e",
        ".",
        "0x7f",
        "[",
        "]",
        " ",
        "\t",
        "user",
        "%40",
        "1",
        "0",
    ]
)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(
    st.sampled_from(["http://", "https://", "HTTP://", "http:/", "http:\\\\"]),
    st.lists(URL_PIECES, max_size=8),
)
def test_whatever_is_accepted_every_parser_reads_alike(scheme: str, pieces: list[str]) -> None:
    url = scheme + "".join(pieces)
    if url_refusal(url) is not None:
        return
    host = parse_http_url(url).host
    assert is_loopback_host(host)
    for read in PARSERS.values():
        assert read(url).lower().strip("[]") == host
