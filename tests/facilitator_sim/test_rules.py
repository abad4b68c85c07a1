"""The ordered rules: each single tampering of a valid payment is refused with its own reason."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facilitator_sim.chains.base import Chain
from facilitator_sim.chains.evm import EvmChain
from facilitator_sim.chains.ledger import REVERT_NOT_YET_VALID, LedgerChain
from facilitator_sim.requests import parse_request
from facilitator_sim.rules import RULES, Policy
from facilitator_sim.service import Facilitator
from tests.factories import (
    PAY_TO,
    PRICE,
    TOKEN_DOMAIN,
    USDC,
    authorization,
    requirements_v1,
    requirements_v2,
    verify_body,
)
from x402_core.eip3009 import malleable_twin, sign_authorization
from x402_core.reasons import Reason
from x402_core.wallets import facilitator_wallet, test_wallet

OTHER = "0x000000000000000000000000000000000000dEaD"
PAYER = test_wallet(1)


def make_facilitator(policy: Policy | None = None) -> Facilitator:
    chain = LedgerChain()
    chain.set_balance(USDC, PAYER.address, 10**9)
    return Facilitator(chain, facilitator_wallet().address, policy)


def verify(body: dict[str, Any], facilitator: Facilitator | None = None) -> tuple[bool, str | None]:
    answer = (facilitator or make_facilitator()).verify(parse_request(_json(body)))
    return answer.is_valid, answer.invalid_reason


def _json(body: dict[str, Any]) -> bytes:
    import json

    return json.dumps(body).encode()


@pytest.mark.parametrize("version", [1, 2])
def test_valid_payment_verifies(version: int) -> None:
    assert verify(verify_body(version)) == (True, None)


# Each tampering: (name, build the tampered body for a version) -> the reason expected.
Tamper = Callable[[int], dict[str, Any]]


def _auth_change(**changes: Any) -> Tamper:
    """Change the authorization after signing (the signature stays the original's)."""

    def build(version: int) -> dict[str, Any]:
        auth = authorization(PAYER)
        signature = sign_authorization(PAYER.private_key, TOKEN_DOMAIN, auth)
        return verify_body(version, auth=dataclasses.replace(auth, **changes), signature=signature)

    return build


def _domain_change(**changes: Any) -> Tamper:
    return lambda version: verify_body(version, domain=dataclasses.replace(TOKEN_DOMAIN, **changes))


def _requirements_change(**changes: Any) -> Tamper:
    def build(version: int) -> dict[str, Any]:
        v1_changes = {
            ("max_amount_required" if k == "amount" else k): v for k, v in changes.items()
        }
        if version == 1:
            if "network" in v1_changes:
                v1_changes["network"] = "base-sepolia"
            return verify_body(1, requirements=requirements_v1(**v1_changes))
        return verify_body(2, requirements=requirements_v2(**changes), accepted=requirements_v2())

    return build


def _signature_bit_flip(version: int) -> dict[str, Any]:
    auth = authorization(PAYER)
    signature = bytearray(sign_authorization(PAYER.private_key, TOKEN_DOMAIN, auth))
    signature[5] ^= 0x01
    return verify_body(version, auth=auth, signature=bytes(signature))


def _signature_high_s(version: int) -> dict[str, Any]:
    auth = authorization(PAYER)
    signature = sign_authorization(PAYER.private_key, TOKEN_DOMAIN, auth)
    return verify_body(version, auth=auth, signature=malleable_twin(signature))


def _signed(**changes: Any) -> Tamper:
    """A properly signed authorization with changed fields."""
    return lambda version: verify_body(version, auth=authorization(PAYER, **changes))


SIGNATURE = Reason.SIGNATURE
TAMPERINGS: dict[str, tuple[Tamper, dict[int, Reason]]] = {
    "from": (_auth_change(from_address=test_wallet(2).address), {1: SIGNATURE, 2: SIGNATURE}),
    "to": (_auth_change(to=OTHER), {1: Reason.RECIPIENT_MISMATCH, 2: Reason.RECIPIENT_MISMATCH}),
    "value+1": (
        _auth_change(value=PRICE + 1),
        {1: Reason.VALUE_MISMATCH, 2: Reason.VALUE_MISMATCH},
    ),
    "value-1": (
        _auth_change(value=PRICE - 1),
        {1: Reason.VALUE_MISMATCH, 2: Reason.VALUE_MISMATCH},
    ),
    "validAfter": (_auth_change(valid_after=1), {1: SIGNATURE, 2: SIGNATURE}),
    "validBefore": (
        _auth_change(valid_before=2**31),
        {1: Reason.VALID_BEFORE, 2: Reason.VALID_BEFORE},
    ),
    "nonce": (_auth_change(nonce=b"\x01" * 32), {1: SIGNATURE, 2: SIGNATURE}),
    "signature bit": (_signature_bit_flip, {1: SIGNATURE, 2: SIGNATURE}),
    "signature high-s": (_signature_high_s, {1: SIGNATURE, 2: SIGNATURE}),
    "domain chainId": (_domain_change(chain_id=84532), {1: SIGNATURE, 2: SIGNATURE}),
    "domain contract": (_domain_change(verifying_contract=OTHER), {1: SIGNATURE, 2: SIGNATURE}),
    "domain name": (_domain_change(name="USDC"), {1: SIGNATURE, 2: SIGNATURE}),
    "domain version": (_domain_change(version="1"), {1: SIGNATURE, 2: SIGNATURE}),
    "requirements asset": (
        _requirements_change(asset=OTHER),
        {1: Reason.INVALID_PAYMENT_REQUIREMENTS, 2: Reason.INVALID_PAYMENT_REQUIREMENTS},
    ),
    "requirements payTo": (
        _requirements_change(pay_to=OTHER),
        {1: Reason.RECIPIENT_MISMATCH, 2: Reason.ACCEPTED_MISMATCH},
    ),
    "requirements amount": (
        _requirements_change(amount=str(PRICE * 2)),
        {1: Reason.VALUE_MISMATCH, 2: Reason.ACCEPTED_MISMATCH},
    ),
    "requirements network": (
        _requirements_change(network="eip155:84532"),
        {1: Reason.INVALID_NETWORK, 2: Reason.INVALID_NETWORK},
    ),
    "extra name": (
        _requirements_change(extra={"name": "USDC", "version": "2"}),
        {1: Reason.TOKEN_NAME_MISMATCH, 2: Reason.TOKEN_NAME_MISMATCH},
    ),
    "extra version": (
        _requirements_change(extra={"name": "USD Coin", "version": "1"}),
        {1: Reason.TOKEN_VERSION_MISMATCH, 2: Reason.TOKEN_VERSION_MISMATCH},
    ),
    "extra missing": (
        _requirements_change(extra=None),
        {1: Reason.MISSING_EIP712_DOMAIN, 2: Reason.MISSING_EIP712_DOMAIN},
    ),
    "not yet valid": (
        _signed(valid_after=2**31 - 10, valid_before=2**31),
        {1: Reason.VALID_AFTER, 2: Reason.VALID_AFTER},
    ),
    "expired": (
        _signed(valid_after=0, valid_before=1000),
        {1: Reason.VALID_BEFORE, 2: Reason.VALID_BEFORE},
    ),
}


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(name=st.sampled_from(sorted(TAMPERINGS)), version=st.sampled_from([1, 2]))
def test_any_single_tampering_gets_its_specific_reason(name: str, version: int) -> None:
    build, expected = TAMPERINGS[name]
    assert verify(build(version)) == (False, expected[version])


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_each_tampering_is_refused_on_both_versions(name: str) -> None:
    build, expected = TAMPERINGS[name]
    for version in (1, 2):
        assert verify(build(version)) == (False, expected[version]), (name, version)


def test_v2_accepted_scheme_and_network_are_compared() -> None:
    body = verify_body(2, accepted=requirements_v2(max_timeout_seconds=60))
    assert verify(body) == (False, Reason.ACCEPTED_MISMATCH)
    body = verify_body(2, accepted=requirements_v2(network="eip155:84532"))
    assert verify(body) == (False, Reason.NETWORK_MISMATCH)


def test_address_case_does_not_matter_in_accepted() -> None:
    body = verify_body(2, accepted=requirements_v2(pay_to=PAY_TO.upper().replace("0X", "0x")))
    assert verify(body) == (True, None)


def test_unsupported_scheme() -> None:
    body = verify_body(
        2, requirements=requirements_v2(scheme="upto"), accepted=requirements_v2(scheme="upto")
    )
    assert verify(body) == (False, Reason.UNSUPPORTED_SCHEME)
    body = verify_body(1)
    body["paymentPayload"]["scheme"] = "upto"
    assert verify(body) == (False, Reason.INVALID_SCHEME)


def test_window_edges() -> None:
    facilitator = make_facilitator()
    now = facilitator.chain.now()
    future = authorization(PAYER, valid_after=now + 5, valid_before=now + 300)
    assert verify(verify_body(2, auth=future), facilitator) == (False, Reason.VALID_AFTER)
    margin = Policy().settle_margin_seconds
    too_soon = authorization(PAYER, valid_after=now - 60, valid_before=now + margin - 1)
    assert verify(verify_body(2, auth=too_soon), facilitator) == (False, Reason.VALID_BEFORE)
    longest = 300 + Policy().clock_skew_seconds
    too_long = authorization(PAYER, valid_after=now - 60, valid_before=now + longest + 5)
    assert verify(verify_body(2, auth=too_long), facilitator) == (False, Reason.VALID_BEFORE)
    just_fits = authorization(PAYER, valid_after=now - 60, valid_before=now + 300)
    assert verify(verify_body(2, auth=just_fits), facilitator) == (True, None)


def test_insufficient_funds_and_used_nonce() -> None:
    poor = test_wallet(7)
    assert verify(verify_body(2, wallet=poor)) == (False, Reason.INSUFFICIENT_FUNDS)
    facilitator = make_facilitator()
    body = verify_body(2)
    assert facilitator.settle(parse_request(_json(body))).success
    assert verify(body, facilitator) == (False, Reason.NONCE_ALREADY_USED)


def test_v1_value_at_least_is_a_switch() -> None:
    auth = authorization(PAYER, value=PRICE + 1)
    body = verify_body(1, auth=auth)
    assert verify(body) == (False, Reason.VALUE_MISMATCH)
    lenient = make_facilitator(Policy(v1_value_at_least=True))
    assert verify(body, lenient) == (True, None)
    below = verify_body(1, auth=authorization(PAYER, value=PRICE - 1))
    assert verify(below, lenient) == (False, Reason.VALUE_MISMATCH)
    assert verify(verify_body(2, auth=auth), lenient) == (False, Reason.VALUE_MISMATCH)


def test_rules_are_in_the_documented_order() -> None:
    names = [rule.__name__ for rule in RULES]
    assert names == [
        "version_and_scheme",
        "network_supported",
        "requirements_well_formed",
        "payload_well_formed",
        "accepted_matches",
        "recipient_matches",
        "value_matches",
        "time_window",
        "signature_recovers",
        "nonce_unused",
        "balance_suffices",
        "simulation_succeeds",
    ]


@pytest.mark.parametrize(("after", "valid"), [(0, False), (-1, True)])
def test_valid_after_edge_is_the_chains(
    chain: Chain, monkeypatch: pytest.MonkeyPatch, after: int, valid: bool
) -> None:
    """At validAfter == now the token reverts (it needs now > validAfter): verify says so, and
    one second later both accept. The clock is pinned, on the ledger and on Anvil alike."""
    now = chain.now() + 100
    monkeypatch.setattr(chain, "now", lambda: now)
    if isinstance(chain, EvmChain):
        chain.rpc("evm_setNextBlockTimestamp", [now])
    auth = authorization(PAYER, valid_after=now + after, valid_before=now + 200)
    body = parse_request(_json(verify_body(2, auth=auth)))
    facilitator = Facilitator(chain, facilitator_wallet().address)
    verified = facilitator.verify(body)
    signature = sign_authorization(PAYER.private_key, TOKEN_DOMAIN, auth)
    revert = chain.simulate_transfer(USDC, auth, signature)
    assert (verified.is_valid, verified.invalid_reason) == (
        (True, None) if valid else (False, Reason.VALID_AFTER)
    )
    assert revert == (None if valid else REVERT_NOT_YET_VALID)
    settled = facilitator.settle(body)
    assert settled.success is valid
    assert chain.authorization_used(USDC, PAYER.address, auth.nonce) is valid
