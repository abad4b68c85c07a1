"""Interop with code no one here wrote: the official x402 SDK signs, and calls our facilitator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from eth_account import Account
from x402 import x402ClientSync
from x402.http import FacilitatorConfig, HTTPFacilitatorClientSync
from x402.mechanisms.evm.exact.register import register_exact_evm_client
from x402.mechanisms.evm.signers import EthAccountSigner
from x402.schemas import PaymentRequired
from x402.schemas.v1 import PaymentRequiredV1

from facilitator_sim.app import create_app
from facilitator_sim.chains.base import Chain
from tests.factories import PAY_TO, PRICE, USDC, requirements_v1, requirements_v2
from x402_core.wallets import test_wallet
from x402_service.serving import ServerThread

PAYER = test_wallet(1)


@pytest.fixture
def facilitator_url(chain: Chain) -> Iterator[str]:
    with ServerThread(create_app(chain)) as server:
        yield server.url


def sdk_payment(version: int) -> tuple[Any, Any]:
    """(payload, requirements) as the SDK's own client creates them from our 402 offer."""
    client = x402ClientSync()
    register_exact_evm_client(client, EthAccountSigner(Account.from_key(PAYER.private_key)))
    if version == 1:
        offer = PaymentRequiredV1.model_validate(
            {"x402Version": 1, "error": "payment required", "accepts": [requirements_v1().wire()]}
        )
    else:
        offer = PaymentRequired.model_validate(
            {
                "x402Version": 2,
                "resource": {"url": "http://127.0.0.1/v1/images/generate"},
                "accepts": [requirements_v2().wire()],
            }
        )
    payload = client.create_payment_payload(offer)
    return payload, offer.accepts[0]


@pytest.mark.parametrize("version", [1, 2])
def test_sdk_signed_payload_verifies_and_settles(
    facilitator_url: str, chain: Chain, version: int
) -> None:
    payload, requirements = sdk_payment(version)
    body = {
        "x402Version": version,
        "paymentPayload": payload.model_dump(by_alias=True, exclude_none=True),
        "paymentRequirements": requirements.model_dump(by_alias=True, exclude_none=True),
    }
    before = chain.balance_of(USDC, PAY_TO)
    with httpx.Client(base_url=facilitator_url, timeout=30) as http:
        assert http.post("/verify", json=body).json()["isValid"] is True
        assert http.post("/settle", json=body).json()["success"] is True
    assert chain.balance_of(USDC, PAY_TO) - before == PRICE


@pytest.mark.parametrize("version", [1, 2])
def test_sdk_facilitator_client_calls_our_api(
    facilitator_url: str, chain: Chain, version: int
) -> None:
    payload, requirements = sdk_payment(version)
    with HTTPFacilitatorClientSync(FacilitatorConfig(url=facilitator_url)) as sdk:
        check_sdk_facilitator_client(sdk, payload, requirements)


def check_sdk_facilitator_client(
    sdk: HTTPFacilitatorClientSync, payload: Any, requirements: Any
) -> None:
    supported = sdk.get_supported()
    assert {(k.x402_version, k.network) for k in supported.kinds} == {
        (1, "base"),
        (2, "eip155:8453"),
    }
    verified = sdk.verify(payload, requirements)
    assert verified.is_valid is True
    assert verified.payer == PAYER.address
    settled = sdk.settle(payload, requirements)
    assert settled.success is True
    assert settled.transaction.startswith("0x")
    repeat = sdk.settle(payload, requirements)
    assert (repeat.success, repeat.transaction) == (True, settled.transaction)
    replay = sdk.verify(payload, requirements)
    assert replay.is_valid is False
    assert replay.invalid_reason == "invalid_exact_evm_nonce_already_used"
