"""What the benchmarks share: serving an app factory in its own uvicorn process, and wrk."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
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


def wrk_rate(
    url: str,
    requests: list[tuple[str, bytes, dict[str, str]]],
    seconds: int,
    connections: int,
    expect: str = "2xx",
) -> float:
    """Requests per second that wrk (one thread) gets sending `requests` (method, body, headers)
    in turn. Distinct requests where it matters: the facilitator caches signature recovery, so
    one repeated payment would measure the cache."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("requests = {\n")
        for method, body, headers in requests:
            lua_headers = ", ".join(
                f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()
            )
            script.write(
                f"  {{{json.dumps(method)}, {json.dumps(body.decode())}, {{{lua_headers}}}}},\n"
            )
        script.write(
            "}\n"
            "i = 0\n"
            "request = function()\n"
            "  i = i % #requests + 1\n"
            "  local r = requests[i]\n"
            "  return wrk.format(r[1], nil, r[3], r[2])\n"
            "end\n"
        )
        if expect != "2xx":
            script.write(
                "bad = 0\n"
                f"response = function(status) if status ~= {expect} then bad = bad + 1 end end\n"
                'done = function() if bad > 0 then print("UNEXPECTED " .. bad) end end\n'
            )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script.name, url],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout  # fmt: skip
    os.unlink(script.name)
    if ("Non-2xx" in out and expect == "2xx") or "UNEXPECTED" in out:
        raise RuntimeError(f"unexpected answers during the run:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match is not None, out
    return float(match.group(1))
