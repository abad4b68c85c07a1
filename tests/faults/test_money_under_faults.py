"""The five money invariants after every fault, on the ledger and on Anvil: real processes on
loopback, a paid flood (at least 10 at once), a fault in the middle, recovery, every payment sent
once more, and a judgement against the chain's own records (scenarios.py, harness.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.scenarios import FAULTS

pytestmark = pytest.mark.slow

CASES = [
    pytest.param(name, chain, marks=[pytest.mark.anvil] if chain == "anvil" else [])
    for name, (_, chains) in FAULTS.items()
    for chain in chains
]


@pytest.mark.parametrize(("fault", "chain"), CASES)
def test_money_stays_true(tmp_path: Path, fault: str, chain: str) -> None:
    run, _ = FAULTS[fault]
    report = run(tmp_path, chain)
    report.assert_money_is_true()
    assert report.purchases >= 24
