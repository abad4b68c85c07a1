"""The Stack: everything started on loopback, in threads or as child processes, and stopped."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from mock_server.config import ServerSettings
from x402_core.listing import ListingError
from x402_core.wallets import test_wallet
from x402_harness.stack import Stack, StackConfig, StackError
from x402_payer import Payer

BODY = {"model": "seedream-4.6", "prompt": "a lighthouse in fog", "aspect_ratio": "16:9"}
INSTANT = ServerSettings(default_scenario="instant")


def pay_once(stack: Stack, tmp_path: Path, wallet_index: int) -> dict:
    with Payer(test_wallet(wallet_index).private_key) as payer:
        result = payer.generate_image(stack.server_url, BODY, tmp_path)
    assert result.job["status"] == "completed"
    assert result.files[0].read_bytes().startswith(b"\x89PNG")
    return result.job


def test_threads_on_the_ledger(tmp_path: Path) -> None:
    with Stack(StackConfig(server=INSTANT)) as stack:
        assert stack.server_url.startswith("http://127.0.0.1:")
        assert stack.facilitator_url.startswith("http://127.0.0.1:")
        before = stack.chain.balance_of(stack.token, stack.pay_to)
        job = pay_once(stack, tmp_path, 4)
        assert stack.chain.balance_of(stack.token, stack.pay_to) - before == 50_000
        assert [j.id for j in stack.server_state.store.jobs()] == [job["id"]]
        health = httpx.get(f"{stack.admin_url}/health", timeout=5).json()
        assert health["settlements"] == 1
    with pytest.raises(httpx.TransportError):
        httpx.get(stack.server_url + "/health", timeout=2)


def test_processes_on_the_ledger(tmp_path: Path) -> None:
    config = StackConfig(mode="processes", server=INSTANT)
    with Stack(config) as stack:
        pay_once(stack, tmp_path, 5)
        with pytest.raises(StackError, match="ledger"):
            _ = stack.chain
        jobs = httpx.get(f"{stack.admin_url}/jobs", timeout=5).json()
        assert len(jobs["jobs"]) == len(jobs["settlements"]) == 1
        supported = httpx.get(f"{stack.facilitator_url}/supported", timeout=5).json()
        assert supported["kinds"]
    with pytest.raises(httpx.TransportError):
        httpx.get(stack.facilitator_url + "/health", timeout=2)


@pytest.mark.anvil
def test_processes_on_anvil(tmp_path: Path) -> None:
    config = StackConfig(chain="anvil", mode="processes", server=INSTANT)
    with Stack(config) as stack:
        rpc_url = stack.chain.rpc_url
        before = stack.chain.balance_of(stack.token, stack.pay_to)
        pay_once(stack, tmp_path, 6)
        assert stack.chain.balance_of(stack.token, stack.pay_to) - before == 50_000
    with pytest.raises(httpx.TransportError):
        httpx.post(rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=2)


def test_failed_start_leaves_nothing_running(tmp_path: Path) -> None:
    threads_before = set(threading.enumerate())
    broken = ServerSettings(listing_path=tmp_path / "missing.json")
    with pytest.raises(ListingError, match=r"missing\.json"):
        Stack(StackConfig(server=broken)).start()
    assert set(threading.enumerate()) <= threads_before


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(StackError, match="processes"):
        StackConfig(mode="containers")
