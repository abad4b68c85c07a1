"""Multicall3 on the chains the harness starts: the contract sits at the canonical address and
answers the calls official facilitators make, and a started Anvil has a first block, so that
`latest` is the present. (Its artifact's freshness is tested with the token's.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import ContractLogicError
from x402.mechanisms.evm.constants import BALANCE_OF_ABI, NAME_ABI
from x402.mechanisms.evm.multicall import MulticallCall, multicall
from x402.mechanisms.evm.signers import FacilitatorWeb3Signer

from facilitator_sim.chains.evm import EvmChain
from facilitator_sim.chains.factory import OpenedChain, open_chain
from facilitator_sim.chains.multicall import MULTICALL3_ADDRESS, install_multicall
from facilitator_sim.contracts import (
    load_multicall_artifact,
)
from x402_core.networks import BASE
from x402_core.wallets import STARTING_USDC_ATOMIC, facilitator_wallet, test_wallet

REPO_ROOT = Path(__file__).resolve().parents[2]
USDC = to_checksum_address(BASE.usdc.address)
PAYER = test_wallet(1)


@pytest.fixture(scope="module")
def opened() -> Iterator[OpenedChain]:
    with open_chain("anvil") as chain:
        yield chain


@pytest.fixture(scope="module")
def evm(opened: OpenedChain) -> EvmChain:
    assert isinstance(opened.chain, EvmChain)
    return opened.chain


@pytest.fixture(scope="module")
def web3(evm: EvmChain) -> Web3:
    return Web3(Web3.HTTPProvider(evm.rpc_url))


@pytest.mark.anvil
def test_a_started_anvil_has_a_present_block_and_multicall(web3: Web3) -> None:
    latest = web3.eth.get_block("latest")
    assert latest["number"] >= 1
    assert abs(latest["timestamp"] - time.time()) < 120
    code = web3.eth.get_code(to_checksum_address(MULTICALL3_ADDRESS))
    assert bytes(code) == load_multicall_artifact().deployed_bytecode


@pytest.mark.anvil
def test_the_official_sdk_reads_through_it(evm: EvmChain) -> None:
    assert evm.rpc_url is not None
    signer = FacilitatorWeb3Signer(facilitator_wallet().private_key_hex, evm.rpc_url)
    balance, name, missing = multicall(
        signer,
        [
            MulticallCall(USDC, BALANCE_OF_ABI, "balanceOf", (PAYER.address,)),
            MulticallCall(USDC, NAME_ABI, "name"),
            MulticallCall(MULTICALL3_ADDRESS, NAME_ABI, "name"),  # Multicall3 has no name()
        ],
    )
    assert (balance.success, balance.result) == (True, STARTING_USDC_ATOMIC)
    assert (name.success, name.result) == (True, BASE.usdc.eip712_name)
    assert missing.success is False


@pytest.mark.anvil
def test_aggregate3_fails_the_batch_only_for_calls_that_may_not_fail(web3: Web3) -> None:
    batcher = web3.eth.contract(
        address=to_checksum_address(MULTICALL3_ADDRESS), abi=load_multicall_artifact().abi
    )
    failing = (to_checksum_address(MULTICALL3_ADDRESS), b"\xde\xad\xbe\xef")
    timestamp = batcher.encode_abi("getCurrentBlockTimestamp", [])
    tolerated = batcher.functions.aggregate3(
        [(failing[0], True, failing[1]), (failing[0], True, timestamp)]
    ).call()
    assert [ok for ok, _ in tolerated] == [False, True]
    assert int.from_bytes(tolerated[1][1]) > 1
    with pytest.raises(ContractLogicError, match="Multicall3: call failed"):
        batcher.functions.aggregate3([(failing[0], False, failing[1])]).call()
    assert batcher.functions.getChainId().call() == BASE.chain_id


@pytest.mark.anvil
def test_code_already_at_the_address_is_kept(evm: EvmChain) -> None:
    other = "0x6080"
    evm.rpc("anvil_setCode", [MULTICALL3_ADDRESS, other])
    try:
        assert install_multicall(evm) is False
        assert evm.rpc("eth_getCode", [MULTICALL3_ADDRESS, "latest"]) == other
    finally:
        evm.rpc("anvil_setCode", [MULTICALL3_ADDRESS, "0x"])
        assert install_multicall(evm) is True
