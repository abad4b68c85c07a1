"""Ports a person asks for, checked before anything starts: in range, and free to listen on."""

from __future__ import annotations

import argparse
import errno
import re
import socket

from x402_harness.usage import UsageError

MAX_PORT = 65535
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


class PortError(UsageError):
    """A port out of range, taken, or not ours to listen on."""


def _range_problem(port: int) -> str | None:
    if 0 <= port <= MAX_PORT:
        return None
    return f"{port} is not a port: expected 1-{MAX_PORT}, or 0 for a free one"


def port_number(text: str) -> int:
    """argparse type of a port flag: a whole number from 0 (a free port) to 65535."""
    if not _WHOLE_NUMBER.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a port: expected 1-{MAX_PORT}, or 0 for a free one"
        )
    port = int(text)
    problem = _range_problem(port)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return port


def check_port(host: str, port: int, named: str) -> None:
    """PortError naming `named` (the flag or variable it came from) when `port` is out of range
    or cannot be listened on at `host` now; 0 (a free port) always passes."""
    problem = _range_problem(port)
    if problem is not None:
        raise PortError(f"{named} {port}: {problem}")
    if port == 0:
        return
    bare = host.strip("[]")
    family = socket.AF_INET6 if ":" in bare else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((bare, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortError(
                    f"{named} {port}: something already listens on {host}:{port} (another "
                    "x402-harness?); stop it, choose another port, or leave it out for a free one"
                ) from None
            raise PortError(
                f"{named} {port}: cannot listen on {host}:{port}: {exc.strerror}"
            ) from None
