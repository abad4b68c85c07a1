"""Deliberately broken x402 clients: one small client, with one flaw switched on at a time."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.client import CallableClient, ClientEnv
from conformance.facilitator.payloads import requirements_v2
from x402_core.eip3009 import Authorization, Domain, sign_authorization
from x402_core.headers import (
    PAYMENT_REQUIRED,
    PAYMENT_RESPONSE,
    PAYMENT_SIGNATURE,
    X_PAYMENT,
    HeaderError,
    decode_header,
    decode_json_header,
    encode_header,
)
from x402_core.models import ExactEvmPayload, PaymentRequiredV2
from x402_core.networks import BASE
from x402_core.payments import pay_v2
from x402_core.wallets import test_wallet

FIXED_NONCE = b"\x42" * 32


@dataclass(frozen=True)
class Flaws:
    wrong_domain: bool = False
    fixed_nonce: bool = False
    long_window: bool = False
    pays_twice: bool = False
    ignores_retry_after: bool = False
    polls_after_terminal: bool = False
    changes_body: bool = False
    success_on_failed_job: bool = False
    ignores_timeout: bool = False
    retries_failed_settlement: bool = False
    gives_up_on_503: bool = False
    alters_accepted: bool = False
    pays_more: bool = False
    garbage_header: bool = False
    hides_transaction: bool = False
    skips_download: bool = False
    pays_unknown_offers: bool = False
    pays_unreadable_offer: bool = False
    both_headers: bool = False
    polls_other_job: bool = False


def flawed(**flaws: bool) -> CallableClient:
    return CallableClient(lambda env: _pay(env, Flaws(**flaws)))


def _pay(env: ClientEnv, flaws: Flaws) -> dict[str, Any]:
    wallet_key = bytes.fromhex(env.private_key[2:])
    payer = next(w for w in (test_wallet(i) for i in range(20)) if w.private_key == wallet_key)
    url = env.server_url + env.endpoint_path
    with httpx.Client(timeout=10) as http:
        offer = _offer(http.post(url, json=env.body), flaws)
        body = {**env.body, "prompt": "another prompt"} if flaws.changes_body else env.body
        attempts = 5 if flaws.retries_failed_settlement else 1
        for _ in range(attempts):
            headers = {PAYMENT_SIGNATURE: _header(offer, payer, flaws)}
            if flaws.both_headers:
                headers[X_PAYMENT] = headers[PAYMENT_SIGNATURE]
            answer = http.post(url, json=body, headers=headers)
            if answer.status_code == 200:
                break
        if answer.status_code != 200:
            return {"success": False, "error": f"payment refused: {answer.text[:200]}"}
        if flaws.pays_twice:
            http.post(url, json=body, headers={PAYMENT_SIGNATURE: _header(offer, payer, flaws)})
        settlement: Any = decode_json_header(answer.headers[PAYMENT_RESPONSE])
        status_url = f"{url}/{answer.json()['id']}"
        job = _poll(http, status_url, env, flaws)
        if job is None:
            return {"success": False, "error": "timed out"}
        if job["status"] != "completed" and not flaws.success_on_failed_job:
            return {"success": False, "error": f"job {job['status']}"}
        if job["status"] == "completed" and not flaws.skips_download:
            for image in job["images"]:
                http.get(image["url"])
        result = {"success": True, "job": job["id"]}
        if not flaws.hides_transaction:
            result["transaction"] = settlement["transaction"]
        return result


def _offer(answer: httpx.Response, flaws: Flaws) -> Any:
    try:
        offer = decode_header(answer.headers[PAYMENT_REQUIRED], PaymentRequiredV2).accepts[0]
    except HeaderError:
        if not flaws.pays_unreadable_offer:
            raise
        return requirements_v2()  # what xGen usually asks, assumed
    if flaws.pays_unknown_offers:
        offer = offer.model_copy(update={"network": BASE.caip2, "asset": BASE.usdc.address})
    return offer


def _header(offer: Any, payer: Any, flaws: Flaws) -> str:
    if flaws.garbage_header:
        return "bm90IGEgcGF5bWVudA=="
    terms = (
        offer.model_copy(update={"amount": str(int(offer.amount) + 1)})
        if flaws.pays_more
        else offer
    )
    now = int(time.time()) + (3000 if flaws.long_window else 0)
    nonce = FIXED_NONCE if flaws.fixed_nonce else None
    payment = pay_v2(terms, payer.private_key, payer.address, nonce=nonce)
    if flaws.long_window:
        auth = payment.payload.authorization.model_copy(update={"valid_before": str(now + 600)})
        payment = _resigned(payment, auth, offer, payer)
    if flaws.wrong_domain:
        payment = _resigned(payment, payment.payload.authorization, offer, payer, name="USDC")
    update: dict[str, Any] = {"accepted": offer}
    if flaws.alters_accepted:
        update["accepted"] = offer.model_copy(update={"max_timeout_seconds": 60})
    return encode_header(payment.model_copy(update=update))


def _resigned(payment: Any, auth: Any, offer: Any, payer: Any, name: str | None = None) -> Any:
    domain = Domain(name or offer.extra["name"], offer.extra["version"], 8453, offer.asset)
    signature = sign_authorization(payer.private_key, domain, Authorization.from_wire(auth))
    exact = ExactEvmPayload(signature="0x" + signature.hex(), authorization=auth)
    return payment.model_copy(update={"payload": exact})


def _poll(
    http: httpx.Client, status_url: str, env: ClientEnv, flaws: Flaws
) -> dict[str, Any] | None:
    limit = env.timeout_seconds * (3 if flaws.ignores_timeout else 1)
    deadline = time.monotonic() + limit
    if flaws.polls_other_job:
        http.get(status_url.rsplit("/", 1)[0] + "/job_somebody_else")
    while time.monotonic() < deadline:
        answer = http.get(status_url)
        if answer.status_code == 503 and flaws.gives_up_on_503:
            return None
        if answer.status_code == 200 and answer.json()["status"] in ("completed", "failed"):
            if flaws.polls_after_terminal:
                http.get(status_url)
            return answer.json()
        wait = float(answer.headers.get("retry-after", "0.2"))
        time.sleep(0.05 if flaws.ignores_retry_after else min(wait, 2.0))
    return None
