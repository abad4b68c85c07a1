"""The RPC guard: every ambiguous or remote node URL is refused before any connection."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from facilitator_sim.chains.base import ChainError
from facilitator_sim.chains.evm import EvmChain
from facilitator_sim.chains.factory import ChainSpecError, open_chain
from facilitator_sim.chains.rpc_guard import RemoteRpcRefusedError, check_rpc_url
from tests.x402_core.test_loopback import AMBIGUOUS_URLS, LOOPBACK_URLS, REMOTE_URLS


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A socket on 127.0.0.1 that a guard letting a URL through would be connected to."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.setblocking(False)
        yield server


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record, and block, every name lookup and connection attempt."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network use blocked by the test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def _accepted(server: socket.socket) -> int:
    count = 0
    while True:
        try:
            connection, _ = server.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


@pytest.mark.parametrize("template", AMBIGUOUS_URLS + REMOTE_URLS)
def test_a_refused_url_is_refused_before_any_connection(
    listener: socket.socket, no_network: list[object], template: str
) -> None:
    url = template.format(port=listener.getsockname()[1])
    with pytest.raises(RemoteRpcRefusedError, match="--allow-remote-rpc"):
        EvmChain(url)
    with pytest.raises((RemoteRpcRefusedError, ChainSpecError)):
        open_chain(url)  # without "://" it is not taken for a URL at all
    with pytest.raises(RemoteRpcRefusedError):
        open_chain("anvil", fork_url=url)

    assert no_network == []
    assert _accepted(listener) == 0


@pytest.mark.parametrize("template", AMBIGUOUS_URLS)
def test_allowing_remote_rpc_does_not_let_an_ambiguous_url_through(
    listener: socket.socket, no_network: list[object], template: str
) -> None:
    url = template.format(port=listener.getsockname()[1])
    with pytest.raises(RemoteRpcRefusedError, match="ambiguous"):
        EvmChain(url, allow_remote_rpc=True)
    assert no_network == []


def test_the_backslash_trick_of_the_issue_is_refused() -> None:
    with pytest.raises(RemoteRpcRefusedError, match="backslash"):
        check_rpc_url("http://remote.invalid\\@127.0.0.1:8545")


def test_allow_remote_rpc_gets_past_the_guard(no_network: list[object]) -> None:
    url = REMOTE_URLS[0]
    check_rpc_url(url, allow_remote_rpc=True)

    # Past the guard the chain tries to connect, which the test blocks.
    with pytest.raises(ChainError):
        EvmChain(url, allow_remote_rpc=True)

    assert no_network != []


@pytest.mark.parametrize("url", LOOPBACK_URLS)
def test_loopback_rpc_urls_pass_the_guard(url: str) -> None:
    check_rpc_url(url)
