"""A harness service run as a child process (`x402-harness facilitator|server`), ready when its
health URL answers, stopped with SIGTERM (which the CLI turns into a clean shutdown)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from x402_service.children import die_with_parent


class ServiceError(RuntimeError):
    """A service process that did not come up, with the end of its log."""


class ServiceProcess:
    def __init__(self, name: str, cli_args: Sequence[str], env: Mapping[str, str]) -> None:
        self.name = name
        self.argv = [sys.executable, "-m", "x402_harness.cli", *cli_args]
        self.env = {**os.environ, **env}
        self._log = Path(tempfile.mkstemp(prefix=f"x402h-{name}-", suffix=".log")[1])
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, health_url: str, timeout: float = 30.0) -> ServiceProcess:
        with self._log.open("ab") as log:  # a restarted service keeps its earlier log
            self._process = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent(),  # gone with this process, even after a SIGKILL
            )
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise ServiceError(
                    f"{self.name} exited with {self._process.returncode}:\n{self.log_tail()}"
                )
            try:
                if httpx.get(health_url, timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise ServiceError(f"{self.name} not healthy after {timeout}s:\n{self.log_tail()}")
            time.sleep(0.1)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def stop(self, timeout: float = 10.0) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL: the process dies at once, with no clean-up (a crash, for fault tests)."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(10)

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])
