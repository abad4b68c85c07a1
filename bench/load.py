"""Load: the highest paid-job rate the stack sustains with p95 under 500 ms (ledger and Anvil),
how much one Locust process drives, and where the server's time goes under load.

    .venv/bin/python bench/load.py [--seconds 10] [--profile]

The stack runs as child processes (mode `processes`), Locust in its own; everything shares the
machine's cores, as it would on a developer's laptop. Users pay with test wallets 1–9, the
`instant` scenario makes jobs complete at once, and think time is zero: each user buys, polls
once, downloads, and buys again.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests.names import PAID
from loadtests.options import UserOptions
from loadtests.plan import LoadPlan
from loadtests.runner import run_locust
from x402_core.wallets import PAYER_INDEXES
from x402_harness.stack import Stack, StackConfig
from x402_service.serving import free_port

P95_LIMIT_MS = 500
USERS = UserOptions(
    scenario="instant",
    first_wallet=PAYER_INDEXES[0],
    wallets=len(PAYER_INDEXES),
    think_time=(0, 0),
    weights=(1, 0, 0),
)


def step(stack: Stack, users: int, seconds: int, processes: int = 1) -> tuple[float, float, int]:
    """(paid jobs per second, p95 of the paid request in ms, failures) at `users` users."""
    plan = LoadPlan(
        users=users,
        spawn_rate=users,
        run_time=f"{seconds}s",
        processes=processes,
        locust_args=USERS.locust_args(),
    )
    with tempfile.TemporaryDirectory() as out:
        run = run_locust(plan, stack.server_url, Path(out) / "run", master_port=free_port())
        if run.exit_code != 0 or run.snapshot is None:
            raise RuntimeError(run.output_tail())
    paid = run.snapshot.requests[PAID]
    return paid.count / seconds, paid.percentiles["p95"], paid.failures


def sustained(chain: str, seconds: int, steps: list[int]) -> None:
    with Stack(StackConfig(chain=chain, mode="processes")) as stack:
        best = None
        for users in steps:
            rate, p95, failures = step(stack, users, seconds)
            ok = p95 < P95_LIMIT_MS and failures == 0
            print(
                f"{chain:7} {users:4} users: {rate:7.1f} paid jobs/s, p95 {p95:6.0f} ms, "
                f"{failures} failures{'' if ok else '  (over the limit)'}"
            )
            if ok and (best is None or rate > best[0]):
                best = (rate, users)
        if best:
            print(
                f"{chain:7} highest with p95 < {P95_LIMIT_MS} ms: {best[0]:.1f} paid jobs/s "
                f"at {best[1]} users"
            )


def generator(seconds: int, users: int) -> None:
    with Stack(StackConfig(mode="processes")) as stack:
        for processes in (1, 2):
            rate, p95, _ = step(stack, users, seconds, processes)
            print(
                f"locust  {users} users in {processes} process(es): {rate:.1f} paid jobs/s, "
                f"p95 {p95:.0f} ms"
            )


def profile(seconds: int, users: int) -> None:
    """py-spy on the mock server and the facilitator while Locust pays: the functions where the
    samples are (own time), summed over each process."""
    with Stack(StackConfig(mode="processes")) as stack, tempfile.TemporaryDirectory() as out:
        spies = {
            name: subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("py-spy")),
                    "record",
                    "-p",
                    str(process.pid),
                    "-d",
                    str(seconds),
                    "-r",
                    "200",
                    "-f",
                    "raw",
                    "-o",
                    f"{out}/{name}.txt",
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for name, process in stack.processes.items()
        }
        step(stack, users, seconds)
        for name, spy in spies.items():
            spy.wait(60)
            print(f"{name}: where the samples are (own time)")
            for frame, share in _top_frames(Path(f"{out}/{name}.txt")):
                print(f"  {share:5.1%}  {frame}")


def _top_frames(raw: Path, count: int = 12) -> list[tuple[str, float]]:
    own: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        own[stack.split(";")[-1]] += int(samples)
    total = sum(own.values()) or 1
    return [(frame, n / total) for frame, n in own.most_common(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="also profile with py-spy")
    args = parser.parse_args()
    sustained("ledger", args.seconds, [5, 10, 20, 40, 80])
    sustained("anvil", args.seconds, [5, 10, 20, 40])
    generator(args.seconds, 40)
    if args.profile:
        profile(args.seconds, 20)


if __name__ == "__main__":
    main()
