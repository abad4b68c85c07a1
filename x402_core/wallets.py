"""Well-known test wallets: Anvil's development mnemonic, and as many more as a load test needs.

Every key here is public knowledge. Nothing signed with them is worth anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from eth_account.hdaccount import ETHEREUM_DEFAULT_PATH, key_from_seed, seed_from_mnemonic

from x402_core.eip3009 import address_of_key

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
FACILITATOR_INDEX = 0
"""Account 0 signs and sends the facilitator's settlement transactions."""
PAYER_INDEXES = range(1, 10)
"""Accounts 1–9 start with 1,000 USDC on every backend."""
STARTING_USDC_ATOMIC = 1_000 * 10**6


@dataclass(frozen=True, slots=True)
class TestWallet:
    """A test-only key pair (never holds anything of value)."""

    __test__ = False  # not a pytest test class

    index: int
    address: str
    private_key: bytes

    @property
    def private_key_hex(self) -> str:
        return "0x" + self.private_key.hex()


@lru_cache(maxsize=4096)
def test_wallet(index: int) -> TestWallet:
    """Account `index` of the Anvil development mnemonic (m/44'/60'/0'/0/index)."""
    if index < 0:
        raise ValueError(f"wallet index must be >= 0, got {index}")
    path = ETHEREUM_DEFAULT_PATH[:-1] + str(index)
    key = key_from_seed(_anvil_seed(), path)
    return TestWallet(index=index, address=address_of_key(key), private_key=key)


@lru_cache(maxsize=1)
def _anvil_seed() -> bytes:
    return seed_from_mnemonic(ANVIL_MNEMONIC, passphrase="")


test_wallet.__test__ = False  # type: ignore[attr-defined]


def facilitator_wallet() -> TestWallet:
    return test_wallet(FACILITATOR_INDEX)


def payer_wallets() -> list[TestWallet]:
    """Accounts 1–9: funded with 1,000 USDC at start on every backend."""
    return [test_wallet(i) for i in PAYER_INDEXES]
