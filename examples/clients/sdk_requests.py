"""An e2e-contract client on the official x402 SDK's requests session (x402 v2)."""

from __future__ import annotations

from typing import Any

from contract import Contract, main, settlement_of
from eth_account import Account
from x402 import x402ClientSync
from x402.http.clients.requests import x402_requests
from x402.mechanisms.evm.exact.register import register_exact_evm_client
from x402.mechanisms.evm.signers import EthAccountSigner


def pay(contract: Contract) -> tuple[int, Any, dict[str, Any]]:
    client = x402ClientSync()
    register_exact_evm_client(client, EthAccountSigner(Account.from_key(contract.private_key)))
    with x402_requests(client) as session:
        answer = session.request(contract.method, contract.url, json=contract.body, timeout=30)
    return answer.status_code, answer.json(), settlement_of(answer.headers)


if __name__ == "__main__":
    main(pay)
