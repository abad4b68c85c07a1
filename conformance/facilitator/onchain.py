"""The token as the chain sees it, for checks given an RPC URL: balances, receipts, cancelling."""

from __future__ import annotations

from eth_typing import HexStr
from web3 import Web3

from x402_core.eip3009 import Domain, cancel_digest, sign_digest, split_signature
from x402_core.networks import network_by_chain_id
from x402_core.wallets import TestWallet

TOKEN_ABI = [
    {
        "name": "balanceOf",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "account", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "name": "authorizationState",
        "type": "function",
        "stateMutability": "view",
        "inputs": [
            {"name": "authorizer", "type": "address"},
            {"name": "nonce", "type": "bytes32"},
        ],
        "outputs": [{"name": "", "type": "bool"}],
    },
    {
        "name": "cancelAuthorization",
        "type": "function",
        "stateMutability": "nonpayable",
        "inputs": [
            {"name": "authorizer", "type": "address"},
            {"name": "nonce", "type": "bytes32"},
            {"name": "v", "type": "uint8"},
            {"name": "r", "type": "bytes32"},
            {"name": "s", "type": "bytes32"},
        ],
        "outputs": [],
    },
]
RECEIPT_TIMEOUT_SECONDS = 30


class OnChain:
    """USDC of the chain behind `rpc_url` (Base's address on a local chain or a fork)."""

    def __init__(self, rpc_url: str) -> None:
        self.web3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 30}))
        self.network = network_by_chain_id(self.web3.eth.chain_id)
        usdc = self.network.usdc
        self.domain = Domain(
            usdc.eip712_name, usdc.eip712_version, self.network.chain_id, usdc.address
        )
        self.token = self.web3.eth.contract(
            address=Web3.to_checksum_address(usdc.address), abi=TOKEN_ABI
        )

    def balance_of(self, address: str) -> int:
        return int(self.token.functions.balanceOf(Web3.to_checksum_address(address)).call())

    def nonce_used(self, authorizer: str, nonce: bytes) -> bool:
        return bool(
            self.token.functions.authorizationState(
                Web3.to_checksum_address(authorizer), nonce
            ).call()
        )

    def transaction_succeeded(self, tx_hash: str) -> bool:
        receipt = self.web3.eth.wait_for_transaction_receipt(
            HexStr(tx_hash), timeout=RECEIPT_TIMEOUT_SECONDS
        )
        return receipt["status"] == 1

    def cancel_authorization(self, wallet: TestWallet, nonce: bytes) -> bool:
        """The payer cancels its own unused authorization on chain (EIP-3009); True when mined."""
        signature = sign_digest(
            wallet.private_key, cancel_digest(self.domain, wallet.address, nonce)
        )
        v, r, s = split_signature(signature)
        sender = Web3.to_checksum_address(wallet.address)
        call = self.token.functions.cancelAuthorization(sender, nonce, v, r, s)
        transaction = call.build_transaction(
            {
                "from": sender,
                "nonce": self.web3.eth.get_transaction_count(sender),
                "chainId": self.network.chain_id,
            }
        )
        signed = self.web3.eth.account.sign_transaction(transaction, wallet.private_key)
        tx_hash = self.web3.eth.send_raw_transaction(signed.raw_transaction)
        return self.transaction_succeeded(tx_hash.hex())
