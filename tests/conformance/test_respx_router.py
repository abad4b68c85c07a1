"""The respx router answers like the mock: the reference payer and the SDK pay it, no server, and
it plays every scenario the mock has, as the mock plays it."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from x402 import x402Client
from x402.http.clients.httpx import x402HttpxClient
from x402.mechanisms.evm.exact.register import register_exact_evm_client
from x402.mechanisms.evm.signers import EthAccountSigner

from conformance.respx_router import DEFAULT_BASE_URL, XgenRouter, xgen_router
from conformance.respx_scenarios import (
    ROUTER_SCENARIOS,
    SCENARIO_HEADER,
    UnknownScenarioError,
)
from mock_server.config import VERSIONS, ServerSettings
from mock_server.extensions import offer_extensions
from mock_server.jobs import status_at
from mock_server.paywall import offer
from mock_server.scenarios import SCENARIOS, OfferFlaw
from x402_core.headers import (
    PAYMENT_REQUIRED,
    PAYMENT_RESPONSE,
    PAYMENT_SIGNATURE,
    decode_header,
    encode_header,
)
from x402_core.models import PaymentRequiredV2
from x402_core.payment_identifier import echoed, is_required
from x402_core.payments import pay_v2
from x402_core.wallets import test_wallet
from x402_core.xgen import xgen_listing
from x402_payer import JobFailedError, Payer, PriceTooHighError

LISTING = xgen_listing()
URL = DEFAULT_BASE_URL + LISTING.path
BODY = {"model": "seedream-4.6", "prompt": "a paper boat"}
PAYER = test_wallet(4)
EXTENSIONS = offer_extensions(LISTING, ServerSettings(), required=False)
"""What the mock declares in its 402 by default: bazaar and an optional payment-identifier."""


def payment_header() -> str:
    payload = pay_v2(LISTING.requirements_v2(), PAYER.private_key, PAYER.address)
    return encode_header(payload)


def buy(header: str, scenario: str | None = None, body: dict | None = None) -> httpx.Response:
    headers = {PAYMENT_SIGNATURE: header} | ({SCENARIO_HEADER: scenario} if scenario else {})
    return httpx.post(URL, json=body or BODY, headers=headers)


def settlement(answer: httpx.Response) -> dict:
    return json.loads(base64.b64decode(answer.headers[PAYMENT_RESPONSE]))


def poll(job_id: str) -> httpx.Response:
    return httpx.get(f"{URL}/{job_id}")


# ------------------------------------------------------------------ the mock's scenarios, as its


def test_the_router_knows_every_scenario_the_mock_has() -> None:
    assert list(ROUTER_SCENARIOS) == list(SCENARIOS)


def _collapsed(statuses: list[str]) -> list[str]:
    return [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_job_walks_the_statuses_of_the_mocks_plan(name: str) -> None:
    plan = SCENARIOS[name].plan
    over_time = [status_at(plan, tenth / 10).value for tenth in range(0, 600)]
    played = ROUTER_SCENARIOS[name]
    assert _collapsed(list(played.walk)) == _collapsed(over_time)
    if plan.error_code:
        assert played.error is not None
        assert (played.error.code, played.error.message) == (plan.error_code, plan.error_message)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_fault_and_offer_is_the_mocks(name: str) -> None:
    mock, played = SCENARIOS[name], ROUTER_SCENARIOS[name]
    assert {f.value for f in mock.faults} == {
        f.value for f in (played.purchase, played.poll) if f is not None
    }
    assert mock.offer.value == (played.offer.value if played.offer else "")


@pytest.mark.parametrize("flaw", [f for f in OfferFlaw if f])
def test_an_unpayable_offer_is_the_one_the_mock_makes(flaw: OfferFlaw) -> None:
    headers, body = offer(LISTING, URL, VERSIONS, "payment_required", flaw, EXTENSIONS)
    with xgen_router(LISTING):
        answer = httpx.post(URL, json=BODY, headers={SCENARIO_HEADER: f"offer_{flaw.value}"})
    assert answer.status_code == 402
    assert answer.headers[PAYMENT_REQUIRED] == headers[PAYMENT_REQUIRED]
    assert answer.json() == body


def test_the_normal_offer_is_the_one_the_mock_makes() -> None:
    headers, body = offer(LISTING, URL, VERSIONS, "payment_required", extensions=EXTENSIONS)
    with xgen_router(LISTING):
        answer = httpx.post(URL, json=BODY)
    assert (answer.headers[PAYMENT_REQUIRED], answer.json()) == (headers[PAYMENT_REQUIRED], body)


def test_payment_identifiers_are_honoured_as_at_the_mock() -> None:
    """identifier_required: no id is a 400, as at the mock; an id used for another payment 409;
    the reference payer, which sends one, buys."""
    required = {SCENARIO_HEADER: "identifier_required"}
    with xgen_router(LISTING):
        offered = decode_header(
            httpx.post(URL, json=BODY, headers=required).headers[PAYMENT_REQUIRED],
            PaymentRequiredV2,
        )
        assert is_required(offered.extensions)
        wallet = test_wallet(1)
        plain = pay_v2(offered.accepts[0], wallet.private_key, wallet.address)
        no_id = httpx.post(
            URL, json=BODY, headers={**required, PAYMENT_SIGNATURE: encode_header(plain)}
        )
        assert no_id.status_code == 400
        ids = [
            pay_v2(offered.accepts[0], wallet.private_key, wallet.address).model_copy(
                update={"extensions": echoed(offered.extensions, "pay_router_0123456789")}
            )
            for _ in range(2)
        ]
        first, other = (
            httpx.post(URL, json=BODY, headers={PAYMENT_SIGNATURE: encode_header(p)}) for p in ids
        )
        assert (first.status_code, other.status_code) == (200, 409)
        with Payer(PAYER.private_key) as payer:
            paid = payer.request_paid("POST", URL, json=BODY, headers=required)
        assert paid.response.status_code == 200


# ---------------------------------------------------------------------------- paying the router


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


def test_a_payment_sent_again_gets_its_job_and_pays_for_nothing_else() -> None:
    with xgen_router(LISTING) as router:
        header = payment_header()
        first, again = buy(header), buy(header)
        other = buy(header, body={**BODY, "prompt": "another boat"})
        assert buy("not base64!").status_code == 400
        assert poll("job_unknown").status_code == 404
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["id"] == first.json()["id"]
    assert settlement(again) == settlement(first)
    assert other.status_code == 402
    assert other.json()["error"] == "invalid_exact_evm_nonce_already_used"
    assert len(router.fake.jobs) == 1


# ----------------------------------------------------------------------- choosing the scenario


def test_the_header_picks_the_scenario_of_one_request() -> None:
    with xgen_router(LISTING) as router:
        router.queue("instant")
        failing = buy(payment_header(), "fail").json()["id"]
        statuses = [poll(failing).json() for _ in range(3)]
        queued = buy(payment_header())
    assert [s["status"] for s in statuses] == ["processing", "failed", "failed"]
    assert statuses[-1]["error"] == {
        "code": "generation_failed",
        "message": "the model could not render this",
    }
    assert queued.json()["status"] == "completed", "the header took nothing off the queue"


def test_a_failed_job_is_a_failure_for_the_payer(tmp_path: Path) -> None:
    with (
        xgen_router(LISTING, scenario="fail"),
        Payer(PAYER.private_key) as payer,
        pytest.raises(JobFailedError, match="generation_failed"),
    ):
        payer.generate_image(DEFAULT_BASE_URL, BODY, tmp_path)


def test_queued_scenarios_go_to_the_next_paid_jobs_in_order() -> None:
    with xgen_router(LISTING, scenario="quick") as router:
        assert router.queue("content_policy", "instant") is router
        refused = buy(payment_header())
        instant = buy(payment_header())
        usual = buy(payment_header())
        assert poll(refused.json()["id"]).json()["error"]["code"] == "content_policy_violation"
    assert [a.json()["status"] for a in (refused, instant, usual)] == [
        "pending",
        "completed",
        "pending",
    ]


def test_an_unknown_scenario_is_refused_naming_the_known_ones() -> None:
    with xgen_router(LISTING) as router:
        answer = httpx.post(URL, json=BODY, headers={SCENARIO_HEADER: "nope"})
        with pytest.raises(UnknownScenarioError, match="known: happy, instant"):
            router.queue("quick", "nope")
        with pytest.raises(UnknownScenarioError):
            router.set_scenario("nope")
    assert (answer.status_code, answer.json()["error"]) == (400, "unknown_scenario")
    assert "known: happy" in answer.json()["message"]
    assert not router.fake.queued, "all or none"


def test_the_default_scenario_can_be_set() -> None:
    with xgen_router(LISTING) as router:
        router.set_scenario("stuck")
        job = buy(payment_header()).json()["id"]
        statuses = [poll(job).json()["status"] for _ in range(5)]
    assert statuses == ["processing"] * 5


# ------------------------------------------------------------------------------ polling faults


def test_rate_limited_polls_closer_than_a_second_get_429() -> None:
    now = [100.0]
    with xgen_router(LISTING, scenario="rate_limited", clock=lambda: now[0]):
        job = buy(payment_header()).json()["id"]
        first = poll(job)
        hurried = poll(job)
        now[0] += 1.0
        patient = poll(job)
    assert (first.status_code, first.headers["Retry-After"]) == (200, "1")
    assert (hurried.status_code, hurried.headers["Retry-After"]) == (429, "1")
    assert hurried.json()["error"] == "rate_limited"
    assert (patient.status_code, patient.json()["status"]) == (200, "completed")


def test_status_errors_answer_every_second_poll_with_503() -> None:
    with xgen_router(LISTING, scenario="status_errors"):
        job = buy(payment_header()).json()["id"]
        answers = [poll(job) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 503, 200, 503]
    assert answers[1].headers["Retry-After"] == "1"
    assert [answers[0].json()["status"], answers[2].json()["status"]] == ["processing", "completed"]


# ----------------------------------------------------------------------------- purchase faults


def test_facilitator_down_charges_nothing() -> None:
    with xgen_router(LISTING) as router:
        header = payment_header()
        down = buy(header, "facilitator_down")
        later = buy(header)
    assert (down.status_code, down.json()["error"]) == (503, "facilitator_unavailable")
    assert "nothing was charged" in down.json()["message"]
    assert later.status_code == 200, "the payment was never taken"
    assert len(router.fake.purchases) == 1


def test_settle_fails_refuses_after_verifying() -> None:
    with xgen_router(LISTING) as router:
        answer = buy(payment_header(), "settle_fails")
    assert (answer.status_code, answer.json()["error"]) == (402, "transaction_failed")
    assert settlement(answer)["success"] is False
    assert settlement(answer)["errorReason"] == "transaction_failed"
    assert not router.fake.jobs


@pytest.mark.parametrize(
    ("name", "names_tx"), [("settle_pending", True), ("facilitator_timeout", False)]
)
def test_a_pending_settlement_asks_for_the_same_payment_again(name: str, names_tx: bool) -> None:
    with xgen_router(LISTING) as router:
        header = payment_header()
        pending = buy(header, name)
        assert not router.fake.jobs
        again = buy(header)
    assert (pending.status_code, pending.json()["error"]) == (503, "settlement_pending")
    assert pending.headers["Retry-After"] == "2"
    assert settlement(pending)["errorReason"] == "settlement_pending"
    transaction = settlement(again)["transaction"]
    assert pending.json()["transaction"] == (transaction if names_tx else None)
    assert again.status_code == 200
    assert len(router.fake.jobs) == 1


def test_the_reference_payer_resends_through_a_pending_settlement(tmp_path: Path) -> None:
    with xgen_router(LISTING, scenario="settle_pending") as router, Payer(PAYER.private_key) as p:
        result = p.generate_image(DEFAULT_BASE_URL, BODY, tmp_path)
    assert result.job["status"] == "completed"
    assert len(router.fake.purchases) == 1


def test_server_error_after_settle_answers_500_once_then_the_job() -> None:
    with xgen_router(LISTING) as router:
        header = payment_header()
        failed = buy(header, "server_error_after_settle")
        again = buy(header)
    assert (failed.status_code, failed.json()["error"]) == (500, "internal_error")
    assert again.status_code == 200
    assert list(router.fake.jobs) == [again.json()["id"]]


def test_the_reference_payer_refuses_an_overpriced_offer(tmp_path: Path) -> None:
    with (
        xgen_router(LISTING, scenario="offer_overpriced") as router,
        Payer(PAYER.private_key) as payer,
        pytest.raises(PriceTooHighError),
    ):
        payer.generate_image(DEFAULT_BASE_URL, BODY, tmp_path)
    assert not router.fake.purchases


def test_the_router_is_a_respx_router() -> None:
    with xgen_router(LISTING) as router:
        assert isinstance(router, XgenRouter)
        httpx.post(URL, json=BODY)
        assert router.routes[0].call_count == 1
