"""An e2e-contract client on the official x402 SDK that speaks only x402 v1 (X-PAYMENT)."""

from __future__ import annotations

from typing import Any

from contract import Contract, main, settlement_of
from eth_account import Account
from x402 import x402ClientSync
from x402.http.clients.requests import x402_requests
from x402.mechanisms.evm.exact.v1.client import ExactEvmSchemeV1
from x402.mechanisms.evm.signers import EthAccountSigner


def pay(contract: Contract) -> tuple[int, Any, dict[str, Any]]:
    client = x402ClientSync()
    signer = EthAccountSigner(Account.from_key(contract.private_key))
    client.register_v1("base", ExactEvmSchemeV1(signer))
    with x402_requests(client) as session:
        answer = session.request(contract.method, contract.url, json=contract.body, timeout=30)
    return answer.status_code, answer.json(), settlement_of(answer.headers)


if __name__ == "__main__":
    main(pay)
