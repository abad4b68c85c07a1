"""`/verify` over HTTP on the ledger against a bare Starlette app, raw signature recovery, and
transferWithAuthorization settlements on Anvil against plain ETH transfers sent the same way.

    .venv/bin/python bench/verify.py [--seconds 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.factories import TOKEN_DOMAIN, authorization, verify_body  # noqa: E402
from x402_core.eip3009 import recover_address, sign_authorization, transfer_digest  # noqa: E402
from x402_core.wallets import test_wallet  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(factory: str) -> Iterator[str]:
    """`bench.apps:<factory>` under uvicorn (uvloop, httptools, one worker) in its own process."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        f"bench.apps:{factory}",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.post(f"{url}/verify", content=b"{}", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{factory} did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def wrk_rate(url: str, bodies: list[bytes], seconds: int, connections: int) -> float:
    """Requests per second that wrk (one thread) gets POSTing `bodies` in turn to `url`.

    Distinct payments each time: the facilitator caches recoveries, so one repeated body would
    measure the cache, not verification.
    """
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("bodies = {\n")
        for body in bodies:
            script.write(f"  {json.dumps(body.decode())},\n")
        script.write(
            "}\n"
            "i = 0\n"
            "request = function()\n"
            "  i = i % #bodies + 1\n"
            '  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[i])\n'
            "end\n"
        )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script.name, url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    os.unlink(script.name)
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers during the run:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def recover_rates(count: int = 20_000) -> tuple[float, float]:
    """(raw coincurve recoveries/s, EIP-712 digest + recovery/s), each on distinct payments."""
    import coincurve

    wallet = test_wallet(1)
    signed = []
    for _ in range(count):
        auth = authorization(wallet)
        signed.append((auth, sign_authorization(wallet.private_key, TOKEN_DOMAIN, auth)))
    raw = [(transfer_digest(TOKEN_DOMAIN, a), s[:64] + bytes([s[64] - 27])) for a, s in signed]
    transfer_digest.cache_clear()
    start = time.perf_counter()
    for digest, signature in raw:
        coincurve.PublicKey.from_signature_and_message(signature, digest, hasher=None)
    raw_rate = count / (time.perf_counter() - start)
    start = time.perf_counter()
    for auth, signature in signed:
        recover_address(transfer_digest(TOKEN_DOMAIN, auth), signature)
    return raw_rate, count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--payments", type=int, default=60_000, help="distinct payments to send")
    parser.add_argument("--skip-chain", action="store_true", help="leave out the Anvil figures")
    args = parser.parse_args()

    bodies = [json.dumps(verify_body(2)).encode() for _ in range(args.payments)]
    with served("bare_app") as url:
        bare = wrk_rate(f"{url}/verify", bodies, args.seconds, args.connections)
    with served("verify_app") as url:
        assert httpx.post(f"{url}/verify", content=bodies[0]).json()["isValid"] is True
        verify = wrk_rate(f"{url}/verify", bodies, args.seconds, args.connections)
    raw, full = recover_rates()
    print(f"bare Starlette POST (HTTP ceiling)      {bare:9.0f} req/s")
    print(
        f"/verify on the ledger                   {verify:9.0f} req/s  ({verify / bare:.2f} x bare)"
    )
    print(f"raw secp256k1 recovery (crypto ceiling) {raw:9.0f} /s")
    print(f"EIP-712 digest + recovery               {full:9.0f} /s")
    if not args.skip_chain:
        from bench.chain import settlement_rates

        plain, settle, threads = settlement_rates()
        print(f"plain ETH transfers on Anvil ({threads} thr)  {plain:9.0f} tx/s")
        print(
            f"transferWithAuthorization on Anvil      {settle:9.0f} tx/s"
            f"  ({settle / plain:.2f} x plain)"
        )


if __name__ == "__main__":
    main()
