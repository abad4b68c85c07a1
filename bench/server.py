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
from contextlib import ExitStack
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


def _env(facilitator: str, store: str = "memory") -> dict[str, str]:
    return {
        "X402H_SERVER_FACILITATOR_URL": facilitator,
        "X402H_SERVER_DEFAULT_SCENARIO": "stuck",
        "X402H_SERVER_STORE": store,
    }


def paid_rates(args: argparse.Namespace) -> tuple[float, float]:
    """The best paid rate of each store over `rounds` runs taking turns, each server with a
    facilitator of its own: a slow moment of a shared machine then costs both stores alike."""
    with ExitStack() as running:
        directory = running.enter_context(tempfile.TemporaryDirectory())
        urls = []
        for store in ("memory", f"sqlite:{directory}/purchases.db"):
            facilitator = running.enter_context(served("verify_app"))
            urls.append(running.enter_context(served("mock_app", _env(facilitator, store))))
        best = [0.0, 0.0]
        for _ in range(args.rounds):
            for n, url in enumerate(urls):
                requests = paid_requests(url, args.payments)
                paid = wrk_rate(url + PATH, requests, args.seconds, args.connections)
                best[n] = max(best[n], paid)
    return best[0], best[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--payments", type=int, default=20_000, help="signed for each paid run")
    parser.add_argument("--rounds", type=int, default=3, help="paid runs of each store, in turns")
    args = parser.parse_args()
    unpaid = [("POST", BODY, JSON)]
    rate = {}
    with served("bare_402_app") as url:
        rate["bare"] = wrk_rate(url + PATH, unpaid, args.seconds, args.connections, expect="402")
    with served("verify_app") as facilitator, served("mock_app", _env(facilitator)) as url:
        rate["402"] = wrk_rate(url + PATH, unpaid, args.seconds, args.connections, expect="402")
        requests = paid_requests(url, 1)
        job = httpx.post(url + PATH, content=requests[0][1], headers=requests[0][2]).json()
        status: list[Request] = [("GET", b"", {})]
        rate["poll"] = wrk_rate(f"{url}{PATH}/{job['id']}", status, args.seconds, args.connections)
    rate["paid"], rate["paid_sqlite"] = paid_rates(args)
    print(f"bare Starlette answering the same 402    {rate['bare']:8.0f} req/s")
    print(
        f"mock server, unpaid 402                  {rate['402']:8.0f} req/s  "
        f"({rate['402'] / rate['bare']:.2f} x bare)"
    )
    print(f"mock server, paid (verify+settle, ledger) {rate['paid']:7.0f} req/s  (memory store)")
    print(
        f"mock server, paid, SQLite store          {rate['paid_sqlite']:8.0f} req/s  "
        f"({rate['paid_sqlite'] / rate['paid']:.2f} x memory; best of {args.rounds} runs each)"
    )
    print(f"mock server, status polls                {rate['poll']:8.0f} req/s")
    print(f"stack start-up, ledger (threads)         {startup_seconds('ledger'):8.2f} s")
    print(f"stack start-up, anvil (threads)          {startup_seconds('anvil'):8.2f} s")


if __name__ == "__main__":
    main()
