"""The mock server: unpaid 402s against a bare app answering the same bytes, paid requests end
to end on the ledger with the memory store and with SQLite (the durable purchase record costs a
store write per purchase), status polls, and the stack's start-up time on the ledger and Anvil.

    .venv/bin/python bench/server.py [--seconds 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import served
from bench.wrk import Request, wrk_rate
from x402_core.headers import PAYMENT_REQUIRED, PAYMENT_SIGNATURE, decode_header, encode_header
from x402_core.models import PaymentRequiredV2
from x402_core.payments import pay_v2
from x402_core.wallets import payer_wallets
from x402_harness.stack import Stack, StackConfig

BODY = json.dumps({"model": "nano-banana-2", "prompt": "benchmark"}).encode()
JSON = {"Content-Type": "application/json"}
PATH = "/v1/images/generate"


def paid_requests(url: str, count: int) -> list[tuple[str, bytes, dict[str, str]]]:
    """`count` distinct signed payments for the mock's current offer, spread over the payers."""
    offer = decode_header(
        httpx.post(url + PATH, content=BODY, headers=JSON).headers[PAYMENT_REQUIRED],
        PaymentRequiredV2,
    ).accepts[0]
    wallets = payer_wallets()
    requests = []
    for n in range(count):
        wallet = wallets[n % len(wallets)]
        payment = pay_v2(offer, wallet.private_key, wallet.address)
        requests.append(("POST", BODY, {**JSON, PAYMENT_SIGNATURE: encode_header(payment)}))
    return requests


def startup_seconds(chain: str, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        with Stack(StackConfig(chain=chain)):
            best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--payments", type=int, default=20_000)
    args = parser.parse_args()
    unpaid = [("POST", BODY, JSON)]
    rate = {}
    with served("bare_402_app") as url:
        rate["bare"] = wrk_rate(url + PATH, unpaid, args.seconds, args.connections, expect="402")
    with served("verify_app") as facilitator:
        env = {
            "X402H_SERVER_FACILITATOR_URL": facilitator,
            "X402H_SERVER_DEFAULT_SCENARIO": "stuck",
        }
        with served("mock_app", env) as url:
            rate["402"] = wrk_rate(url + PATH, unpaid, args.seconds, args.connections, expect="402")
            requests = paid_requests(url, args.payments)
            job = httpx.post(url + PATH, content=requests[0][1], headers=requests[0][2]).json()
            rate["paid"] = wrk_rate(url + PATH, requests[1:], args.seconds, args.connections)
            status: list[Request] = [("GET", b"", {})]
            rate["poll"] = wrk_rate(
                f"{url}{PATH}/{job['id']}", status, args.seconds, args.connections
            )
        with (
            tempfile.TemporaryDirectory() as directory,
            served("mock_app", env | {"X402H_SERVER_STORE": f"sqlite:{directory}/s.db"}) as url,
        ):
            requests = paid_requests(url, args.payments)
            rate["paid_sqlite"] = wrk_rate(url + PATH, requests, args.seconds, args.connections)
    print(f"bare Starlette answering the same 402    {rate['bare']:8.0f} req/s")
    print(
        f"mock server, unpaid 402                  {rate['402']:8.0f} req/s  "
        f"({rate['402'] / rate['bare']:.2f} x bare)"
    )
    print(f"mock server, paid (verify+settle, ledger) {rate['paid']:7.0f} req/s  (memory store)")
    print(
        f"mock server, paid, SQLite store          {rate['paid_sqlite']:8.0f} req/s  "
        f"({rate['paid_sqlite'] / rate['paid']:.2f} x memory)"
    )
    print(f"mock server, status polls                {rate['poll']:8.0f} req/s")
    print(f"stack start-up, ledger (threads)         {startup_seconds('ledger'):8.2f} s")
    print(f"stack start-up, anvil (threads)          {startup_seconds('anvil'):8.2f} s")


if __name__ == "__main__":
    main()
