"""The load generator's wallets: a pool of funded test wallets, and payments signed ahead."""

from __future__ import annotations

import itertools
import threading
from collections import deque

from x402_core.headers import encode_header
from x402_core.models import PaymentRequirementsV2
from x402_core.payments import pay_v2
from x402_core.wallets import TestWallet, test_wallet

DEFAULT_FIRST_WALLET = 100
"""Load wallets start above the accounts the harness funds for people (1–9) and tests."""
FUNDED_USDC_ATOMIC = 1_000 * 10**6


def pool(first: int, size: int) -> list[TestWallet]:
    return [test_wallet(first + n) for n in range(size)]


class WalletPool:
    """Hands each simulated user its own wallet, round the pool; safe across greenlets."""

    def __init__(self, first: int, size: int, offset: int = 0) -> None:
        self.first, self.size = first, size
        self._numbers = itertools.count(offset)
        self._lock = threading.Lock()

    def take(self) -> TestWallet:
        with self._lock:
            number = next(self._numbers)
        return test_wallet(self.first + number % self.size)


class Payments:
    """PAYMENT-SIGNATURE values for one wallet: signed ahead (`presign` of them) or on demand."""

    def __init__(self, wallet: TestWallet, presign: int = 0) -> None:
        self.wallet = wallet
        self.presign = presign
        self._ready: deque[str] = deque()
        self._for: PaymentRequirementsV2 | None = None

    def next(self, offer: PaymentRequirementsV2) -> str:
        if offer != self._for:
            self._ready.clear()
            self._for = offer
            self._ready.extend(self._sign(offer) for _ in range(self.presign))
        if self._ready:
            return self._ready.popleft()
        return self._sign(offer)

    def _sign(self, offer: PaymentRequirementsV2) -> str:
        return encode_header(pay_v2(offer, self.wallet.private_key, self.wallet.address))
