"""The load generator's wallets: a pool of test wallets, and payments signed ahead."""

from __future__ import annotations

import itertools
import threading
from collections import deque

from x402_core.headers import encode_header
from x402_core.wallets import TestWallet, test_wallet
from x402_payer.offers import PAYMENT_HEADER, Choice, sign_payment


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
    """Payment headers for one wallet, as (name, value): signed ahead (`presign` of them, for the
    offer last seen) or on demand, each with a fresh nonce."""

    def __init__(self, wallet: TestWallet, presign: int = 0) -> None:
        self.wallet = wallet
        self.presign = presign
        self._ready: deque[tuple[str, str]] = deque()
        self._for: Choice | None = None

    def next(self, choice: Choice) -> tuple[str, str]:
        if choice != self._for:
            self._ready.clear()
            self._for = choice
            self._ready.extend(self._sign(choice) for _ in range(self.presign))
        if self._ready:
            return self._ready.popleft()
        return self._sign(choice)

    def _sign(self, choice: Choice) -> tuple[str, str]:
        payment = sign_payment(choice, self.wallet.private_key, self.wallet.address)
        return PAYMENT_HEADER[choice.version], encode_header(payment)
