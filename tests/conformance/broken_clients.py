"""Deliberately broken x402 clients: one small client, with one flaw switched on at a time."""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.client import CallableClient, ClientEnv
from conformance.facilitator.payloads import requirements_v2
from x402_core.eip3009 import Authorization, Domain, random_nonce, sign_authorization
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
from x402_core.models import ExactEvmPayload, PaymentPayloadV2, PaymentRequiredV2
from x402_core.payments import terms_of
from x402_core.wallets import test_wallet


@dataclass
class Signer:
    """What one broken client keeps between scenarios: its one nonce (for the fixed-nonce flaw)
    and how many payments it signed, so that no two are alike however fast they come."""

    nonce: bytes = field(default_factory=random_nonce)
    signed: itertools.count[int] = field(default_factory=itertools.count)


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
    resends_payment: bool = False
    not_yet_valid: bool = False
    pays_unreadable_offer: bool = False
    both_headers: bool = False
    polls_other_job: bool = False
    signs_anew_on_pending: bool = False
    gives_up_on_pending: bool = False


def flawed(**flaws: bool) -> CallableClient:
    signer = Signer()
    return CallableClient(lambda env: _pay(env, Flaws(**flaws), signer))


def _pay(env: ClientEnv, flaws: Flaws, signer: Signer) -> dict[str, Any]:
    wallet_key = bytes.fromhex(env.private_key[2:])
    payer = next(w for w in (test_wallet(i) for i in range(20)) if w.private_key == wallet_key)
    url = env.server_url + env.endpoint_path
    with httpx.Client(timeout=10) as http:
        offer = _offer(http.post(url, json=env.body), flaws)
        body = {**env.body, "prompt": "another prompt"} if flaws.changes_body else env.body
        attempts = 5 if flaws.retries_failed_settlement else 1
        for _ in range(attempts):
            headers = {PAYMENT_SIGNATURE: _header(offer, payer, flaws, signer)}
            if flaws.both_headers:
                headers[X_PAYMENT] = headers[PAYMENT_SIGNATURE]
            answer = http.post(url, json=body, headers=headers)
            if flaws.resends_payment:  # the same payment again, byte for byte
                answer = http.post(url, json=body, headers=headers)
            resign = functools.partial(_header, offer, payer, flaws, signer)
            answer = _while_pending(http, answer, env, flaws, resign)
            if answer.status_code == 200:
                break
        if answer.status_code != 200:
            return {"success": False, "error": f"payment refused: {answer.text[:200]}"}
        if flaws.pays_twice:
            http.post(
                url, json=body, headers={PAYMENT_SIGNATURE: _header(offer, payer, flaws, signer)}
            )
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


def _while_pending(
    http: httpx.Client,
    answer: httpx.Response,
    env: ClientEnv,
    flaws: Flaws,
    sign: Callable[[], str],
) -> httpx.Response:
    """While the settlement is pending, wait Retry-After and send the same payment again (the
    flaws: give up at once, or sign a new payment once)."""
    request = answer.request
    deadline = time.monotonic() + env.timeout_seconds
    resigned = False
    while _pending(answer) and not flaws.gives_up_on_pending and time.monotonic() < deadline:
        time.sleep(min(float(answer.headers.get("retry-after", "1")), 2.0))
        if flaws.signs_anew_on_pending and not resigned:
            request.headers[PAYMENT_SIGNATURE], resigned = sign(), True
        answer = http.send(request)
    return answer


def _pending(answer: httpx.Response) -> bool:
    return answer.status_code == 503 and "settlement_pending" in answer.text


def _offer(answer: httpx.Response, flaws: Flaws) -> Any:
    try:
        offer = decode_header(answer.headers[PAYMENT_REQUIRED], PaymentRequiredV2).accepts[0]
    except HeaderError:
        if not flaws.pays_unreadable_offer:
            raise
        return requirements_v2()  # what xGen usually asks, assumed
    return offer


def _header(offer: Any, payer: Any, flaws: Flaws, signer: Signer) -> str:
    """Pays the offer as given (whatever its network and asset), unless a flaw says otherwise."""
    if flaws.garbage_header:
        return "bm90IGEgcGF5bWVudA=="
    if not flaws.pays_unknown_offers:
        terms_of(offer)  # refuses what it does not know, as a careful client does
    now = int(time.time())
    valid_before = now + (3600 if flaws.long_window else offer.max_timeout_seconds)
    auth = Authorization(
        from_address=payer.address,
        to=offer.pay_to,
        value=int(offer.amount) + (1 if flaws.pays_more else 0),
        valid_after=now + (30 if flaws.not_yet_valid else -60) - next(signer.signed),
        valid_before=valid_before,
        nonce=signer.nonce if flaws.fixed_nonce else random_nonce(),
    )
    chain_id = int(offer.network.split(":")[1])
    name = "USDC" if flaws.wrong_domain else offer.extra["name"]
    domain = Domain(name, offer.extra["version"], chain_id, offer.asset)
    signature = sign_authorization(payer.private_key, domain, auth)
    accepted = (
        offer.model_copy(update={"max_timeout_seconds": 60}) if flaws.alters_accepted else offer
    )
    payment = PaymentPayloadV2(
        x402_version=2,
        accepted=accepted,
        payload=ExactEvmPayload(signature="0x" + signature.hex(), authorization=auth.to_wire()),
    )
    return encode_header(payment)


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
