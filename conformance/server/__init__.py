"""Server conformance: black-box checks against a paid endpoint's URL."""

from __future__ import annotations

import time
from collections.abc import Sequence

from conformance.catalog import Profile, Role, grade
from conformance.report import Report
from conformance.selection import chosen_checks
from conformance.server.fault_trials import FacilitatorAdmin, FaultTrials
from conformance.server.probe import ServerProbe
from conformance.target import WrongServiceError
from x402_core.headers import PAYMENT_REQUIRED
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
    profile: Profile = Profile.XGEN,
    facilitator_admin: str | None = None,
    fault_hold: float = 30.0,
    fault_slow: float = 2.0,
) -> Report:
    """Grade the paid endpoint at `endpoint_url` against what `listing` says it asks for. Pays
    from `payer` (test wallet 2 by default), in each version the server offers; a run buys a
    few jobs (tenths of a test USDC). WrongServiceError when nothing there speaks x402.

    With `facilitator_admin` (the URL of this harness's facilitator, which the server uses), it
    also buys a job under each facilitator fault: `fault_hold` is the server's timeout on
    facilitator calls (the timeout fault holds its answer longer), `fault_slow` the slow
    fault's delay."""
    checks = chosen_checks(Role.SERVER, only, profile)
    admin = None if facilitator_admin is None else FacilitatorAdmin(facilitator_admin)
    probe = ServerProbe(
        endpoint_url,
        listing,
        payer or test_wallet(2),
        rpc_url,
        headers or {},
        poll_timeout,
        faults=None if admin is None else FaultTrials(admin, fault_hold, fault_slow),
    )
    started = time.perf_counter()
    try:
        if admin is not None:
            admin.require_faults()
        _require_x402(probe)
        results = grade(checks, probe)
    finally:
        probe.close()
        if admin is not None:
            admin.close()
    return Report(endpoint_url, results, time.perf_counter() - started, {"profile": profile.value})


def _require_x402(probe: ServerProbe) -> None:
    """A URL whose unpaid answer carries no x402 offer at all is not a paid endpoint."""
    answer = probe.unpaid
    if probe.versions or answer.status == 402 or PAYMENT_REQUIRED.lower() in answer.headers:
        return
    raise WrongServiceError(
        f"no x402 offer here: POST {probe.endpoint_url} answered {answer.status} without "
        "PAYMENT-REQUIRED or a 402 body; is this the paid endpoint's URL?"
    )
