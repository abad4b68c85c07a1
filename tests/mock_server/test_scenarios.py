"""Every scenario, shown doing what its one line says."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from mock_server.scenarios import SCENARIOS
from tests.mock_server.conftest import BODY, World
from x402_core.headers import PAYMENT_REQUIRED, PAYMENT_RESPONSE, HeaderError, decode_json_header
from x402_core.reasons import Reason
from x402_core.wallets import test_wallet
from x402_payer import Payer


def advance(world: World, seconds: float) -> None:
    assert world.http.post("/__mock__/clock/advance", json={"seconds": seconds}).status_code == 200


def statuses(world: World, job_id: str, steps: list[float]) -> list[str]:
    seen = []
    for step in steps:
        advance(world, step)
        seen.append(world.http.get(f"/v1/images/generate/{job_id}").json()["status"])
    return seen


@pytest.fixture
def test_world(make_world: Callable[..., World]) -> World:
    return make_world(clock="test")


def paid_job(world: World, scenario: str) -> dict:
    answer = world.pay(**{"X-Mock-Scenario": scenario})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_happy(test_world: World) -> None:
    job = paid_job(test_world, "happy")
    assert job["status"] == "pending"
    assert statuses(test_world, job["id"], [1.5, 3]) == ["processing", "completed"]


def test_instant(test_world: World) -> None:
    assert paid_job(test_world, "instant")["status"] == "completed"


def test_quick(test_world: World) -> None:
    job = paid_job(test_world, "quick")
    assert statuses(test_world, job["id"], [0.1, 0.2, 0.5]) == [
        "pending",
        "processing",
        "completed",
    ]


def test_slow(test_world: World) -> None:
    job = paid_job(test_world, "slow")
    assert statuses(test_world, job["id"], [9, 2, 28, 2]) == [
        "pending",
        "processing",
        "processing",
        "completed",
    ]


def test_stuck(test_world: World) -> None:
    job = paid_job(test_world, "stuck")
    assert statuses(test_world, job["id"], [2, 10_000]) == ["processing", "processing"]


def test_fail(test_world: World) -> None:
    job = paid_job(test_world, "fail")
    advance(test_world, 10)
    view = test_world.http.get(f"/v1/images/generate/{job['id']}").json()
    assert view["status"] == "failed"
    assert view["error"]["code"] == "generation_failed"
    assert "images" not in view


def test_content_policy_fails_from_pending(test_world: World) -> None:
    job = paid_job(test_world, "content_policy")
    assert statuses(test_world, job["id"], [1.1]) == ["failed"]
    view = test_world.http.get(f"/v1/images/generate/{job['id']}").json()
    assert view["error"]["code"] == "content_policy_violation"


def test_rate_limited_polling(world: World) -> None:
    job = paid_job(world, "rate_limited")
    first = world.http.get(f"/v1/images/generate/{job['id']}")
    second = world.http.get(f"/v1/images/generate/{job['id']}")
    assert first.status_code == 200
    assert second.status_code == 429
    assert second.headers["Retry-After"] == "1"
    time.sleep(1.05)
    assert world.http.get(f"/v1/images/generate/{job['id']}").status_code == 200


def test_status_errors_every_other_poll(world: World) -> None:
    job = paid_job(world, "status_errors")
    codes = [world.http.get(f"/v1/images/generate/{job['id']}").status_code for _ in range(4)]
    assert codes == [200, 503, 200, 503]


def test_facilitator_down_charges_nothing(world: World) -> None:
    answer = world.pay(**{"X-Mock-Scenario": "facilitator_down"})
    assert answer.status_code == 503
    assert answer.json()["error"] == Reason.FACILITATOR_UNAVAILABLE
    assert int(answer.headers["Retry-After"]) > 0
    assert world.charged() == 0
    world.assert_invariants()


def test_settle_fails_leaves_no_job(world: World) -> None:
    answer = world.pay(**{"X-Mock-Scenario": "settle_fails"})
    assert answer.status_code == 402
    assert answer.json()["error"] == Reason.TRANSACTION_FAILED
    assert decode_json_header(answer.headers[PAYMENT_RESPONSE])["success"] is False
    assert world.state.store.jobs() == []
    world.assert_invariants()


def test_server_error_after_settle_loses_nothing(world: World) -> None:
    headers = world.payment_header()
    failed = world.pay(headers=headers, **{"X-Mock-Scenario": "server_error_after_settle"})
    assert failed.status_code == 500
    again = world.pay(headers=headers, **{"X-Mock-Scenario": "server_error_after_settle"})
    assert again.status_code == 200
    assert again.json()["id"] == world.state.store.jobs()[0].id
    assert world.charged() == 50_000
    world.assert_invariants()


def _assert_pending(answer: httpx.Response) -> dict:
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["error"] == Reason.SETTLEMENT_PENDING
    assert "same payment" in body["message"]
    assert int(answer.headers["Retry-After"]) > 0
    settlement = decode_json_header(answer.headers[PAYMENT_RESPONSE])
    assert (settlement["success"], settlement["errorReason"]) == (False, "settlement_pending")
    return body


def test_settle_pending_answers_pending_until_confirmed_then_the_job(test_world: World) -> None:
    """The money moved at once; the answer stays true: pending, naming the transaction."""
    world = test_world
    headers = world.payment_header()
    first = _assert_pending(world.pay(headers=headers, **{"X-Mock-Scenario": "settle_pending"}))
    assert first["transaction"].startswith("0x")
    assert world.charged() == 50_000
    again = _assert_pending(world.pay(headers=headers))
    assert again["transaction"] == first["transaction"]
    pending = world.http.get("/__mock__/purchases", params={"state": "pending"}).json()
    assert [p["transaction"] for p in pending["purchases"]] == [first["transaction"]]
    advance(world, 3)
    done = world.pay(headers=headers)
    assert done.status_code == 200
    assert decode_json_header(done.headers[PAYMENT_RESPONSE])["transaction"] == first["transaction"]
    assert world.pay(headers=headers).json()["id"] == done.json()["id"]
    assert world.charged() == 50_000
    world.assert_invariants()


def test_facilitator_timeout_is_pending_then_the_resend_gets_the_job(world: World) -> None:
    headers = world.payment_header()
    first = _assert_pending(
        world.pay(headers=headers, **{"X-Mock-Scenario": "facilitator_timeout"})
    )
    assert first["transaction"] is None, "the timed-out call never said which transaction"
    assert world.charged() == 50_000
    done = world.pay(headers=headers)
    assert done.status_code == 200, done.text
    assert world.charged() == 50_000
    world.assert_invariants()


def test_a_pending_purchase_is_settled_in_the_background(make_world: Callable[..., World]) -> None:
    world = make_world(facilitator_timeout=0.5, reconcile_interval=0.1)
    _assert_pending(world.pay(**{"X-Mock-Scenario": "facilitator_timeout"}))
    deadline = time.monotonic() + 15
    while not world.state.store.jobs() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(world.state.store.jobs()) == 1, "the background pass settled it without a re-send"
    world.assert_invariants()


def test_the_reference_payer_waits_out_a_pending_settlement(world: World) -> None:
    with Payer(test_wallet(2).private_key) as payer:
        paid = payer.request_paid(
            "POST",
            world.url + "/v1/images/generate",
            json=BODY,
            headers={"X-Mock-Scenario": "settle_pending"},
        )
    assert paid.response.status_code == 200
    assert world.charged() == 50_000
    world.assert_invariants()


def test_unknown_scenario_header_is_a_400(world: World) -> None:
    answer = world.pay(**{"X-Mock-Scenario": "chaos"})
    assert answer.status_code == 400
    assert "happy" in answer.json()["message"]


def test_queued_scenarios_apply_to_the_next_created_jobs(test_world: World) -> None:
    queued = test_world.http.post("/__mock__/scenario/queue", json={"names": ["instant", "fail"]})
    assert queued.json()["queued"] == ["instant", "fail"]
    broke = test_world.pay(headers=test_world.payment_header(now=1_000_000))
    assert broke.status_code == 402  # no job: the queue is not consumed
    assert paid_job_default(test_world)["status"] == "completed"
    second = paid_job_default(test_world)
    advance(test_world, 10)
    assert test_world.http.get(f"/v1/images/generate/{second['id']}").json()["status"] == "failed"
    assert paid_job_default(test_world)["status"] == "pending"


def paid_job_default(world: World) -> dict:
    answer = world.pay()
    assert answer.status_code == 200
    return answer.json()


def test_default_scenario_from_settings(make_world: Callable[..., World]) -> None:
    world = make_world(default_scenario="instant")
    assert paid_job_default(world)["status"] == "completed"


@pytest.mark.parametrize(
    ("scenario", "field", "value"),
    [
        ("offer_unknown_network", "network", "eip155:999999"),
        ("offer_unknown_asset", "asset", "0x00000000000000000000000000000000DeaDBeef"),
        ("offer_overpriced", "amount", "5000000"),
    ],
)
def test_offer_scenarios_serve_an_unpayable_offer_and_still_sell_at_the_real_terms(
    world: World, scenario: str, field: str, value: str
) -> None:
    offered = world.http.post(
        "/v1/images/generate", json=BODY, headers={"X-Mock-Scenario": scenario}
    )
    assert offered.status_code == 402
    requirement = decode_json_header(offered.headers[PAYMENT_REQUIRED])["accepts"][0]
    assert requirement[field] == value
    assert world.pay(**{"X-Mock-Scenario": scenario}).status_code == 200


def test_offer_malformed_cannot_be_read(world: World) -> None:
    offered = world.http.post(
        "/v1/images/generate", json=BODY, headers={"X-Mock-Scenario": "offer_malformed"}
    )
    assert offered.status_code == 402
    with pytest.raises(HeaderError):
        decode_json_header(offered.headers[PAYMENT_REQUIRED])
    assert offered.json()["x402Version"] == "one"


def test_identifier_required_refuses_a_payment_without_an_id(world: World) -> None:
    scenario = {"X-Mock-Scenario": "identifier_required"}
    offered = world.http.post("/v1/images/generate", json=BODY, headers=scenario)
    declared = decode_json_header(offered.headers[PAYMENT_REQUIRED])["extensions"]
    assert declared["payment-identifier"]["info"] == {"required": True}
    answer = world.pay(**scenario)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_payment_identifier"
    assert world.charged() == 0


def test_every_scenario_is_documented_and_tested() -> None:
    tested = {
        name.removeprefix("test_").split("_")[0] for name in globals() if name.startswith("test_")
    }
    for name, scenario in SCENARIOS.items():
        assert scenario.description
        assert name.split("_")[0] in tested, name


def test_scenarios_listing(world: World) -> None:
    listed = httpx.get(f"{world.url}/__mock__/scenarios", timeout=5).json()
    assert set(listed["scenarios"]) == set(SCENARIOS)
