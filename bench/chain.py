"""Settlements on Anvil against plain transfers sent the same way (same signer, same client)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from bench.payments import TERMS, signed_authorization
from facilitator_sim.chains.anvil import AnvilProcess
from facilitator_sim.chains.base import TransferOutcome
from facilitator_sim.chains.evm import EvmChain
from facilitator_sim.chains.factory import fund_test_wallets
from x402_core.wallets import test_wallet

JobT = TypeVar("JobT")


def _rate(jobs: list[JobT], send: Callable[[JobT], TransferOutcome], threads: int) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(send, jobs))
    elapsed = time.perf_counter() - start
    if not all(o.success for o in outcomes):
        raise RuntimeError("a benchmark transaction failed")
    return len(jobs) / elapsed


def settlement_rates(
    rounds: int = 4, per_round: int = 150, threads: int = 4
) -> tuple[float, float, int]:
    """(plain transfers/s, transferWithAuthorization/s, threads), alternating batches on one chain
    so that both meet the same chain length (Anvil slows as it grows)."""
    payer = test_wallet(1)
    with AnvilProcess.start() as anvil:
        chain = EvmChain(anvil.rpc_url)
        try:
            chain.install_token()
            fund_test_wallets(chain)
            plain_rates, settle_rates = [], []
            for _ in range(rounds):
                plain_rates.append(
                    _rate(list(range(per_round)), lambda _: chain.transact(TERMS.pay_to), threads)
                )
                signed = [signed_authorization(payer) for _ in range(per_round)]
                settle_rates.append(
                    _rate(signed, lambda s: chain.submit_transfer(TERMS.asset, s[0], s[1]), threads)
                )
        finally:
            chain.close()
    return sum(plain_rates) / rounds, sum(settle_rates) / rounds, threads
