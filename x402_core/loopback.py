"""Is a URL on this machine? A strict judgement that every HTTP library reads the same way.

URL parsers disagree on odd spellings: `http://a.invalid\\@127.0.0.1` is 127.0.0.1 to urllib and
a.invalid to urllib3 and browsers. So only one plain form is accepted, `http(s)://host[:port]`
then a path, query or fragment, and anything a parser could read two ways is refused: userinfo,
backslashes, percent-encoding or non-ASCII in the host, whitespace and control characters,
IPv4 spelled other than as four decimal octets, IPv6 zones, empty or zero-padded ports.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

LOOPBACK_NAME = "localhost"
_URL = re.compile(
    r"(?P<scheme>https?)://(?P<authority>[^/?#]*)(?P<rest>[/?#].*)?", re.IGNORECASE | re.DOTALL
)
_AUTHORITY = re.compile(
    r"(?P<host>[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[1-9][0-9]{0,4}))?", re.ASCII
)
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?", re.ASCII)
_OCTET = re.compile(r"0|[1-9][0-9]{0,2}", re.ASCII)
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*", re.ASCII)

HostReader = Callable[[str], str | None]
"""How an HTTP library reads the host of a URL (it may raise on URLs it cannot parse)."""


class AmbiguousUrlError(ValueError):
    """A URL that is not plainly `http(s)://host[:port]...`; the message says what is odd."""


@dataclass(frozen=True, slots=True)
class HttpUrl:
    scheme: str
    host: str
    """Lower-case, IPv6 without brackets."""
    port: int | None


def parse_http_url(url: str) -> HttpUrl:
    """The scheme, host and port of a plainly written http(s) URL; AmbiguousUrlError otherwise."""
    if not url.isascii() or not url.isprintable() or " " in url:
        raise AmbiguousUrlError("it contains whitespace, control or non-ASCII characters")
    if "\\" in url:
        raise AmbiguousUrlError("it contains a backslash, which parsers read differently")
    match = _URL.fullmatch(url)
    if match is None:
        raise AmbiguousUrlError("it is not an http:// or https:// URL")
    authority = match["authority"]
    if "@" in authority:
        raise AmbiguousUrlError("it carries userinfo (user@host), which parsers read differently")
    if "%" in authority:
        raise AmbiguousUrlError("its host is percent-encoded")
    return HttpUrl(match["scheme"].lower(), *split_authority(authority))


def split_authority(authority: str) -> tuple[str, int | None]:
    """`host[:port]` (as in a URL or a Host header) as (lower-case host, port)."""
    match = _AUTHORITY.fullmatch(authority)
    if match is None:
        raise AmbiguousUrlError(f"{authority!r} is not host[:port] written plainly")
    port = int(match["port"]) if match["port"] else None
    if port is not None and port > 65535:
        raise AmbiguousUrlError(f"port {port} is out of range")
    host = match["host"].lower()
    if host.startswith("["):
        return _ipv6(host[1:-1]), port
    _check_name_or_ipv4(host)
    return host, port


def _ipv6(text: str) -> str:
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        raise AmbiguousUrlError(f"[{text}] is not an IPv6 address") from None
    if address.compressed != text:
        raise AmbiguousUrlError(f"[{text}] is not written canonically ([{address.compressed}])")
    return text


def _check_name_or_ipv4(host: str) -> None:
    labels = host.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        # A numeric last label makes it an IPv4 address to browsers and to inet_aton, which
        # also read 127.1, 0x7f.0.0.1, 0177.0.0.1 and 2130706433: only dotted decimal is plain.
        if len(labels) != 4 or not all(_OCTET.fullmatch(o) and int(o) <= 255 for o in labels):
            raise AmbiguousUrlError(f"{host} is not an IPv4 address in dotted decimal")
        return
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise AmbiguousUrlError(f"{host!r} is not a host name")


def is_loopback_host(host: str) -> bool:
    """Whether a host as `parse_http_url` gives it is this machine: localhost, 127/8 or ::1."""
    if host == LOOPBACK_NAME:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return (address.version == 4 and address.is_loopback) or address == ipaddress.IPv6Address("::1")


def url_refusal(
    url: str, *, allow_remote: bool = False, seen_by: Mapping[str, HostReader] | None = None
) -> str | None:
    """Why `url` may not be used (None: it may): it is ambiguous, an HTTP library in `seen_by`
    reads another host in it, or its host is off this machine and remote is not allowed."""
    try:
        parsed = parse_http_url(url)
    except AmbiguousUrlError as exc:
        return f"it is ambiguous: {exc}"
    for library, read_host in (seen_by or {}).items():
        try:
            seen = (read_host(url) or "").lower().removeprefix("[").removesuffix("]")
        except Exception as exc:  # a third-party parser: any failure means it cannot read it
            return f"{library} cannot parse it: {exc}"
        if seen != parsed.host:
            return f"{library} reads its host as {seen!r}, not {parsed.host!r}"
    if allow_remote or is_loopback_host(parsed.host):
        return None
    return f"its host {parsed.host} is not on loopback (127.0.0.0/8, ::1, localhost)"
