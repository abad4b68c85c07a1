"""Pending purchases settled in the background: at start-up (a crash may have left claimed
purchases behind) and every few seconds after, for every open purchase whose lease ran out."""

from __future__ import annotations

import asyncio
import logging
import time

from mock_server.settling import settle_purchase
from mock_server.state import ServerState

log = logging.getLogger("x402_harness.mock_server")


async def reconcile_stale(state: ServerState) -> int:
    """Settle again every open purchase nobody has worked on within its lease; how many."""
    stale = state.store.stale(before=time.time() - state.lease_seconds)
    for purchase in stale:
        await settle_purchase(state, purchase, first_attempt=False)
    return len(stale)


async def reconcile_forever(state: ServerState) -> None:
    """Run `reconcile_stale` now and then every `reconcile_interval` seconds, until cancelled;
    a failed pass is logged and the next one tries again."""
    while True:
        try:
            await reconcile_stale(state)
        except Exception:
            log.exception("reconciling pending purchases failed; trying again later")
        await asyncio.sleep(state.settings.reconcile_interval)
