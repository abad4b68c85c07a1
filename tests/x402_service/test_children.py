"""A child started with `die_with_parent` is gone when its parent is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from x402_service.children import die_with_parent

PARENT = textwrap.dedent(
    """
    import subprocess, sys, time
    from x402_service.children import die_with_parent
    guard = die_with_parent() if sys.argv[1] == "guarded" else None
    child = subprocess.Popen(["sleep", "60"], preexec_fn=guard)
    print(child.pid, flush=True)
    time.sleep(60)
    """
)


def is_running(pid: int) -> bool:
    """Alive and not a zombie (an orphan may wait a while to be reaped)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] not in ("Z", "X")


def wait_until_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while is_running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _orphan_after_sigkill(mode: str) -> int:
    """Start a parent that starts `sleep`, SIGKILL the parent; the sleep's pid."""
    with subprocess.Popen(
        [sys.executable, "-c", PARENT, mode], stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert is_running(child)
        parent.kill()
    return child


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_guarded_child_dies_with_its_parent() -> None:
    assert wait_until_gone(_orphan_after_sigkill("guarded"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_without_the_guard_the_child_outlives_its_parent() -> None:
    """The fault the guard is for: without it the orphan keeps running."""
    child = _orphan_after_sigkill("unguarded")
    try:
        assert not wait_until_gone(child, seconds=0.5)
    finally:
        os.kill(child, signal.SIGKILL)


def test_no_guard_is_offered_off_the_main_thread() -> None:
    """The kernel would signal the child when the starting thread ends, not the process."""
    found: list[object] = []
    worker = threading.Thread(target=lambda: found.append(die_with_parent()))
    worker.start()
    worker.join()
    assert found == [None]
