"""Well-known test wallets."""

from __future__ import annotations

import pytest

from x402_core.eip3009 import address_of_key
from x402_core.wallets import facilitator_wallet, payer_wallets, test_wallet


def test_anvil_accounts() -> None:
    assert facilitator_wallet().address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert test_wallet(1).address == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert [w.index for w in payer_wallets()] == list(range(1, 10))


def test_keys_match_addresses() -> None:
    for wallet in [*payer_wallets(), *(test_wallet(i) for i in range(100, 105))]:
        assert address_of_key(wallet.private_key) == wallet.address
        assert wallet.private_key_hex == "0x" + wallet.private_key.hex()


def test_wallets_are_distinct_and_deterministic() -> None:
    first = [test_wallet(i) for i in range(100, 120)]
    test_wallet.cache_clear()
    assert [test_wallet(i) for i in range(100, 120)] == first
    assert len({w.address for w in first} | {w.address for w in payer_wallets()}) == 29


def test_negative_index_is_refused() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        test_wallet(-1)
