"""The five money invariants after every fault, on the ledger and on Anvil: real processes on
loopback, a paid flood (at least 10 at once), a fault in the middle, recovery, every payment sent
once more, and a judgement against the chain's own records (see harness.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mock_server.crashpoints import CRASH_ENV, CRASH_EXIT_CODE, CrashPoint
from tests.faults.harness import FaultStack, Flood, make_sales, slow_mining

pytestmark = pytest.mark.slow

BACKENDS = ["ledger", pytest.param("anvil", marks=pytest.mark.anvil)]
SALES = 60
MID_FLOOD = 15


@pytest.mark.parametrize("chain", BACKENDS)
def test_the_facilitator_killed_mid_flood_and_restarted(tmp_path: Path, chain: str) -> None:
    with FaultStack(tmp_path, chain) as stack:
        flood = Flood(stack, make_sales(SALES)).run_until(MID_FLOOD)
        stack.kill("facilitator")
        time.sleep(0.3)
        stack.start_facilitator()
        flood.finish()
        stack.recover_and_judge(flood.sales).assert_money_is_true()


@pytest.mark.parametrize("chain", BACKENDS)
def test_the_server_killed_mid_flood_and_restarted_on_its_store(tmp_path: Path, chain: str) -> None:
    with FaultStack(tmp_path, chain) as stack:
        flood = Flood(stack, make_sales(SALES)).run_until(MID_FLOOD)
        stack.kill("server0")
        time.sleep(0.3)
        stack.start_server(0)
        flood.finish()
        stack.recover_and_judge(flood.sales).assert_money_is_true()


@pytest.mark.parametrize("point", list(CrashPoint))
@pytest.mark.parametrize("chain", BACKENDS)
def test_a_crash_at_each_step_of_a_purchase(tmp_path: Path, chain: str, point: CrashPoint) -> None:
    with FaultStack(tmp_path, chain, server_env={CRASH_ENV: point.value}) as stack:
        flood = Flood(stack, make_sales(24))
        flood.run_until(1)
        assert stack.wait_for_exit("server0") == CRASH_EXIT_CODE
        stack.start_server(0, env={CRASH_ENV: ""})
        flood.finish()
        stack.recover_and_judge(flood.sales).assert_money_is_true()


@pytest.mark.parametrize("chain", BACKENDS)
def test_two_replicas_on_one_store_are_one_server(tmp_path: Path, chain: str) -> None:
    """Every payment is sent to both replicas at once, then each once more."""
    with FaultStack(tmp_path, chain, replicas=2) as stack:
        sales = make_sales(40)
        twins = [_twin(sale) for sale in sales]  # the same payment, to the other replica
        flood = Flood(stack, [s for pair in zip(sales, twins, strict=True) for s in pair])
        flood.finish()
        for sale, twin in zip(sales, twins, strict=True):
            sale.answers.extend(twin.answers)
        report = stack.recover_and_judge(sales)
        report.assert_money_is_true()
        assert report.charged == len(sales)


@pytest.mark.parametrize("chain", BACKENDS)
def test_connections_to_the_facilitator_reset_after_it_answered(tmp_path: Path, chain: str) -> None:
    with FaultStack(tmp_path, chain, proxy=True) as stack:
        flood = Flood(stack, make_sales(SALES))
        flood.finish()
        assert stack.proxy is not None
        assert stack.proxy.dropped > 10, "the proxy dropped answers: the fault happened"
        stack.recover_and_judge(flood.sales).assert_money_is_true()


@pytest.mark.anvil
def test_a_facilitator_slower_than_the_servers_timeout(tmp_path: Path) -> None:
    """Blocks every 2 s, the server waits 0.5 s for a settle: every outcome is unknown at first."""
    server_env = {"X402H_SERVER_FACILITATOR_TIMEOUT": "0.5"}
    with FaultStack(tmp_path, "anvil", server_env=server_env) as stack:
        assert stack.rpc_url is not None
        with slow_mining(stack.rpc_url):
            flood = Flood(stack, make_sales(30))
            flood.finish()
            pending = [s for s in flood.sales if s.answers[0].error == "settlement_pending"]
            assert len(pending) > 10, "the fault happened: outcomes were unknown"
            report = stack.recover_and_judge(flood.sales)
        report.assert_money_is_true()


@pytest.mark.anvil
def test_anvil_killed_with_its_state_never_settles_anything_twice(tmp_path: Path) -> None:
    """Anvil dumps its state each second; killed, it comes back without its last settlements.
    The facilitator's records keep them: never settled again, and the jobs stay returned."""
    with FaultStack(tmp_path, "anvil") as stack:
        flood = Flood(stack, make_sales(SALES)).run_until(MID_FLOOD)
        stack.kill("anvil")
        time.sleep(0.3)
        stack.start_anvil()
        flood.finish()
        report = stack.recover_and_judge(flood.sales)
        report.assert_money_is_true()


def _twin(sale: object) -> object:
    from dataclasses import replace

    from tests.faults.harness import Sale

    assert isinstance(sale, Sale)
    return replace(sale, index=sale.index + 1, answers=[])
