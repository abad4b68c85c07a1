"""Children die with their parent: SIGKILL of `up` or of a stack in `processes` mode leaves no
Anvil, facilitator or server running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.x402_service.test_children import is_running, wait_until_gone

HARNESS = str(Path(sys.executable).with_name("x402-harness"))
PROCESSES_STACK = textwrap.dedent(
    """
    import json, time
    from x402_harness.stack import Stack, StackConfig
    stack = Stack(StackConfig(mode="processes")).start()
    print(json.dumps([p.pid for p in stack.processes.values()]), flush=True)
    time.sleep(120)
    """
)


def children_of(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of each process whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append((int(entry.name), command))
    return found


def assert_all_gone(pids: list[int]) -> None:
    lingering = [pid for pid in pids if not wait_until_gone(pid)]
    for pid in lingering:
        os.kill(pid, signal.SIGKILL)
    assert not lingering, f"still running after their parent was killed: {lingering}"


@pytest.mark.anvil
def test_anvil_dies_with_a_killed_up() -> None:
    with subprocess.Popen(
        [HARNESS, "up", "--chain", "anvil", "--json"], stdout=subprocess.PIPE, text=True
    ) as up:
        assert up.stdout is not None
        assert json.loads(up.stdout.readline())["chain"] == "evm"
        anvils = [pid for pid, command in children_of(up.pid) if "anvil" in command]
        assert len(anvils) == 1, children_of(up.pid)
        assert is_running(anvils[0])
        up.kill()
    assert_all_gone(anvils)


def test_service_processes_die_with_a_killed_stack() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", PROCESSES_STACK], stdout=subprocess.PIPE, text=True
    ) as owner:
        assert owner.stdout is not None
        services = json.loads(owner.stdout.readline())
        assert len(services) == 2
        assert all(map(is_running, services))
        owner.kill()
    assert_all_gone(services)
