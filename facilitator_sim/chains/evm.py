"""The EVM backend: the Chain interface over JSON-RPC with web3.py, for Anvil or any local node.

Settlement is on the hot path of load tests, so each submit costs exactly two kinds of RPC:
`eth_sendRawTransaction` and `eth_getTransactionReceipt` polls. The transaction is built, priced
(cached fees) and signed here with a locally kept account nonce; revert reasons are only looked up
for transactions that failed.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from eth_abi import decode, encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from requests.adapters import HTTPAdapter
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint

from facilitator_sim.chains.base import (
    Broadcast,
    ChainError,
    ReceiptTimeoutError,
    TransferOutcome,
    no_record,
)
from facilitator_sim.chains.rpc_guard import check_rpc_url
from facilitator_sim.contracts import load_token_artifact
from x402_core.eip3009 import Authorization
from x402_core.networks import network_by_chain_id
from x402_core.wallets import facilitator_wallet

GAS_LIMIT = 200_000
"""Fixed gas limit of settlement transactions: transferWithAuthorization uses about 86,000 (to a
payee with no balance yet; 69,000 otherwise), cancelAuthorization about 55,000; unused gas is
refunded."""
RECEIPT_TIMEOUT = 30.0
"""Seconds a settlement waits for its receipt unless told otherwise."""
_GAP_CHECK_AFTER = 1.0
_SIGNER_MIN_WEI = 10**18
_SIGNER_TOPUP_WEI = 10_000 * 10**18
_POOL_SIZE = 64

_TWA_VRS = function_signature_to_4byte_selector(
    "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"
)
_TWA_BYTES = function_signature_to_4byte_selector(
    "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"
)
_CANCEL_VRS = function_signature_to_4byte_selector(
    "cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)"
)
_CANCEL_BYTES = function_signature_to_4byte_selector("cancelAuthorization(address,bytes32,bytes)")
_BALANCE_OF = function_signature_to_4byte_selector("balanceOf(address)")
_AUTHORIZATION_STATE = function_signature_to_4byte_selector("authorizationState(address,bytes32)")
_ERROR_STRING = function_signature_to_4byte_selector("Error(string)")
_PANIC = function_signature_to_4byte_selector("Panic(uint256)")
_AUTH_TYPES = ["address", "address", "uint256", "uint256", "uint256", "bytes32"]


TOKEN_NAME_SLOT = 5
"""Storage slot of the token's `_name` (see EIP3009Token.sol)."""


def short_string(text: str) -> str:
    """A Solidity `string` under 32 bytes as its one storage word: the bytes, then length × 2."""
    raw = text.encode()
    if len(raw) > 31:
        raise ValueError(f"{text!r} does not fit one storage word")
    return "0x" + (raw.ljust(31, b"\x00") + bytes([2 * len(raw)])).hex()


class RpcError(ChainError):
    """A JSON-RPC error answer: its code, message and data (revert data for reverts)."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        self.code: int | None = error.get("code")
        self.message: str = str(error.get("message", ""))
        self.data: Any = error.get("data")
        super().__init__(f"{method}: {self.message} (code {self.code})")


def revert_reason(data: Any, message: str) -> str:
    """The reason string of revert data (Error(string) or Panic(uint256)), else `message`."""
    if isinstance(data, str) and data.startswith("0x"):
        raw = bytes.fromhex(data[2:])
        if raw[:4] == _ERROR_STRING:
            return str(decode(["string"], raw[4:])[0])
        if raw[:4] == _PANIC:
            return f"Panic({decode(['uint256'], raw[4:])[0]:#x})"
    return message


def _is_revert(error: RpcError) -> bool:
    return error.code == 3 or error.message.startswith("execution reverted")


def _transfer_calldata(auth: Authorization, signature: bytes) -> bytes:
    fields = [
        auth.from_address,
        auth.to,
        auth.value,
        auth.valid_after,
        auth.valid_before,
        auth.nonce.rjust(32, b"\x00"),
    ]
    if len(signature) == 65:
        # Split raw, not with split_signature(): a high s must reach the contract and be refused
        # there, as on the ledger.
        v, r, s = signature[64], signature[:32], signature[32:64]
        return _TWA_VRS + encode([*_AUTH_TYPES, "uint8", "bytes32", "bytes32"], [*fields, v, r, s])
    return _TWA_BYTES + encode([*_AUTH_TYPES, "bytes"], [*fields, signature])


def _cancel_calldata(authorizer: str, nonce: bytes, signature: bytes) -> bytes:
    fields = [authorizer, nonce.rjust(32, b"\x00")]
    if len(signature) == 65:
        v, r, s = signature[64], signature[:32], signature[32:64]
        types = ["address", "bytes32", "uint8", "bytes32", "bytes32"]
        return _CANCEL_VRS + encode(types, [*fields, v, r, s])
    return _CANCEL_BYTES + encode(["address", "bytes32", "bytes"], [*fields, signature])


class EvmChain:
    """An EVM node reached over JSON-RPC; settlements are sent from the facilitator's key."""

    kind = "evm"
    in_process = False

    def __init__(
        self,
        rpc_url: str,
        signer_key: bytes | None = None,
        *,
        allow_remote_rpc: bool = False,
        request_timeout: float = 10.0,
    ) -> None:
        check_rpc_url(rpc_url, allow_remote_rpc=allow_remote_rpc)
        self.rpc_url: str | None = rpc_url
        self._session = requests.Session()
        # Many settling threads share the session; the default pool of 10 would churn sockets.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=_POOL_SIZE)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        # No retries with back-off: a local node that does not answer is down, and says so now.
        provider = HTTPProvider(
            rpc_url,
            session=self._session,
            request_kwargs={"timeout": request_timeout},
            exception_retry_configuration=None,
        )
        self._provider = Web3(provider).provider
        self._account = Account.from_key(signer_key or facilitator_wallet().private_key)
        self.signer: str = self._account.address
        self._lock = threading.Lock()
        self._nonce: int | None = None
        self._in_flight: set[int] = set()
        self._fees: tuple[int, int] | None = None
        self._signer_funded = False
        self._time_offset = 0
        try:
            self.chain_id: int = int(self.rpc("eth_chainId", []), 16)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ plumbing

    def rpc(self, method: str, params: list[Any]) -> Any:
        """One JSON-RPC call: its result, or RpcError for an error answer, ChainError when the
        node cannot be reached."""
        try:
            response = self._provider.make_request(RPCEndpoint(method), params)
        except requests.RequestException as exc:
            raise ChainError(f"{method} to {self.rpc_url} failed: {exc}") from exc
        if "error" in response:
            raise RpcError(method, dict(response["error"]))
        return response.get("result")

    def _call(self, to: str, data: bytes, block: str = "latest") -> bytes:
        call = {"from": self.signer, "to": to, "data": "0x" + data.hex()}
        return bytes.fromhex(self.rpc("eth_call", [call, block])[2:])

    # ------------------------------------------------------------------ set-up

    def install_token(self) -> bool:
        """Place the project's token at the network's USDC address unless code is there already
        (a fork of Base has the real USDC). Returns whether it installed the token."""
        self._ensure_signer_gas()
        usdc = network_by_chain_id(self.chain_id).usdc
        if self.rpc("eth_getCode", [usdc.address, "latest"]) not in ("0x", "0x0", "", None):
            return False
        code = "0x" + load_token_artifact().deployed_bytecode.hex()
        self.rpc("anvil_setCode", [usdc.address, code])
        # The network's EIP-712 name ("USDC" on Base Sepolia) in the token's `_name` slot.
        name_slot = "0x" + TOKEN_NAME_SLOT.to_bytes(32, "big").hex()
        self.rpc("anvil_setStorageAt", [usdc.address, name_slot, short_string(usdc.eip712_name)])
        return True

    def set_balance(self, token: str, account: str, amount: int) -> None:
        self._ensure_signer_gas()
        # Anvil wants the account first (token first answers "no slot found").
        self.rpc("anvil_dealERC20", [account, token, hex(amount)])

    def _ensure_signer_gas(self) -> None:
        """Give the facilitator's signer ETH for gas when it has (almost) none, as on a fork."""
        if self._signer_funded:
            return
        if int(self.rpc("eth_getBalance", [self.signer, "latest"]), 16) < _SIGNER_MIN_WEI:
            self.rpc("anvil_setBalance", [self.signer, hex(_SIGNER_TOPUP_WEI)])
        self._signer_funded = True

    # ------------------------------------------------------------------ time

    def now(self) -> int:
        """Wall clock plus what advance_time added: Anvil stamps the next block so; the latest
        block's timestamp can be seconds stale."""
        return int(time.time()) + self._time_offset

    def advance_time(self, seconds: int) -> None:
        self.rpc("evm_increaseTime", [seconds])
        self.rpc("evm_mine", [])
        self._time_offset += seconds

    # ------------------------------------------------------------------ reads

    def balance_of(self, token: str, account: str) -> int:
        return int.from_bytes(self._call(token, _BALANCE_OF + encode(["address"], [account])))

    def authorization_used(self, token: str, authorizer: str, nonce: bytes) -> bool:
        data = _AUTHORIZATION_STATE + encode(
            ["address", "bytes32"], [authorizer, nonce.rjust(32, b"\x00")]
        )
        return bool(int.from_bytes(self._call(token, data)))

    def simulate_transfer(self, token: str, auth: Authorization, signature: bytes) -> str | None:
        """eth_call on the 'pending' block: on Anvil it carries the timestamp the next block
        will get (wall clock + offset), where 'latest' may be stale and judge validity wrongly."""
        try:
            self._call(token, _transfer_calldata(auth, signature), "pending")
        except RpcError as exc:
            if not _is_revert(exc):
                raise
            return revert_reason(exc.data, exc.message)
        return None

    # ------------------------------------------------------------------ transactions

    def submit_transfer(
        self,
        token: str,
        auth: Authorization,
        signature: bytes,
        on_broadcast: Broadcast = no_record,
        receipt_timeout: float | None = None,
    ) -> TransferOutcome:
        data = _transfer_calldata(auth, signature)
        return self.transact(token, data, on_broadcast, receipt_timeout)

    def cancel_authorization(
        self, token: str, authorizer: str, nonce: bytes, signature: bytes
    ) -> TransferOutcome:
        return self.transact(token, _cancel_calldata(authorizer, nonce, signature))

    def transact(
        self,
        to: str,
        data: bytes = b"",
        on_broadcast: Broadcast = no_record,
        receipt_timeout: float | None = None,
    ) -> TransferOutcome:
        """Send a transaction from the signer to `to` and wait for its receipt (outside the lock);
        with no data it is a plain transfer, the baseline settlements are measured against."""
        to = to_checksum_address(to)
        tx_hash, nonce = self._send(to, data, on_broadcast)
        timeout = RECEIPT_TIMEOUT if receipt_timeout is None else receipt_timeout
        try:
            receipt = self._wait_for_receipt(tx_hash, nonce, timeout)
        finally:
            with self._lock:
                self._in_flight.discard(nonce)
        return self._outcome(receipt, to, data)

    def transaction_outcome(self, tx_hash: str, wait: float = 0.0) -> TransferOutcome | None:
        deadline = time.monotonic() + wait
        while True:
            receipt = self.rpc("eth_getTransactionReceipt", [tx_hash])
            if receipt is not None:
                sent = self.rpc("eth_getTransactionByHash", [tx_hash]) or {}
                data = bytes.fromhex(str(sent.get("input", "0x"))[2:])
                return self._outcome(receipt, str(sent.get("to") or self.signer), data)
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    def transaction_known(self, tx_hash: str) -> bool:
        return self.rpc("eth_getTransactionByHash", [tx_hash]) is not None

    def _outcome(self, receipt: dict[str, Any], to: str, data: bytes) -> TransferOutcome:
        tx_hash = str(receipt["transactionHash"])
        if int(receipt["status"], 16) == 1:
            return TransferOutcome(tx_hash, success=True)
        reason = self._failure_reason(receipt, to, data)
        return TransferOutcome(tx_hash, success=False, error=reason)

    def _send(self, to: str, data: bytes, on_broadcast: Broadcast) -> tuple[str, int]:
        """Assign a nonce, sign, tell `on_broadcast` the hash and send; resync the nonce or fees
        when the node refuses them (each new attempt is a new transaction with a new hash)."""
        with self._lock:
            refusal: RpcError | None = None
            for _ in range(3):
                if self._nonce is None:
                    self._nonce = self._pending_nonce()
                nonce = self._nonce
                raw, tx_hash = self._sign(to, data, nonce, GAS_LIMIT)
                on_broadcast(tx_hash)
                try:
                    self.rpc("eth_sendRawTransaction", [raw])
                except RpcError as exc:
                    refusal = exc
                    message = exc.message.lower()
                    if "nonce" in message or "replacement" in message:
                        self._nonce = None
                    elif "fee" in message or "underpriced" in message:
                        self._fees = None
                    else:
                        raise
                    continue
                except ChainError:
                    self._nonce = None  # unknown whether the node took it
                    raise
                self._nonce = nonce + 1
                self._in_flight.add(nonce)
                return tx_hash, nonce
            raise ChainError(f"the node kept refusing the transaction: {refusal}")

    def _sign(self, to: str, data: bytes, nonce: int, gas: int) -> tuple[str, str]:
        """(raw transaction hex, its hash)."""
        if self._fees is None:
            price = int(self.rpc("eth_gasPrice", []), 16)
            # Headroom so a rising base fee does not make every cached price stale at once.
            self._fees = (2 * price, price)
        max_fee, tip = self._fees
        tx = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": nonce,
            "to": to,
            "value": 0,
            "data": data,
            "gas": gas,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": tip,
        }
        signed = self._account.sign_transaction(tx)
        return "0x" + signed.raw_transaction.hex(), "0x" + bytes(signed.hash).hex()

    def _pending_nonce(self) -> int:
        return int(self.rpc("eth_getTransactionCount", [self.signer, "pending"]), 16)

    def _wait_for_receipt(self, tx_hash: str, nonce: int, timeout: float) -> dict[str, Any]:
        start = time.monotonic()
        deadline = start + timeout
        next_gap_check = start + _GAP_CHECK_AFTER
        delay = 0.001
        while True:
            receipt: dict[str, Any] | None = self.rpc("eth_getTransactionReceipt", [tx_hash])
            if receipt is not None:
                return receipt
            now = time.monotonic()
            if now >= deadline:
                with self._lock:
                    self._nonce = None
                raise ReceiptTimeoutError(tx_hash, timeout)
            if now >= next_gap_check:
                self._fill_nonce_gap(nonce)
                next_gap_check = now + _GAP_CHECK_AFTER
            time.sleep(min(delay, deadline - now))
            delay = min(2 * delay, 0.05)

    def _fill_nonce_gap(self, nonce: int) -> None:
        """Unblock a transaction queued behind missing nonces, as after `evm_revert` took back
        mined ones: the node queues it silently instead of saying "nonce too high". Zero-value
        self-transfers take the missing nonces, so the queued transaction (never a copy) runs."""
        with self._lock:
            ready = self._pending_nonce()
            if ready >= nonce:
                return  # no gap: the node has it ready and simply has not mined it yet
            for missing in range(ready, nonce):
                if missing in self._in_flight:
                    continue
                filler, _ = self._sign(self.signer, b"", missing, 21_000)
                try:
                    self.rpc("eth_sendRawTransaction", [filler])
                except RpcError:
                    continue  # the node holds a transaction with that nonce after all

    def _failure_reason(self, receipt: dict[str, Any], to: str, data: bytes) -> str:
        """The revert reason of a failed transaction: from the node's trace of it, or, on nodes
        without the debug API, by replaying the call on the parent block's state."""
        try:
            trace = self.rpc(
                "debug_traceTransaction", [receipt["transactionHash"], {"tracer": "callTracer"}]
            )
        except RpcError:
            parent = hex(int(receipt["blockNumber"], 16) - 1)
            try:
                self._call(to, data, parent)
            except RpcError as exc:
                return revert_reason(exc.data, exc.message)
            return "reverted (no reason: the replay on the parent block succeeded)"
        return revert_reason(
            trace.get("output"), trace.get("revertReason") or trace.get("error") or "reverted"
        )

    def close(self) -> None:
        self._session.close()
