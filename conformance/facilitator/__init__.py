"""Facilitator conformance: black-box checks against a facilitator's URL."""

from __future__ import annotations

import time
from collections.abc import Sequence

from conformance.catalog import Role, grade
from conformance.facilitator.probe import FacilitatorProbe
from conformance.facilitator.vectors import REASON_TABLES
from conformance.report import Report
from conformance.selection import chosen_checks
from x402_core.wallets import TestWallet, test_wallet

__all__ = ["REASON_TABLES", "FacilitatorProbe", "grade_facilitator"]


def grade_facilitator(
    url: str,
    *,
    reasons: str = "ours",
    rpc_url: str | None = None,
    payer: TestWallet | None = None,
    only: Sequence[str] | None = None,
) -> Report:
    """Grade the facilitator at `url`. Pays from `payer` (test wallet 1 by default: funded with
    1,000 USDC on every backend of the harness); each run spends a few tenths of a test USDC."""
    if reasons not in REASON_TABLES:
        raise ValueError(f"reasons is {reasons!r}; expected one of {', '.join(REASON_TABLES)}")
    probe = FacilitatorProbe(url, reasons, rpc_url, payer or test_wallet(1))
    started = time.perf_counter()
    try:
        results = grade(chosen_checks(Role.FACILITATOR, only), probe)
    finally:
        probe.close()
    return Report(url, results, time.perf_counter() - started, {"reasons": reasons})
