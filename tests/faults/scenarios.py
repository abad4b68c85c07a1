"""Each fault of issue 9 as a function: start the stack as processes in `directory` on `chain`,
run a paid flood (at least 10 at once), inject the fault, recover, send every payment once more,
and judge (harness.py). The tests assert each report; `python -m tests.faults.table` prints them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from mock_server.crashpoints import CRASH_ENV, CRASH_EXIT_CODE, CrashPoint
from tests.faults.harness import FaultReport, FaultStack, Flood, make_sales, slow_mining

SALES = 200
"""Purchases in a flood: hundreds, twelve at a time."""
MID_FLOOD = 50
"""Purchases answered before a component is killed."""
Fault = Callable[[Path, str], FaultReport]


def _killed_mid_flood(stack: FaultStack, name: str, restart: Callable[[], None]) -> FaultReport:
    """SIGKILL process `name` once MID_FLOOD purchases were answered, `restart` it, finish."""
    flood = Flood(stack, make_sales(SALES)).run_until(MID_FLOOD)
    stack.kill(name)
    time.sleep(0.3)
    restart()
    flood.finish()
    return stack.recover_and_judge(flood.sales)


def facilitator_killed(directory: Path, chain: str) -> FaultReport:
    with FaultStack(directory, chain) as stack:
        return _killed_mid_flood(stack, "facilitator", stack.start_facilitator)


def server_killed(directory: Path, chain: str) -> FaultReport:
    with FaultStack(directory, chain) as stack:
        return _killed_mid_flood(stack, "server0", lambda: stack.start_server(0))


def crash_at(point: CrashPoint) -> Fault:
    """The server kills itself at `point` of the first purchase that reaches it, and restarts."""

    def crash(directory: Path, chain: str) -> FaultReport:
        with FaultStack(directory, chain, server_env={CRASH_ENV: point.value}) as stack:
            flood = Flood(stack, make_sales(SALES // 2))
            flood.run_until(1)
            exit_code = stack.wait_for_exit("server0")
            if exit_code != CRASH_EXIT_CODE:
                raise AssertionError(f"the server exited {exit_code}, not at the crash point")
            stack.start_server(0, env={CRASH_ENV: ""})
            flood.finish()
            return stack.recover_and_judge(flood.sales)

    return crash


def two_replicas(directory: Path, chain: str) -> FaultReport:
    """Every payment sent to both replicas of one store at once, then once more."""
    with FaultStack(directory, chain, replicas=2) as stack:
        sales = make_sales(SALES // 2)
        twins = [replace(sale, index=sale.index + 1, answers=[]) for sale in sales]
        Flood(stack, [s for pair in zip(sales, twins, strict=True) for s in pair]).finish()
        for sale, twin in zip(sales, twins, strict=True):
            sale.answers.extend(twin.answers)
        return stack.recover_and_judge(sales)


def connections_reset(directory: Path, chain: str) -> FaultReport:
    """Every third settle's answer during the flood is cut off after the facilitator made it;
    recovery then finds the connection whole again."""
    with FaultStack(directory, chain, proxy=True) as stack:
        flood = Flood(stack, make_sales(SALES))
        flood.finish()
        if stack.proxy is None or stack.proxy.dropped < 10:
            raise AssertionError("the proxy dropped fewer than 10 settle answers: no fault")
        stack.proxy.dropping = False
        return stack.recover_and_judge(flood.sales)


def facilitator_slower_than_timeout(directory: Path, chain: str) -> FaultReport:
    """Anvil mines every 2 s; the server waits 0.5 s for a settle."""
    server_env = {"X402H_SERVER_FACILITATOR_TIMEOUT": "0.5"}
    with FaultStack(directory, chain, server_env=server_env) as stack:
        if stack.rpc_url is None:
            raise ValueError("this fault needs a chain that mines in blocks: anvil")
        with slow_mining(stack.rpc_url):
            flood = Flood(stack, make_sales(SALES // 4))
            flood.finish()
            pending = [s for s in flood.sales if s.answers[0].error == "settlement_pending"]
            if len(pending) <= 10:
                raise AssertionError(f"only {len(pending)} outcomes were unknown: no fault")
            return stack.recover_and_judge(flood.sales)


def anvil_killed(directory: Path, chain: str) -> FaultReport:
    """Anvil dumps its state each second; killed, it comes back without its last settlements."""
    if chain != "anvil":
        raise ValueError("this fault kills Anvil: chain must be anvil")
    with FaultStack(directory, chain) as stack:
        return _killed_mid_flood(stack, "anvil", stack.start_anvil)


BOTH = ("ledger", "anvil")
FAULTS: dict[str, tuple[Fault, tuple[str, ...]]] = {
    "facilitator killed mid-flood, restarted": (facilitator_killed, BOTH),
    "server killed mid-flood, restarted on SQLite": (server_killed, BOTH),
    **{
        f"server crashes {point.value.replace('_', ' ')}": (crash_at(point), BOTH)
        for point in CrashPoint
    },
    "two replicas on one store": (two_replicas, BOTH),
    "connection to the facilitator reset after it answered": (connections_reset, BOTH),
    "facilitator slower than the server's timeout": (
        facilitator_slower_than_timeout,
        ("anvil",),
    ),
    "Anvil killed, restarted from its state file": (anvil_killed, ("anvil",)),
}
"""Each fault, with the chains it runs on."""
