"""Locust as child processes: one headless process, or a master and P workers on loopback.

Locust runs in its own processes because gevent monkey-patches the interpreter it is imported
in; the harness's servers run in threads that must not be patched. Each child gets its own session,
so that Ctrl-C reaches the harness alone, which then stops Locust once and keeps its summary.
"""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from loadtests.plan import LoadPlan
from loadtests.snapshot import Snapshot, read_snapshot

LOCUSTFILE = Path(__file__).parent / "locustfile.py"
STARTUP_GRACE_SECONDS = 60
STOP_TIMEOUT_SECONDS = 10
"""Locust's --stop-timeout: how long users may finish their task when the run time is over."""
WORKERS_CONNECTED = re.compile(r"(\d+) workers? connected")


@dataclass(frozen=True)
class LocustRun:
    exit_code: int
    log: Path
    """Locust's own output (the master's, when there are workers)."""
    workers_connected: int
    worker_exit_codes: list[int]
    snapshot: Snapshot | None
    """The last snapshot Locust wrote; `final` unless Locust was killed."""
    interrupted: bool = False
    """Stopped early by Ctrl-C (or SIGTERM) in the harness."""

    def output_tail(self, chars: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.is_file() else ""


def run_locust(
    plan: LoadPlan,
    host: str,
    csv_prefix: Path,
    *,
    html: Path | None = None,
    master_port: int | None = None,
    on_progress: Callable[[Snapshot], None] | None = None,
) -> LocustRun:
    """Run `plan` against `host`, writing `{csv_prefix}_*` files; with workers, the master binds
    `master_port` on loopback (the caller picks a free one)."""
    if plan.processes > 1 and master_port is None:
        raise ValueError("a master port is needed to run Locust workers")
    snapshot_path = csv_prefix.with_name(csv_prefix.name + "_snapshot.json")
    snapshot_path.unlink(missing_ok=True)
    base = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *plan.locust_args]
    base += ["--x402-snapshot", str(snapshot_path)]
    headless = [
        *base,
        "--headless",
        "--host", host,
        "-u", str(plan.users),
        "-r", str(plan.spawn_rate),
        "-t", plan.run_time,
        "--csv", str(csv_prefix),
        "--only-summary",
        "--exit-code-on-error", "0",
        "--stop-timeout", str(STOP_TIMEOUT_SECONDS),
        *(["--html", str(html)] if html is not None else []),
    ]  # fmt: skip
    log = csv_prefix.with_name(csv_prefix.name + ".log")
    with contextlib.ExitStack() as logs:
        if plan.processes == 1:
            main = _spawn(headless, logs.enter_context(log.open("w")))
            workers = []
        else:
            master = [
                *headless,
                "--master",
                "--master-bind-host", "127.0.0.1",
                "--master-bind-port", str(master_port),
                "--expect-workers", str(plan.processes),
                "--expect-workers-max-wait", "30",
            ]  # fmt: skip
            main = _spawn(master, logs.enter_context(log.open("w")))
            worker = [*base, "--worker", "--master-host", "127.0.0.1"]
            worker += ["--master-port", str(master_port)]
            workers = [
                _spawn(worker, logs.enter_context(_worker_log(csv_prefix, n).open("w")))
                for n in range(plan.processes)
            ]
        try:
            deadline = plan.seconds + STARTUP_GRACE_SECONDS + STOP_TIMEOUT_SECONDS
            interrupted = _wait(main, deadline, snapshot_path, on_progress)
            codes = [_stop(worker, STARTUP_GRACE_SECONDS) for worker in workers]
        finally:  # a second Ctrl-C, or an error: no Locust process outlives the harness
            for process in [main, *workers]:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    connected = max((int(n) for n in WORKERS_CONNECTED.findall(log.read_text())), default=0)
    return LocustRun(
        exit_code=main.returncode,
        log=log,
        workers_connected=connected,
        worker_exit_codes=codes,
        snapshot=read_snapshot(snapshot_path),
        interrupted=interrupted,
    )


def _worker_log(csv_prefix: Path, number: int) -> Path:
    return csv_prefix.with_name(f"{csv_prefix.name}_worker{number}.log")


def _spawn(command: list[str], log: IO[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait(
    main: subprocess.Popen[bytes],
    seconds: float,
    snapshot_path: Path,
    on_progress: Callable[[Snapshot], None] | None,
) -> bool:
    """Wait for Locust to end (killing it after `seconds`), reporting progress once a second.
    On Ctrl-C, ask Locust to stop as its own Ctrl-C would (it then writes its stats), and say so."""
    last: Snapshot | None = None
    try:
        for _ in range(int(seconds)):
            try:
                main.wait(timeout=1)
                return False
            except subprocess.TimeoutExpired:
                current = read_snapshot(snapshot_path)
                if on_progress is not None and current is not None and current != last:
                    on_progress(current)
                last = current
        _stop(main, 0)
        return False
    except KeyboardInterrupt:
        main.send_signal(signal.SIGINT)
        _stop(main, STOP_TIMEOUT_SECONDS)
        return True


def _stop(process: subprocess.Popen[bytes], grace: float) -> int:
    """Wait up to `grace` seconds for `process` to end, then kill it; its exit code."""
    try:
        return process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()
