"""An e2e-contract client on the official x402 SDK's httpx client (x402 v2)."""

from __future__ import annotations

import asyncio
from typing import Any

from contract import Contract, main, settlement_of
from eth_account import Account
from x402 import x402Client
from x402.http.clients.httpx import x402HttpxClient
from x402.mechanisms.evm.exact.register import register_exact_evm_client
from x402.mechanisms.evm.signers import EthAccountSigner


def pay(contract: Contract) -> tuple[int, Any, dict[str, Any]]:
    client = x402Client()
    register_exact_evm_client(client, EthAccountSigner(Account.from_key(contract.private_key)))

    async def run() -> tuple[int, Any, dict[str, Any]]:
        async with x402HttpxClient(client, timeout=30) as http:
            response = await http.request(contract.method, contract.url, json=contract.body)
            await response.aread()
            return response.status_code, response.json(), settlement_of(response.headers)

    return asyncio.run(run())


if __name__ == "__main__":
    main(pay)
