"""`x402-harness server`: it needs a facilitator, and notices at start-up when none answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from x402_harness.cli import main
from x402_harness.stack import Stack
from x402_service.serving import free_port

HARNESS = str(Path(sys.executable).with_name("x402-harness"))


def test_a_url_that_is_no_facilitator_is_refused_at_start(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with Stack() as stack:  # the mock has no /supported
        code = main(["server", "--facilitator-url", stack.server_url])
    out = capsys.readouterr().out
    assert code == 2
    assert out.count("\n") == 1
    assert f"no facilitator answers GET {stack.server_url}/supported (it answered 404" in out


def test_the_facilitator_may_come_from_the_environment() -> None:
    port = free_port()
    with Stack() as stack:
        server = subprocess.Popen(
            [HARNESS, "server", "--port", str(port)],
            env={**os.environ, "X402H_SERVER_FACILITATOR_URL": stack.facilitator_url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            shown = [server.stdout.readline() for _ in range(3)]
            assert shown[2] == f"facilitator  {stack.facilitator_url}\n", shown
            answer = httpx.post(
                f"http://127.0.0.1:{port}/v1/images/generate",
                json={"model": "nano-banana-2", "prompt": "a fox"},
            )
            assert answer.status_code == 402
        finally:
            server.send_signal(signal.SIGTERM)
            server.communicate(timeout=30)
    assert server.returncode == 0
