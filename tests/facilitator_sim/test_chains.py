"""One behaviour suite for every chain backend: the ledger and Anvil agree outcome for outcome."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from facilitator_sim.chains.base import Chain, TransferOutcome
from facilitator_sim.chains.ledger import (
    REVERT_BALANCE,
    REVERT_EXPIRED,
    REVERT_NOT_YET_VALID,
    REVERT_SIGNATURE,
    REVERT_USED,
)
from tests.factories import PAY_TO, PRICE, TOKEN_DOMAIN, USDC
from x402_core.eip3009 import (
    SECP256K1_N,
    Authorization,
    cancel_digest,
    random_nonce,
    sign_authorization,
    sign_digest,
)
from x402_core.wallets import STARTING_USDC_ATOMIC, payer_wallets, test_wallet

PAYER = test_wallet(1)
OTHER = test_wallet(2)


def _authorization(
    chain: Chain, *, value: int = PRICE, after: int = -60, before: int = 240
) -> Authorization:
    """`value` from PAYER to PAY_TO, valid between now+after and now+before on the chain's clock."""
    now = chain.now()
    return Authorization(PAYER.address, PAY_TO, value, now + after, now + before, random_nonce())


def _signed(
    chain: Chain, *, value: int = PRICE, after: int = -60, before: int = 240
) -> tuple[Authorization, bytes]:
    auth = _authorization(chain, value=value, after=after, before=before)
    return auth, sign_authorization(PAYER.private_key, TOKEN_DOMAIN, auth)


def _high_s(signature: bytes) -> bytes:
    """The same signature's malleable twin: s' = n - s with v flipped (valid for ecrecover)."""
    s = int.from_bytes(signature[32:64], "big")
    v = 27 if signature[64] == 28 else 28
    return signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([v])


def _expired(chain: Chain) -> tuple[Authorization, bytes]:
    return _signed(chain, after=-600, before=-10)


def _not_yet_valid(chain: Chain) -> tuple[Authorization, bytes]:
    return _signed(chain, after=100, before=600)


def _wrong_signer(chain: Chain) -> tuple[Authorization, bytes]:
    auth = _authorization(chain)
    return auth, sign_authorization(OTHER.private_key, TOKEN_DOMAIN, auth)


def _wrong_value(chain: Chain) -> tuple[Authorization, bytes]:
    auth, signature = _signed(chain)
    return replace(auth, value=auth.value + 1), signature


def _malleable(chain: Chain) -> tuple[Authorization, bytes]:
    auth, signature = _signed(chain)
    return auth, _high_s(signature)


def _too_large(chain: Chain) -> tuple[Authorization, bytes]:
    return _signed(chain, value=STARTING_USDC_ATOMIC + 1)


REFUSED: list[tuple[Callable[[Chain], tuple[Authorization, bytes]], str]] = [
    (_expired, REVERT_EXPIRED),
    (_not_yet_valid, REVERT_NOT_YET_VALID),
    (_wrong_signer, REVERT_SIGNATURE),
    (_wrong_value, REVERT_SIGNATURE),
    (_malleable, REVERT_SIGNATURE),
    (_too_large, REVERT_BALANCE),
]


def test_payers_start_funded(chain: Chain) -> None:
    for wallet in payer_wallets():
        assert chain.balance_of(USDC, wallet.address) == STARTING_USDC_ATOMIC


def test_a_valid_transfer_moves_the_value_once_and_uses_the_nonce(chain: Chain) -> None:
    auth, signature = _signed(chain)
    payee_before = chain.balance_of(USDC, PAY_TO)
    assert not chain.authorization_used(USDC, PAYER.address, auth.nonce)

    outcome = chain.submit_transfer(USDC, auth, signature)

    assert outcome == TransferOutcome(outcome.tx_hash, success=True)
    assert outcome.tx_hash.startswith("0x")
    assert len(outcome.tx_hash) == 66
    assert chain.balance_of(USDC, PAYER.address) == STARTING_USDC_ATOMIC - PRICE
    assert chain.balance_of(USDC, PAY_TO) == payee_before + PRICE
    assert chain.authorization_used(USDC, PAYER.address, auth.nonce)


def test_a_replay_fails_with_the_used_nonce_revert(chain: Chain) -> None:
    auth, signature = _signed(chain)
    assert chain.submit_transfer(USDC, auth, signature).success

    assert chain.simulate_transfer(USDC, auth, signature) == REVERT_USED
    replay = chain.submit_transfer(USDC, auth, signature)

    assert (replay.success, replay.error) == (False, REVERT_USED)
    assert chain.balance_of(USDC, PAYER.address) == STARTING_USDC_ATOMIC - PRICE


@pytest.mark.parametrize(
    ("build", "revert"), REFUSED, ids=[build.__name__.strip("_") for build, _ in REFUSED]
)
def test_a_refused_transfer_gives_the_contract_revert_and_changes_nothing(
    chain: Chain, build: Callable[[Chain], tuple[Authorization, bytes]], revert: str
) -> None:
    auth, signature = build(chain)
    payee_before = chain.balance_of(USDC, PAY_TO)

    assert chain.simulate_transfer(USDC, auth, signature) == revert
    outcome = chain.submit_transfer(USDC, auth, signature)

    assert (outcome.success, outcome.error) == (False, revert)
    assert chain.balance_of(USDC, PAYER.address) == STARTING_USDC_ATOMIC
    assert chain.balance_of(USDC, PAY_TO) == payee_before
    assert not chain.authorization_used(USDC, PAYER.address, auth.nonce)


def test_a_not_yet_valid_transfer_settles_once_its_time_comes(chain: Chain) -> None:
    auth, signature = _not_yet_valid(chain)
    assert chain.simulate_transfer(USDC, auth, signature) == REVERT_NOT_YET_VALID

    chain.advance_time(200)

    assert chain.simulate_transfer(USDC, auth, signature) is None
    assert chain.submit_transfer(USDC, auth, signature).success


def test_a_cancelled_authorization_cannot_be_used(chain: Chain) -> None:
    auth, signature = _signed(chain)
    cancel_signature = sign_digest(
        PAYER.private_key, cancel_digest(TOKEN_DOMAIN, PAYER.address, auth.nonce)
    )

    assert chain.cancel_authorization(USDC, PAYER.address, auth.nonce, cancel_signature).success
    assert chain.authorization_used(USDC, PAYER.address, auth.nonce)
    again = chain.cancel_authorization(USDC, PAYER.address, auth.nonce, cancel_signature)
    transfer = chain.submit_transfer(USDC, auth, signature)

    assert (again.success, again.error) == (False, REVERT_USED)
    assert (transfer.success, transfer.error) == (False, REVERT_USED)
    assert chain.balance_of(USDC, PAYER.address) == STARTING_USDC_ATOMIC


def test_a_cancellation_signed_by_someone_else_is_refused(chain: Chain) -> None:
    nonce = random_nonce()
    forged = sign_digest(OTHER.private_key, cancel_digest(TOKEN_DOMAIN, PAYER.address, nonce))

    outcome = chain.cancel_authorization(USDC, PAYER.address, nonce, forged)

    assert (outcome.success, outcome.error) == (False, REVERT_SIGNATURE)
    assert not chain.authorization_used(USDC, PAYER.address, nonce)


def test_simulation_changes_nothing(chain: Chain) -> None:
    auth, signature = _signed(chain)

    for _ in range(3):
        assert chain.simulate_transfer(USDC, auth, signature) is None

    assert chain.balance_of(USDC, PAYER.address) == STARTING_USDC_ATOMIC
    assert not chain.authorization_used(USDC, PAYER.address, auth.nonce)
    assert chain.submit_transfer(USDC, auth, signature).success


def test_fifty_concurrent_submissions_of_one_authorization_settle_exactly_once(
    chain: Chain,
) -> None:
    auth, signature = _signed(chain)
    payee_before = chain.balance_of(USDC, PAY_TO)
    start = threading.Barrier(50, timeout=10)

    def submit(_: int) -> TransferOutcome:
        start.wait()
        return chain.submit_transfer(USDC, auth, signature)

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(submit, range(50), timeout=60))

    assert sum(o.success for o in outcomes) == 1
    assert {o.error for o in outcomes if not o.success} == {REVERT_USED}
    assert len({o.tx_hash for o in outcomes}) == 50
    assert chain.balance_of(USDC, PAY_TO) == payee_before + PRICE
    assert chain.balance_of(USDC, PAYER.address) == STARTING_USDC_ATOMIC - PRICE
