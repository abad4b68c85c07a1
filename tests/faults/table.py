"""The fault table: every fault on every chain it runs on, one row each.

.venv/bin/python -m tests.faults.table
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from tests.faults.scenarios import FAULTS


def main() -> None:
    print(
        "| fault | chain | purchases | charged | jobs | lies told | double charges "
        "| charged, job not returned | jobs without a charge | s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, (run, chains) in FAULTS.items():
        for chain in chains:
            started = time.monotonic()
            with tempfile.TemporaryDirectory() as directory:
                report = run(Path(directory), chain)
            charged = report.charged + report.rolled_back
            rolled = f" ({report.rolled_back} rolled back)" if report.rolled_back else ""
            print(
                f"| {name} | {chain} | {report.purchases} | {charged}{rolled} | {report.jobs} | "
                f"{len(report.lies)} | {len(report.double_charges)} | "
                f"{len(report.unreturned)} | {len(report.jobs_without_charge)} | "
                f"{time.monotonic() - started:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
