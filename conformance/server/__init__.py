"""Server conformance: black-box checks against a paid endpoint's URL."""

from __future__ import annotations

import time
from collections.abc import Sequence

from conformance.catalog import Role, grade
from conformance.report import Report
from conformance.selection import chosen_checks
from conformance.server.probe import ServerProbe
from x402_core.listing import Listing
from x402_core.wallets import TestWallet, test_wallet

__all__ = ["ServerProbe", "grade_server"]


def grade_server(
    endpoint_url: str,
    listing: Listing,
    *,
    payer: TestWallet | None = None,
    rpc_url: str | None = None,
    headers: dict[str, str] | None = None,
    poll_timeout: float = 30.0,
    only: Sequence[str] | None = None,
) -> Report:
    """Grade the paid endpoint at `endpoint_url` against what `listing` says it asks for. Pays
    from `payer` (test wallet 2 by default); a run buys three jobs (0.15 test USDC)."""
    probe = ServerProbe(
        endpoint_url,
        listing,
        payer or test_wallet(2),
        rpc_url,
        headers or {},
        poll_timeout,
    )
    started = time.perf_counter()
    try:
        results = grade(chosen_checks(Role.SERVER, only), probe)
    finally:
        probe.close()
    return Report(endpoint_url, results, time.perf_counter() - started)
