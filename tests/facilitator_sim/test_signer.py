"""`X402H_FACILITATOR_SIGNER_KEY`: honoured by /supported, /health, the banner and on chain."""

from __future__ import annotations

import httpx
import pytest

from facilitator_sim.app import create_app
from facilitator_sim.chains.anvil import AnvilProcess
from facilitator_sim.chains.evm import EvmChain
from facilitator_sim.chains.factory import open_chain
from facilitator_sim.chains.ledger import LedgerChain
from facilitator_sim.config import FacilitatorSettings, FacilitatorSettingsError
from tests.factories import verify_body
from x402_core.eip3009 import SECP256K1_N
from x402_core.wallets import test_wallet
from x402_harness.cli import main
from x402_service.serving import ServerThread

SIGNER = test_wallet(20)
"""A well-known test key that is not the default signer (Anvil account 0), with no ETH at start."""


@pytest.mark.parametrize(
    "key",
    [
        "0x1234",
        "zz" * 32,
        "0x" + "00" * 32,
        hex(SECP256K1_N),
        f"{SECP256K1_N + 1:064x}",
        SIGNER.private_key_hex + "\n",
        " " + SIGNER.private_key_hex,
        SIGNER.private_key_hex + "00",
    ],
)
def test_a_malformed_signer_key_is_refused_without_echoing_it(key: str) -> None:
    with pytest.raises(FacilitatorSettingsError, match="SIGNER_KEY") as refused:
        FacilitatorSettings(signer_key=key)
    assert key.strip() not in str(refused.value)


@pytest.mark.parametrize("key", [SIGNER.private_key_hex, SIGNER.private_key_hex[2:]])
def test_the_signer_is_advertised_everywhere(key: str) -> None:
    settings = FacilitatorSettings(signer_key=key)
    assert key not in repr(settings)
    with ServerThread(create_app(LedgerChain(), settings)) as server:
        supported = httpx.get(server.url + "/supported").json()
        health = httpx.get(server.url + "/health").json()
    assert supported["signers"] == {"eip155:*": [SIGNER.address]}
    assert health["signer"] == SIGNER.address


def test_the_cli_names_the_signer_and_where_its_key_comes_from(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("X402H_FACILITATOR_SIGNER_KEY", SIGNER.private_key_hex)
    assert main(["facilitator", "--selftest"]) == 0
    out = capsys.readouterr().out
    assert f"signer       {SIGNER.address} (key from X402H_FACILITATOR_SIGNER_KEY)" in out


def test_the_cli_refuses_a_malformed_key_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("X402H_FACILITATOR_SIGNER_KEY", "0xnot-a-key")
    assert main(["facilitator", "--selftest"]) == 2
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "X402H_FACILITATOR_SIGNER_KEY" in out
    assert "not-a-key" not in out


@pytest.mark.anvil
def test_on_evm_settlements_are_sent_from_the_configured_signer(
    anvil: AnvilProcess, evm_chain: EvmChain
) -> None:
    settings = FacilitatorSettings(signer_key=SIGNER.private_key_hex)
    with open_chain(anvil.rpc_url, signer_key=settings.signer_private_key()) as opened:
        with ServerThread(create_app(opened.chain, settings)) as server:
            settled = httpx.post(server.url + "/settle", json=verify_body(2), timeout=60).json()
        assert settled["success"] is True, settled
        sent = evm_chain.rpc("eth_getTransactionByHash", [settled["transaction"]])
    assert sent["from"].lower() == SIGNER.address.lower()


@pytest.mark.anvil
def test_a_chain_sending_from_another_key_than_the_settings_name_is_refused(
    evm_chain: EvmChain,
) -> None:
    with pytest.raises(FacilitatorSettingsError, match="same signer key"):
        create_app(evm_chain, FacilitatorSettings(signer_key=SIGNER.private_key_hex))
