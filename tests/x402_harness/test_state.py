"""`up --state DIR` / `StackConfig(state_dir=...)`: every component's state kept together, so a
restarted stack remembers balances, used nonces, settlements, purchases and jobs."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.factories import PAY_TO, PRICE, USDC
from x402_core.headers import PAYMENT_SIGNATURE
from x402_core.wallets import test_wallet
from x402_core.xgen import xgen_listing
from x402_harness.stack import Stack, StackConfig, StateFiles
from x402_payer import Payer

BODY = {"model": "seedream-4.6", "prompt": "a kept lighthouse"}


def test_a_restarted_ledger_stack_forgets_nothing_and_charges_nothing_twice(
    tmp_path: Path,
) -> None:
    config = StackConfig(state_dir=tmp_path)
    with Stack(config) as stack, Payer(test_wallet(5).private_key) as payer:
        paid = payer.request_paid("POST", stack.endpoint_url, json=BODY)
        payer_balance = stack.chain.balance_of(USDC, test_wallet(5).address)
    header = paid.response.request.headers[PAYMENT_SIGNATURE]
    files = StateFiles.under(tmp_path)
    assert files.facilitator.is_file()
    assert files.mock.is_file()
    with Stack(config) as again:
        assert again.chain.balance_of(USDC, PAY_TO) == PRICE
        assert again.chain.balance_of(USDC, test_wallet(5).address) == payer_balance
        replay = httpx.post(again.endpoint_url, json=BODY, headers={PAYMENT_SIGNATURE: header})
        assert replay.status_code == 200
        assert replay.json()["id"] == paid.response.json()["id"]
        assert again.chain.balance_of(USDC, PAY_TO) == PRICE, "not charged twice"
        assert again.disagreements() == []


@pytest.mark.anvil
def test_up_with_state_on_anvil_says_when_the_chain_forgot_settlements(tmp_path: Path) -> None:
    """Anvil killed before it wrote its state: `up` names the settlements the chain lost, and
    the same payment is still answered with its job, never charged again."""
    config = StackConfig(chain="anvil", state_dir=tmp_path)
    with Stack(config) as stack, Payer(test_wallet(6).private_key) as payer:
        paid = payer.request_paid("POST", stack.endpoint_url, json=BODY)
        header = paid.response.request.headers[PAYMENT_SIGNATURE]
        assert stack.anvil is not None
        stack.anvil.kill()  # no state written: the settlement is lost to the chain
        settled = paid.settlement
    assert settled is not None
    command = [sys.executable, "-m", "x402_harness.cli", "up", "--chain", "anvil"]
    command += ["--state", str(tmp_path), "--port", "0"]
    up = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = _read_until(up, "Press Ctrl-C", timeout=60)
        text = "\n".join(lines)
        assert "unknown to the chain" in text
        assert settled.transaction in text
        endpoint = next(line.split()[-1] for line in lines if xgen_listing().path in line)
        replay = httpx.post(endpoint, json=BODY, headers={PAYMENT_SIGNATURE: header})
        assert replay.json()["id"] == paid.response.json()["id"]
    finally:
        up.send_signal(signal.SIGTERM)
        up.communicate(timeout=30)


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float) -> list[str]:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if marker in line:
            return lines
    raise AssertionError(f"{marker!r} never printed: {lines}")
