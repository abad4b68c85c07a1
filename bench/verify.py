"""`/verify` over HTTP on the ledger against a bare Starlette app, raw signature recovery, and
transferWithAuthorization settlements on Anvil against plain ETH transfers sent the same way.

    .venv/bin/python bench/verify.py [--seconds 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import served
from bench.payments import TERMS, signed_authorization, verify_body
from bench.wrk import wrk_rate
from x402_core.eip3009 import recover_address, transfer_digest
from x402_core.wallets import test_wallet

JSON = {"Content-Type": "application/json"}


def recover_rates(count: int = 20_000) -> tuple[float, float]:
    """(raw coincurve recoveries/s, EIP-712 digest + recovery/s), each on distinct payments."""
    import coincurve

    wallet = test_wallet(1)
    signed = [signed_authorization(wallet) for _ in range(count)]
    raw = [(transfer_digest(TERMS.domain, a), s[:64] + bytes([s[64] - 27])) for a, s in signed]
    transfer_digest.cache_clear()
    start = time.perf_counter()
    for digest, signature in raw:
        coincurve.PublicKey.from_signature_and_message(signature, digest, hasher=None)
    raw_rate = count / (time.perf_counter() - start)
    start = time.perf_counter()
    for auth, signature in signed:
        recover_address(transfer_digest(TERMS.domain, auth), signature)
    return raw_rate, count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--payments", type=int, default=60_000, help="distinct payments to send")
    parser.add_argument("--skip-chain", action="store_true", help="leave out the Anvil figures")
    args = parser.parse_args()

    payer = test_wallet(1)
    requests = [("POST", verify_body(payer), JSON) for _ in range(args.payments)]
    with served("bare_app") as url:
        bare = wrk_rate(f"{url}/verify", requests, args.seconds, args.connections)
    with served("verify_app") as url:
        assert httpx.post(f"{url}/verify", content=requests[0][1]).json()["isValid"] is True
        verify = wrk_rate(f"{url}/verify", requests, args.seconds, args.connections)
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
