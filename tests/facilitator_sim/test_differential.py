"""The ledger and Anvil, driven through the same facilitator by the same random sequences of
operations, give the same verify and settle outcomes and end with the same balances."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facilitator_sim.chains.base import Chain
from facilitator_sim.requests import parse_request
from facilitator_sim.service import Facilitator
from tests.factories import PAY_TO, PRICE, TOKEN_DOMAIN, USDC, authorization, verify_body
from x402_core.eip3009 import Authorization, cancel_digest, sign_digest
from x402_core.wallets import facilitator_wallet, test_wallet

PAYERS = [test_wallet(i) for i in (1, 2, 3)]
BROKE = test_wallet(12)  # never funded

OPERATIONS = ["valid", "replay", "expired", "early", "overpay", "underpay", "broke", "cancelled"]


def _auth(op: str, payer_index: int, now: int) -> Authorization:
    payer = BROKE if op == "broke" else PAYERS[payer_index]
    auth = authorization(payer, valid_after=now - 60, valid_before=now + 240)
    changes: dict[str, Any] = {
        "expired": {"valid_after": now - 600, "valid_before": now - 10},
        "early": {"valid_after": now + 120, "valid_before": now + 240},
        "overpay": {"value": PRICE + 1},
        "underpay": {"value": PRICE - 1},
    }.get(op, {})
    return dataclasses.replace(auth, **changes)


def _run(facilitator: Facilitator, chain: Chain, op: str, body: dict[str, Any]) -> tuple[Any, ...]:
    if op == "cancelled":
        auth = body["paymentPayload"]["payload"]["authorization"]
        payer = next(w for w in PAYERS if w.address == auth["from"])
        nonce = bytes.fromhex(auth["nonce"][2:])
        signature = sign_digest(
            payer.private_key, cancel_digest(TOKEN_DOMAIN, payer.address, nonce)
        )
        assert chain.cancel_authorization(USDC, payer.address, nonce, signature).success
    request = parse_request(json.dumps(body).encode())
    verified = facilitator.verify(request)
    settled = facilitator.settle(request)
    return verified.is_valid, verified.invalid_reason, settled.success, settled.error_reason


@pytest.mark.anvil
def test_ledger_and_anvil_agree(ledger_chain: Chain, evm_chain: Chain) -> None:
    signer = facilitator_wallet().address
    ledger, evm = Facilitator(ledger_chain, signer), Facilitator(evm_chain, signer)

    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
    )
    @given(
        st.lists(
            st.tuples(st.sampled_from(OPERATIONS), st.integers(0, len(PAYERS) - 1)),
            min_size=1,
            max_size=8,
        )
    )
    def check(operations: list[tuple[str, int]]) -> None:
        last_body: dict[str, Any] | None = None
        for op, payer_index in operations:
            if op == "replay" and last_body is not None:
                body = last_body
            else:
                auth = _auth(op, payer_index, int(time.time()))
                payer = BROKE if op == "broke" else PAYERS[payer_index]
                body = verify_body(2, wallet=payer, auth=auth)
                last_body = body
            assert _run(ledger, ledger_chain, op, body) == _run(evm, evm_chain, op, body), op
        for account in [PAY_TO, BROKE.address, *(w.address for w in PAYERS)]:
            assert ledger_chain.balance_of(USDC, account) == evm_chain.balance_of(USDC, account)

    check()
