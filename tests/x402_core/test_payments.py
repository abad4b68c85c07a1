"""Building payments: terms of an offer, signatures the SDK agrees with, refusals."""

from __future__ import annotations

import pytest
from eth_account import Account
from x402.mechanisms.evm.exact.client import ExactEvmScheme
from x402.mechanisms.evm.signers import EthAccountSigner
from x402.schemas import PaymentRequirements

from tests.factories import PAY_TO, PRICE, TOKEN_DOMAIN, requirements_v1, requirements_v2
from x402_core.eip3009 import Authorization, recover_signer, transfer_digest
from x402_core.models.fields import TransferAuthorization
from x402_core.payments import UnpayableError, pay_v1, pay_v2, terms_of
from x402_core.wallets import test_wallet

WALLET = test_wallet(1)


def signer_of(auth: TransferAuthorization, signature: str) -> str:
    digest = transfer_digest(TOKEN_DOMAIN, Authorization.from_wire(auth))
    return recover_signer(digest, bytes.fromhex(signature[2:]))


def test_v2_payment_pays_exactly_the_offer() -> None:
    offer = requirements_v2()
    payment = pay_v2(offer, WALLET.private_key, WALLET.address, now=1_800_000_000)
    auth = payment.payload.authorization
    assert payment.accepted == offer
    assert (auth.to.lower(), int(auth.value)) == (PAY_TO.lower(), PRICE)
    assert int(auth.valid_after) <= 1_800_000_000 < int(auth.valid_before) <= 1_800_000_300
    assert signer_of(auth, payment.payload.signature) == WALLET.address


def test_v1_payment_signs_the_same_authorization_terms() -> None:
    offer = requirements_v1()
    payment = pay_v1(offer, WALLET.private_key, WALLET.address)
    assert (payment.scheme, payment.network) == ("exact", "base")
    assert signer_of(payment.payload.authorization, payment.payload.signature) == WALLET.address
    assert int(payment.payload.authorization.value) == PRICE


@pytest.mark.parametrize(
    ("offer", "match"),
    [
        (requirements_v2(network="eip155:1"), "unknown CAIP-2"),
        (requirements_v2(asset="0x" + "11" * 20), "not USDC"),
        (requirements_v2(extra=None), "EIP-712"),
        (requirements_v2(scheme="upto"), "exact"),
        (requirements_v1(network="solana"), "unknown v1"),
    ],
)
def test_unpayable_offers(offer: object, match: str) -> None:
    with pytest.raises(UnpayableError, match=match):
        terms_of(offer)  # type: ignore[arg-type]


def test_official_sdk_signature_recovers_with_our_code() -> None:
    scheme = ExactEvmScheme(EthAccountSigner(Account.from_key(WALLET.private_key)))
    offer = PaymentRequirements.model_validate(requirements_v2().wire())
    inner = scheme.create_payment_payload(offer)
    auth = TransferAuthorization.model_validate(inner["authorization"])
    assert signer_of(auth, inner["signature"]) == WALLET.address
