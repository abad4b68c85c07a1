"""What the benchmarks share: serving an app factory in its own uvicorn process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from x402_service.serving import free_port

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def served(factory: str, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """`bench.apps:<factory>` under uvicorn (uvloop, httptools, one worker) in its own process."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "--factory", f"bench.apps:{factory}",
        "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{factory} did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)
