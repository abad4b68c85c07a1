"""Facilitator conformance: black-box checks against a facilitator's URL."""

from __future__ import annotations

import time
from collections.abc import Sequence

from conformance.catalog import Profile, Role, grade
from conformance.facilitator.probe import FacilitatorProbe
from conformance.facilitator.reasons import TABLE_NAMES, reason_table
from conformance.report import Report
from conformance.selection import chosen_checks
from x402_core.wallets import TestWallet, test_wallet

__all__ = ["TABLE_NAMES", "FacilitatorProbe", "grade_facilitator"]


def grade_facilitator(
    url: str,
    *,
    reasons: str = "ours",
    rpc_url: str | None = None,
    payer: TestWallet | None = None,
    only: Sequence[str] | None = None,
    profile: Profile = Profile.XGEN,
) -> Report:
    """Grade the facilitator at `url`, comparing refusals with the reasons of implementation
    `reasons` (`TABLE_NAMES`). Pays from `payer` (test wallet 1 by default: funded with 1,000
    USDC on every backend of the harness); each run spends about a test USDC.
    WrongServiceError when nothing there answers /supported as a facilitator does."""
    reason_table(reasons)  # an unknown or uninstalled table fails before anything is sent
    checks = chosen_checks(Role.FACILITATOR, only, profile)
    probe = FacilitatorProbe(url, reasons, rpc_url, payer or test_wallet(1))
    started = time.perf_counter()
    try:
        probe.require_facilitator()
        results = grade(checks, probe)
    finally:
        probe.close()
    details = {"reasons": reasons, "profile": profile.value}
    return Report(url, results, time.perf_counter() - started, details)
