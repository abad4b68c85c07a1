"""The respx router answers like the mock: the reference payer and the SDK pay it, no server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from x402 import x402Client
from x402.http.clients.httpx import x402HttpxClient
from x402.mechanisms.evm.exact.register import register_exact_evm_client
from x402.mechanisms.evm.signers import EthAccountSigner

from conformance.respx_router import DEFAULT_BASE_URL, xgen_router
from x402_core.headers import PAYMENT_SIGNATURE
from x402_core.wallets import test_wallet
from x402_core.xgen import xgen_listing
from x402_payer import JobFailedError, Payer

LISTING = xgen_listing()
URL = DEFAULT_BASE_URL + LISTING.path
BODY = {"model": "seedream-4.6", "prompt": "a paper boat"}
PAYER = test_wallet(4)


def test_the_reference_payer_buys_and_downloads_an_image(tmp_path: Path) -> None:
    with xgen_router(LISTING) as router, Payer(PAYER.private_key) as payer:
        result = payer.generate_image(DEFAULT_BASE_URL, BODY, tmp_path)
    assert result.job["status"] == "completed"
    assert result.files[0].read_bytes().startswith(b"\x89PNG")
    assert len(router.fake.used_nonces) == 1


def test_the_official_sdk_client_pays_it() -> None:
    client = x402Client()
    register_exact_evm_client(client, EthAccountSigner(Account.from_key(PAYER.private_key)))

    async def pay() -> httpx.Response:
        async with x402HttpxClient(client) as http:
            return await http.post(URL, json=BODY)

    with xgen_router(LISTING):
        answer = asyncio.run(pay())
    assert answer.status_code == 200
    assert answer.json()["status"] == "pending"


def test_invalid_bodies_get_400_before_any_offer() -> None:
    with xgen_router(LISTING):
        assert httpx.post(URL, json={"model": "nope", "prompt": "x"}).status_code == 400
        assert httpx.post(URL, json={"model": "seedream-4.6"}).status_code == 400
        assert httpx.post(URL, json=BODY).status_code == 402


def test_replayed_and_tampered_payments_are_refused(tmp_path: Path) -> None:
    with xgen_router(LISTING, statuses=("pending", "failed")) as router:
        with Payer(PAYER.private_key) as payer:
            paid = payer.request_paid("POST", URL, json=BODY)
        header = paid.response.request.headers[PAYMENT_SIGNATURE]
        replay = httpx.post(URL, json=BODY, headers={PAYMENT_SIGNATURE: header})
        assert replay.status_code == 402
        assert replay.json()["error"] == "invalid_exact_evm_nonce_already_used"
        bad = httpx.post(URL, json=BODY, headers={PAYMENT_SIGNATURE: "not base64!"})
        assert bad.status_code == 400
        job_id = paid.response.json()["id"]
        assert httpx.get(f"{URL}/{job_id}").json()["status"] == "failed"
        assert httpx.get(f"{URL}/job_unknown").status_code == 404
    assert len(router.fake.jobs) == 1


def test_a_failed_scripted_job_is_a_failure_for_the_payer(tmp_path: Path) -> None:
    with (
        xgen_router(LISTING, statuses=("pending", "failed")),
        Payer(PAYER.private_key) as payer,
        pytest.raises(JobFailedError, match="generation_failed"),
    ):
        payer.generate_image(DEFAULT_BASE_URL, BODY, tmp_path)
