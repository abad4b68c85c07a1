"""Locust as child processes: one headless process, or a master and P workers on loopback.

Locust runs in its own processes because gevent monkey-patches the interpreter it is imported
in; the harness's servers run in threads that must not be patched.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

LOCUSTFILE = Path(__file__).parent / "locustfile.py"
STARTUP_GRACE_SECONDS = 60
WORKERS_CONNECTED = re.compile(r"(\d+) workers? connected")
DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$")


class LoadPlanError(ValueError):
    """A run time or a process count that cannot be run."""


def seconds_of(run_time: str) -> int:
    """Locust's run-time spelling (`90`, `90s`, `2m`, `1h30m`) in seconds."""
    match = DURATION.match(run_time.strip())
    if match is None or not any(match.groups()):
        raise LoadPlanError(f"run time {run_time!r}: expected e.g. 30s, 2m or 1h30m")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


@dataclass(frozen=True)
class LoadPlan:
    host: str
    csv_prefix: Path
    users: int = 10
    spawn_rate: float = 10.0
    run_time: str = "30s"
    processes: int = 1
    html: Path | None = None
    locust_args: list[str] = field(default_factory=list)
    """The locustfile's own options (`--x402-…`), passed to every process."""

    def __post_init__(self) -> None:
        if self.processes < 1 or self.users < 1:
            raise LoadPlanError("users and processes must be at least 1")
        seconds_of(self.run_time)


@dataclass(frozen=True)
class LocustRun:
    exit_code: int
    output: str
    workers_connected: int
    worker_exit_codes: list[int]


def _base(plan: LoadPlan) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *plan.locust_args]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_locust(plan: LoadPlan) -> LocustRun:
    timeout = seconds_of(plan.run_time) + STARTUP_GRACE_SECONDS
    headless = [
        "--headless",
        "--host",
        plan.host,
        "-u",
        str(plan.users),
        "-r",
        str(plan.spawn_rate),
        "-t",
        plan.run_time,
        "--csv",
        str(plan.csv_prefix),
        "--only-summary",
        "--exit-code-on-error",
        "0",
        "--stop-timeout",
        "10",
    ]
    if plan.html is not None:
        headless += ["--html", str(plan.html)]
    if plan.processes == 1:
        return _finish(subprocess.Popen([*_base(plan), *headless], **_pipes()), [], timeout)
    port = _free_port()
    master = subprocess.Popen(
        [
            *_base(plan),
            *headless,
            "--master",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(port),
            "--expect-workers",
            str(plan.processes),
            "--expect-workers-max-wait",
            "30",
        ],
        **_pipes(),
    )
    workers = [
        subprocess.Popen(
            [*_base(plan), "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
            **_pipes(),
        )
        for _ in range(plan.processes)
    ]
    return _finish(master, workers, timeout)


def _pipes() -> dict[str, object]:
    return {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True}


def _finish(
    main: subprocess.Popen[str], workers: list[subprocess.Popen[str]], timeout: float
) -> LocustRun:
    try:
        output, _ = main.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        main.kill()
        output, _ = main.communicate()
    codes = []
    for worker in workers:
        try:
            worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.communicate()
        codes.append(worker.returncode)
    connected = max((int(n) for n in WORKERS_CONNECTED.findall(output)), default=0)
    return LocustRun(main.returncode, output, connected, codes)
