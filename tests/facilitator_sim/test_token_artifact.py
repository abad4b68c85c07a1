"""The EIP-3009 token: its committed artifact is fresh, and on Anvil it behaves like USDC v2.2."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.datastructures import SignedMessage
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD
from web3.types import TxReceipt

from facilitator_sim.contracts import (
    ARTIFACT_PATH,
    MULTICALL_ARTIFACT_PATH,
    MULTICALL_SOURCE_PATH,
    SOURCE_PATH,
    ContractArtifact,
    load_multicall_artifact,
    load_token_artifact,
)
from x402_core.wallets import TestWallet, test_wallet
from x402_service.serving import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
ANVIL = REPO_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
ANVIL_WRAPPER = REPO_ROOT / "node_modules" / ".bin" / "anvil"
CHAIN_ID = 8453
TOKEN = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
SUBMITTER = test_wallet(0)
PAYER = test_wallet(1)
PAYEE = test_wallet(2).address
FUNDS = 10_000_000
PRICE = 1_000_000
FAR_FUTURE = 2**48
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
AUTH_FIELDS = ["from", "to", "value", "validAfter", "validBefore", "nonce"]
AUTH_TYPES = ["address", "address", "uint256", "uint256", "uint256", "bytes32"]
AUTH_STRUCT = [{"name": n, "type": t} for n, t in zip(AUTH_FIELDS, AUTH_TYPES, strict=True)]
STRUCTS = {
    "TransferWithAuthorization": AUTH_STRUCT,
    "ReceiveWithAuthorization": AUTH_STRUCT,
    "CancelAuthorization": [
        {"name": "authorizer", "type": "address"},
        {"name": "nonce", "type": "bytes32"},
    ],
}
ACCEPT_ALL = "0x631626ba7e60e01b60005260206000f3"
RETURN_ZERO = "0x60206000f3"


@pytest.mark.parametrize(
    ("name", "artifact"),
    [("EIP3009Token", ARTIFACT_PATH), ("Multicall3", MULTICALL_ARTIFACT_PATH)],
)
def test_artifact_is_fresh(tmp_path: Path, name: str, artifact: Path) -> None:
    if shutil.which("node") is None:
        pytest.fail("node is not on PATH; it is needed to run scripts/build_contract.js")
    if not (REPO_ROOT / "node_modules" / "solc" / "package.json").is_file():
        pytest.fail(f"node_modules/solc is missing: run `npm install` in {REPO_ROOT}")
    out = tmp_path / "out.json"
    build = subprocess.run(
        ["node", "scripts/build_contract.js", name, str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert build.returncode == 0, f"scripts/build_contract.js failed:\n{build.stderr}"
    generated, committed = json.loads(out.read_text()), json.loads(artifact.read_text())
    keys = generated.keys() | committed.keys()
    stale = sorted(key for key in keys if generated.get(key) != committed.get(key))
    hint = f"the committed {name} artifact is stale: run `node scripts/build_contract.js {name}`"
    assert not stale, f"{hint} (keys that differ: {stale})"
    assert out.read_text() == artifact.read_text(), hint


@pytest.mark.parametrize(
    ("source", "artifact"),
    [(SOURCE_PATH, load_token_artifact), (MULTICALL_SOURCE_PATH, load_multicall_artifact)],
)
def test_source_hash_matches(source: Path, artifact: Callable[[], ContractArtifact]) -> None:
    expected = hashlib.sha256(source.read_bytes()).hexdigest()
    assert artifact().source_sha256 == expected, "run `node scripts/build_contract.js NAME`"


def _wait_for_chain(proc: subprocess.Popen[str], url: str, timeout: float = 20) -> None:
    """Poll eth_chainId until Anvil answers; fail if it exits or the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            reply = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
            if reply.json().get("result") == hex(CHAIN_ID):
                return
        except httpx.TransportError:
            pass
        try:
            proc.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        stderr = proc.stderr.read() if proc.stderr else ""
        pytest.fail(f"Anvil exited with status {proc.returncode}: {stderr}")
    pytest.fail(f"Anvil did not answer on {url} within {timeout} s")


@pytest.fixture(scope="module")
def w3() -> Iterator[Web3]:
    """A private Anvil on chain 8453 with the token's runtime code at USDC's Base address."""
    binary = ANVIL if ANVIL.is_file() else ANVIL_WRAPPER
    if not binary.is_file():
        pytest.fail(f"Anvil is not installed: run `npm install` in {REPO_ROOT}")
    port = free_port()
    command = [str(binary), "--chain-id", str(CHAIN_ID), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--silent"]
    url = f"http://127.0.0.1:{port}"
    with subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            _wait_for_chain(proc, url)
            web3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 10}))
            rpc(web3, "anvil_setCode", TOKEN, "0x" + load_token_artifact().deployed_bytecode.hex())
            yield web3
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def token(w3: Web3) -> Iterator[Contract]:
    """The token with PAYER holding FUNDS; chain state is reverted after each test."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    rpc(w3, "anvil_dealERC20", PAYER.address, TOKEN, hex(FUNDS))
    yield w3.eth.contract(address=TOKEN, abi=load_token_artifact().abi)
    w3.provider.make_request("evm_revert", [snapshot])


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    """A raw JSON-RPC call that must not fail."""
    reply = w3.provider.make_request(method, list(params))
    assert "error" not in reply, reply
    return reply.get("result")


def sign(primary_type: str, message: dict[str, Any], key: TestWallet = PAYER) -> SignedMessage:
    """EIP-712-sign `message` for the token's domain on chain 8453."""
    domain = {"name": "USD Coin", "version": "2", "chainId": CHAIN_ID, "verifyingContract": TOKEN}
    types = {primary_type: STRUCTS[primary_type]}
    return Account.sign_typed_data(key.private_key, domain, types, message)


def authorization(**overrides: Any) -> dict[str, Any]:
    """A TransferWithAuthorization message from PAYER to PAYEE with a fresh nonce."""
    message = {"from": PAYER.address, "to": PAYEE, "value": PRICE, "validAfter": 0}
    message |= {"validBefore": FAR_FUTURE, "nonce": os.urandom(32)}
    return message | overrides


def args(message: dict[str, Any]) -> list[Any]:
    """The authorization's fields in the order of the contract's parameters."""
    return [message[field] for field in AUTH_FIELDS]


def send(w3: Web3, call: ContractFunction, sender: str = SUBMITTER.address, **tx: Any) -> TxReceipt:
    """Mine `call` from `sender` (an unlocked Anvil account); return its receipt.

    Success is required unless `tx` sets "gas", which skips Anvil's gas estimate.
    """
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender, **tx}), timeout=10)
    assert "gas" in tx or receipt["status"] == 1
    return receipt


def reverts(call: ContractFunction, reason: str, sender: str = SUBMITTER.address) -> None:
    """`call` reverts with `reason` when simulated from `sender`."""
    with pytest.raises(ContractLogicError, match=reason):
        call.call({"from": sender})


def latest_timestamp(w3: Web3) -> int:
    """The timestamp of the newest block."""
    return int(w3.eth.get_block("latest")["timestamp"])


@pytest.mark.anvil
def test_metadata_and_domain_separator(w3: Web3, token: Contract) -> None:
    assert w3.eth.chain_id == CHAIN_ID
    assert token.functions.name().call() == "USD Coin"
    assert token.functions.symbol().call() == "USDC"
    assert token.functions.version().call() == "2"
    assert token.functions.decimals().call() == 6
    domain_typehash = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    expected = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [domain_typehash, keccak(text="USD Coin"), keccak(text="2"), CHAIN_ID, TOKEN],
        )
    )
    assert token.functions.DOMAIN_SEPARATOR().call() == expected


@pytest.mark.anvil
def test_deal_sets_balance_in_slot_zero(w3: Web3, token: Contract) -> None:
    assert token.functions.balanceOf(PAYER.address).call() == FUNDS
    slot = keccak(encode(["address", "uint256"], [PAYER.address, 0]))
    assert int.from_bytes(w3.eth.get_storage_at(TOKEN, slot)) == FUNDS


@pytest.mark.anvil
@pytest.mark.parametrize("overload", ["vrs", "bytes"])
def test_transfer_with_authorization_moves_funds(w3: Web3, token: Contract, overload: str) -> None:
    message = authorization()
    signed = sign("TransferWithAuthorization", message)
    tail = [signed.v, signed.r.to_bytes(32), signed.s.to_bytes(32)]
    if overload == "bytes":
        tail = [signed.signature]
    receipt = send(w3, token.functions.transferWithAuthorization(*args(message), *tail))
    assert token.functions.balanceOf(PAYER.address).call() == FUNDS - PRICE
    assert token.functions.balanceOf(PAYEE).call() == PRICE
    assert token.functions.authorizationState(PAYER.address, message["nonce"]).call()
    (used,) = token.events.AuthorizationUsed().process_receipt(receipt, errors=DISCARD)
    assert used["args"] == {"authorizer": PAYER.address, "nonce": message["nonce"]}
    (transfer,) = token.events.Transfer().process_receipt(receipt, errors=DISCARD)
    assert transfer["args"] == {"from": PAYER.address, "to": PAYEE, "value": PRICE}


@pytest.mark.anvil
def test_replay_reverts(w3: Web3, token: Contract) -> None:
    message = authorization()
    call = token.functions.transferWithAuthorization(
        *args(message), sign("TransferWithAuthorization", message).signature
    )
    send(w3, call)
    reverts(call, "FiatTokenV2: authorization is used or canceled")


@pytest.mark.anvil
def test_high_s_signature_is_invalid(token: Contract) -> None:
    message = authorization()
    signed = sign("TransferWithAuthorization", message)
    v, s = 55 - signed.v, SECP256K1_N - signed.s
    call = token.functions.transferWithAuthorization(
        *args(message), v, signed.r.to_bytes(32), s.to_bytes(32)
    )
    reverts(call, "FiatTokenV2: invalid signature")


@pytest.mark.anvil
@pytest.mark.parametrize("tamper", [{"value": PRICE + 1}, {"to": SUBMITTER.address}])
def test_tampered_message_is_invalid(token: Contract, tamper: dict[str, Any]) -> None:
    message = authorization()
    signature = sign("TransferWithAuthorization", message).signature
    call = token.functions.transferWithAuthorization(*args(message | tamper), signature)
    reverts(call, "FiatTokenV2: invalid signature")


@pytest.mark.anvil
@pytest.mark.parametrize(
    ("window", "reason"),
    [
        (lambda now: {"validAfter": now + 3600}, "authorization is not yet valid"),
        (lambda now: {"validBefore": now - 1}, "authorization is expired"),
    ],
)
def test_validity_window(
    w3: Web3, token: Contract, window: Callable[[int], dict[str, int]], reason: str
) -> None:
    message = authorization(**window(latest_timestamp(w3)))
    signature = sign("TransferWithAuthorization", message).signature
    reverts(token.functions.transferWithAuthorization(*args(message), signature), reason)


@pytest.mark.anvil
def test_valid_after_is_strict(w3: Web3, token: Contract) -> None:
    """USDC requires block.timestamp > validAfter: in a block at validAfter it is too early."""
    valid_after = latest_timestamp(w3) + 100
    message = authorization(validAfter=valid_after)
    call = token.functions.transferWithAuthorization(
        *args(message), sign("TransferWithAuthorization", message).signature
    )
    rpc(w3, "evm_setNextBlockTimestamp", valid_after)
    too_early = send(w3, call, gas=200_000)
    assert too_early["status"] == 0
    with pytest.raises(ContractLogicError, match="authorization is not yet valid"):
        call.call({"from": SUBMITTER.address}, block_identifier=too_early["blockNumber"])
    rpc(w3, "evm_setNextBlockTimestamp", valid_after + 1)
    assert send(w3, call, gas=200_000)["status"] == 1


@pytest.mark.anvil
def test_cancel_authorization_blocks_transfer(w3: Web3, token: Contract) -> None:
    message = authorization()
    canceled = sign("CancelAuthorization", {"authorizer": PAYER.address, "nonce": message["nonce"]})
    rs = canceled.r.to_bytes(32), canceled.s.to_bytes(32)
    cancel = token.functions.cancelAuthorization(PAYER.address, message["nonce"], canceled.v, *rs)
    receipt = send(w3, cancel)
    (event,) = token.events.AuthorizationCanceled().process_receipt(receipt, errors=DISCARD)
    assert event["args"] == {"authorizer": PAYER.address, "nonce": message["nonce"]}
    signature = sign("TransferWithAuthorization", message).signature
    call = token.functions.transferWithAuthorization(*args(message), signature)
    reverts(call, "FiatTokenV2: authorization is used or canceled")


@pytest.mark.anvil
def test_receive_with_authorization_requires_payee(w3: Web3, token: Contract) -> None:
    message = authorization()
    signature = sign("ReceiveWithAuthorization", message).signature
    call = token.functions.receiveWithAuthorization(*args(message), signature)
    reverts(call, "FiatTokenV2: caller must be the payee")
    send(w3, call, sender=PAYEE)
    assert token.functions.balanceOf(PAYEE).call() == PRICE


@pytest.mark.anvil
def test_insufficient_balance_reverts(token: Contract) -> None:
    message = authorization(value=FUNDS + 1)
    signature = sign("TransferWithAuthorization", message).signature
    call = token.functions.transferWithAuthorization(*args(message), signature)
    reverts(call, "ERC20: transfer amount exceeds balance")


@pytest.mark.anvil
@pytest.mark.parametrize(("wallet_code", "accepted"), [(ACCEPT_ALL, True), (RETURN_ZERO, False)])
def test_contract_signer_uses_erc1271(
    w3: Web3, token: Contract, wallet_code: str, accepted: bool
) -> None:
    """A `from` with code is asked isValidSignature; only the magic value 0x1626ba7e passes."""
    wallet = "0x00000000000000000000000000000000000c0de1"
    rpc(w3, "anvil_setCode", wallet, wallet_code)
    rpc(w3, "anvil_dealERC20", wallet, TOKEN, hex(FUNDS))
    message = authorization(**{"from": Web3.to_checksum_address(wallet)})
    call = token.functions.transferWithAuthorization(*args(message), b"any signature")
    if accepted:
        send(w3, call)
        assert token.functions.balanceOf(PAYEE).call() == PRICE
    else:
        reverts(call, "FiatTokenV2: invalid signature")
