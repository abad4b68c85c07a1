"""Port flags: in range, and free to listen on, checked before anything starts."""

from __future__ import annotations

import argparse
import re
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from x402_harness.commands.ports import MAX_PORT, PortError, check_port, port_number


@given(st.integers(0, MAX_PORT))
def test_every_port_in_range_is_read_back(port: int) -> None:
    assert port_number(str(port)) == port


@given(st.integers().filter(lambda n: not 0 <= n <= MAX_PORT))
def test_a_number_out_of_range_is_refused_with_the_range(port: int) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=f"expected 1-{MAX_PORT}, or 0"):
        port_number(str(port))


@given(st.text().filter(lambda t: not re.fullmatch(r"-?[0-9]+", t.strip())))
def test_text_that_is_no_whole_number_in_ascii_digits_is_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="is not a port"):
        port_number(text)


def test_a_port_something_listens_on_is_named_with_its_source() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(PortError, match=f"^X402H_SERVER_PORT {port}: something already"):
            check_port("127.0.0.1", port, "X402H_SERVER_PORT")
    check_port("127.0.0.1", port, "--port")  # free again once it is closed


def test_port_zero_always_passes_and_out_of_range_never_does() -> None:
    check_port("127.0.0.1", 0, "--port")
    with pytest.raises(PortError, match="--port 70000: 70000 is not a port"):
        check_port("127.0.0.1", 70000, "--port")
