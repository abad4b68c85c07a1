"""Requirements and signed `/verify` bodies for xGen's price: what the facilitator probes send."""

from __future__ import annotations

import time
from typing import Any

from x402_core.eip3009 import Authorization, Domain, random_nonce, sign_authorization
from x402_core.models import PaymentRequirementsV1, PaymentRequirementsV2
from x402_core.wallets import TestWallet, test_wallet
from x402_core.xgen import xgen_listing

XGEN = xgen_listing()
PAY_TO = XGEN.pay_to
PRICE = XGEN.amount
USDC = XGEN.asset
TOKEN_DOMAIN = Domain(XGEN.extra["name"], XGEN.extra["version"], XGEN.network.chain_id, USDC)


def requirements_v2(**changes: Any) -> PaymentRequirementsV2:
    """xGen's v2 requirements, with `changes` (field names in Python spelling)."""
    return PaymentRequirementsV2(**(XGEN.requirements_v2().model_dump() | changes))


def requirements_v1(**changes: Any) -> PaymentRequirementsV1:
    """xGen's v1 requirements for a loopback resource, with `changes`."""
    v1 = XGEN.requirements_v1("http://127.0.0.1" + XGEN.path).model_dump()
    return PaymentRequirementsV1(**(v1 | changes))


def authorization(
    wallet: TestWallet | None = None,
    *,
    now: int | None = None,
    nonce: bytes | None = None,
    **changes: Any,
) -> Authorization:
    """A valid authorization of PRICE to PAY_TO, valid from a minute before `now` (default: the
    wall clock) for 4 more minutes, with `nonce` (default: a random one)."""
    now = int(time.time()) if now is None else now
    fields: dict[str, Any] = {
        "from_address": (wallet or test_wallet(1)).address,
        "to": PAY_TO,
        "value": PRICE,
        "valid_after": now - 60,
        "valid_before": now + 240,
        "nonce": random_nonce() if nonce is None else nonce,
    }
    return Authorization(**(fields | changes))


def verify_body(
    version: int = 2,
    *,
    wallet: TestWallet | None = None,
    auth: Authorization | None = None,
    domain: Domain = TOKEN_DOMAIN,
    signature: bytes | None = None,
    requirements: PaymentRequirementsV1 | PaymentRequirementsV2 | None = None,
    accepted: PaymentRequirementsV2 | None = None,
) -> dict[str, Any]:
    """A `/verify` (= `/settle`) body: `auth` signed by `wallet` under `domain`, or `signature`."""
    wallet = wallet or test_wallet(1)
    auth = auth or authorization(wallet)
    if signature is None:
        signature = sign_authorization(wallet.private_key, domain, auth)
    exact = {"signature": "0x" + signature.hex(), "authorization": auth.to_wire().wire()}
    if version == 1:
        req1 = requirements or requirements_v1()
        network = XGEN.network.name
        payload = {"x402Version": 1, "scheme": "exact", "network": network, "payload": exact}
        return {"x402Version": 1, "paymentPayload": payload, "paymentRequirements": req1.wire()}
    req2 = requirements or requirements_v2()
    payload = {"x402Version": 2, "accepted": (accepted or req2).wire(), "payload": exact}
    return {"x402Version": 2, "paymentPayload": payload, "paymentRequirements": req2.wire()}
