"""Signed payments of xGen's price for the benchmarks: the mock's own requirements, signed with
x402_core (the benchmarks do not import the project's tests)."""

from __future__ import annotations

import json

from x402_core.eip3009 import Authorization
from x402_core.payments import pay_v2, sign_exact_payload, terms_of
from x402_core.wallets import TestWallet
from x402_core.xgen import xgen_listing

LISTING = xgen_listing()
REQUIREMENTS = LISTING.requirements_v2()
TERMS = terms_of(REQUIREMENTS)


def signed_authorization(wallet: TestWallet) -> tuple[Authorization, bytes]:
    """A fresh authorization of the price to the payee (a new nonce), and its signature."""
    payload = sign_exact_payload(TERMS, wallet.private_key, wallet.address)
    return Authorization.from_wire(payload.authorization), bytes.fromhex(payload.signature[2:])


def verify_body(wallet: TestWallet) -> bytes:
    """A `/verify` (= `/settle`) body: a fresh v2 payment with the requirements it answers."""
    payment = pay_v2(REQUIREMENTS, wallet.private_key, wallet.address)
    body = {
        "x402Version": 2,
        "paymentPayload": payment.wire(),
        "paymentRequirements": REQUIREMENTS.wire(),
    }
    return json.dumps(body).encode()
