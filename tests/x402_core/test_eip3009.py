"""EIP-3009 typed data: our digest and signatures equal eth_account's; recovery refuses what the
token contract refuses."""

from __future__ import annotations

import dataclasses

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from x402_core.eip3009 import (
    SECP256K1_N,
    Authorization,
    Domain,
    SignatureError,
    random_nonce,
    recover_signer,
    sign_authorization,
    transfer_digest,
    validity_window,
)
from x402_core.wallets import test_wallet

addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
uint256 = st.integers(min_value=0, max_value=2**256 - 1)
domains = st.builds(
    Domain,
    name=st.text(max_size=20),
    version=st.text(max_size=5),
    chain_id=st.integers(min_value=1, max_value=2**64),
    verifying_contract=addresses,
)
authorizations = st.builds(
    Authorization,
    from_address=addresses,
    to=addresses,
    value=uint256,
    valid_after=uint256,
    valid_before=uint256,
    nonce=st.binary(min_size=32, max_size=32),
)
WALLET = test_wallet(1)


def typed_data(domain: Domain, auth: Authorization) -> dict:
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "TransferWithAuthorization": [
                {"name": "from", "type": "address"},
                {"name": "to", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "validAfter", "type": "uint256"},
                {"name": "validBefore", "type": "uint256"},
                {"name": "nonce", "type": "bytes32"},
            ],
        },
        "primaryType": "TransferWithAuthorization",
        "domain": {
            "name": domain.name,
            "version": domain.version,
            "chainId": domain.chain_id,
            "verifyingContract": domain.verifying_contract,
        },
        "message": {
            "from": auth.from_address,
            "to": auth.to,
            "value": auth.value,
            "validAfter": auth.valid_after,
            "validBefore": auth.valid_before,
            "nonce": auth.nonce,
        },
    }


@settings(max_examples=150)
@given(domains, authorizations)
def test_digest_equals_eth_account(domain: Domain, auth: Authorization) -> None:
    signable = encode_typed_data(full_message=typed_data(domain, auth))
    expected = keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert transfer_digest(domain, auth) == expected


@settings(max_examples=30)
@given(domains, authorizations)
def test_signature_equals_eth_account_and_recovers(domain: Domain, auth: Authorization) -> None:
    ours = sign_authorization(WALLET.private_key, domain, auth)
    theirs = Account.sign_message(
        encode_typed_data(full_message=typed_data(domain, auth)), WALLET.private_key
    )
    assert ours == bytes(theirs.signature)
    assert recover_signer(transfer_digest(domain, auth), ours) == WALLET.address


DOMAIN = Domain("USD Coin", "2", 8453, "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913")
AUTH = Authorization(WALLET.address, test_wallet(2).address, 50_000, 0, 2**40, b"\x07" * 32)
SIGNATURE = sign_authorization(WALLET.private_key, DOMAIN, AUTH)
DIGEST = transfer_digest(DOMAIN, AUTH)


def test_high_s_is_refused() -> None:
    s = int.from_bytes(SIGNATURE[32:64], "big")
    flipped = SIGNATURE[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - SIGNATURE[64]])
    with pytest.raises(SignatureError, match="upper half"):
        recover_signer(DIGEST, flipped)


@pytest.mark.parametrize(
    ("signature", "match"),
    [
        (SIGNATURE[:64], "65"),
        (SIGNATURE + b"\x00", "65"),
        (SIGNATURE[:64] + b"\x00", "v is 0"),
        (SIGNATURE[:64] + b"\x01", "v is 1"),
        (bytes(32) + SIGNATURE[32:], "zero"),
        (SIGNATURE[:32] + bytes(32) + SIGNATURE[64:], "zero"),
    ],
)
def test_malformed_signatures_are_refused(signature: bytes, match: str) -> None:
    with pytest.raises(SignatureError, match=match):
        recover_signer(DIGEST, signature)


@pytest.mark.parametrize(
    "change",
    [
        {"from_address": test_wallet(3).address},
        {"to": test_wallet(3).address},
        {"value": 50_001},
        {"valid_after": 1},
        {"valid_before": 2**40 + 1},
        {"nonce": b"\x08" * 32},
    ],
)
def test_any_changed_field_changes_the_signer(change: dict) -> None:
    tampered = transfer_digest(DOMAIN, dataclasses.replace(AUTH, **change))
    assert recover_signer(tampered, SIGNATURE) != WALLET.address


@pytest.mark.parametrize(
    "change",
    [
        {"name": "USDC"},
        {"version": "1"},
        {"chain_id": 84532},
        {"verifying_contract": "0x" + "11" * 20},
    ],
)
def test_any_changed_domain_field_changes_the_signer(change: dict) -> None:
    tampered = transfer_digest(dataclasses.replace(DOMAIN, **change), AUTH)
    assert recover_signer(tampered, SIGNATURE) != WALLET.address


def test_nonces_are_32_random_bytes() -> None:
    nonces = {random_nonce() for _ in range(1000)}
    assert len(nonces) == 1000
    assert {len(n) for n in nonces} == {32}


@given(st.integers(min_value=0, max_value=2**40), st.integers(min_value=1, max_value=10**6))
def test_validity_window_contains_now_and_respects_the_timeout(now: int, timeout: int) -> None:
    after, before = validity_window(now, timeout)
    assert after <= now < before == now + timeout
