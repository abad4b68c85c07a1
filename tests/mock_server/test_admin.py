"""The admin API and the journal it serves."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.mock_server.conftest import BODY, World
from x402_core.headers import PAYMENT_SIGNATURE
from x402_core.wallets import test_wallet


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/__mock__/scenario", {"name": "nope"}),
        ("/__mock__/scenario", {"name": 3}),
        ("/__mock__/scenario/queue", {"names": ["happy", "nope"]}),
        ("/__mock__/scenario/queue", {"names": "happy"}),
        ("/__mock__/clock/advance", {"seconds": "ten"}),
        ("/__mock__/clock/advance", {"seconds": -1}),
    ],
)
def test_bad_admin_input_is_a_400_and_changes_nothing(
    make_world: Callable[..., World], path: str, body: dict
) -> None:
    world = make_world(clock="test")
    before = world.http.get("/__mock__/scenarios").json()
    answer = world.http.post(path, json=body)
    assert answer.status_code in (400, 409)
    assert answer.json()["message"]
    assert world.http.get("/__mock__/scenarios").json() == before


def test_advancing_the_real_clock_is_a_409(world: World) -> None:
    answer = world.http.post("/__mock__/clock/advance", json={"seconds": 5})
    assert answer.status_code == 409


def test_set_default_jobs_journal_and_reset(world: World) -> None:
    assert (
        world.http.post("/__mock__/scenario", json={"name": "instant"}).json()["default"]
        == "instant"
    )
    paid = world.pay()
    assert paid.json()["status"] == "completed"
    jobs = world.http.get("/__mock__/jobs").json()
    assert [j["id"] for j in jobs["jobs"]] == [paid.json()["id"]]
    assert jobs["settlements"][0]["job_id"] == paid.json()["id"]
    entries = world.http.get("/__mock__/journal").json()["entries"]
    assert [e["status"] for e in entries] == [
        402,
        200,
    ]  # the offer fetched to sign, then the payment
    assert entries[1]["payment"]["payload"]["authorization"]["value"] == "50000"
    assert entries[1]["payment_version"] == 2
    assert PAYMENT_SIGNATURE.lower() in entries[1]["headers"]
    assert all(not e["path"].startswith("/__mock__") for e in entries)
    later = world.http.get("/__mock__/journal", params={"since": entries[0]["seq"]}).json()
    assert [e["seq"] for e in later["entries"]] == [entries[1]["seq"]]
    reset = world.http.post("/__mock__/reset")
    assert reset.json() == {"status": "reset", "purchases_kept": True}
    assert [j["id"] for j in world.http.get("/__mock__/jobs").json()["jobs"]] == [paid.json()["id"]]
    assert world.http.get("/__mock__/journal").json()["entries"] == []
    assert world.http.post("/__mock__/reset", json={"purchases": True}).status_code == 200
    assert world.http.get("/__mock__/jobs").json()["jobs"] == []
    assert world.http.post("/__mock__/reset", json={"purchases": "yes"}).status_code == 400
    assert world.http.get("/__mock__/scenarios").json()["default"] == "happy"


def test_journal_file(make_world: Callable[..., World], tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    world = make_world(journal_path=path)
    world.offer()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(e["method"], e["path"], e["status"]) for e in lines] == [
        ("POST", "/v1/images/generate", 402)
    ]


def test_health(world: World) -> None:
    assert world.http.get("/__mock__/health").json()["status"] == "ok"
    assert world.http.get("/health").json() == {"status": "ok"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"seconds": NaN}',
        b'{"seconds": Infinity}',
        b'{"seconds": -Infinity}',
        b'{"seconds": 1e999}',
        b'{"seconds": 1e308}',
        b'{"seconds": 31536001}',
        b'{"seconds": -0.5}',
        b'{"seconds": 1' + b"0" * 5000 + b"}",
        b'{"seconds": true}',
    ],
)
def test_non_finite_or_absurd_clock_steps_are_refused_and_the_clock_stays_sane(
    make_world: Callable[..., World], body: bytes
) -> None:
    world = make_world(clock="test")
    before = world.http.get("/__mock__/health").json()["now"]
    answer = world.http.post(
        "/__mock__/clock/advance", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json()["message"]
    assert world.http.get("/__mock__/health").json()["now"] == before
    assert world.http.post("/__mock__/reset").status_code == 200
    now = world.http.get("/__mock__/health").json()["now"]
    assert isinstance(now, float)
    assert before <= now < before + 3600
    assert world.pay().status_code == 200


def test_the_test_clock_moves_a_year_at_most_and_stays_within_ten(
    make_world: Callable[..., World],
) -> None:
    world = make_world(clock="test")
    year = {"seconds": 365 * 24 * 3600}
    answers = [world.http.post("/__mock__/clock/advance", json=year) for _ in range(11)]
    assert [a.status_code for a in answers] == [200] * 10 + [400]
    assert "at most" in answers[-1].json()["message"]
    paid = world.pay()
    assert world.http.get(f"/v1/images/generate/{paid.json()['id']}").status_code == 200


def test_the_journal_is_read_in_pages(world: World) -> None:
    for _ in range(3):
        world.offer()
    first = world.http.get("/__mock__/journal", params={"limit": 2}).json()
    assert [e["status"] for e in first["entries"]] == [402, 402]
    assert first["more"] is True
    rest = world.http.get("/__mock__/journal", params={"since": first["next"]}).json()
    assert (len(rest["entries"]), rest["more"]) == (1, False)
    for bad in ({"limit": 0}, {"limit": 100_000}, {"since": "x"}, {"since": "9" * 5000}):
        answer = world.http.get("/__mock__/journal", params=bad)
        assert answer.status_code == 400
        assert "expected" in answer.json()["message"]


def _readable(world: World, **query: str) -> list[dict]:
    answer = world.http.get("/__mock__/journal", params={"view": "readable", **query})
    assert answer.status_code == 200, answer.text
    return answer.json()["entries"]


def test_the_readable_journal_decodes_and_joins_the_facilitators_verdicts(world: World) -> None:
    paid = world.pay().json()
    world.http.get(f"/v1/images/generate/{paid['id']}")
    offer, payment, poll = _readable(world)
    assert offer["payment_required"]["x402Version"] == 2
    assert offer["payment_required"]["accepts"][0]["amount"] == "50000"
    assert offer["response"]["body"]["x402Version"] == 1  # the v1 offer, as JSON
    assert offer["time"].endswith("Z")
    assert (offer["scenario"], offer["job_id"], offer["payer"]) == ("happy", None, None)
    settlement = payment["payment_response"]
    assert settlement["success"] is True
    assert payment["job_id"] == paid["id"]
    assert payment["payer"] == test_wallet(1).address.lower()
    assert payment["payment_summary"]["value"] == "50000"
    assert [(c["call"], c["status"]) for c in payment["facilitator"]] == [
        ("verify", 200),
        ("settle", 200),
    ]
    assert payment["facilitator"][1]["answer"]["transaction"] == settlement["transaction"]
    assert (poll["job_id"], poll["scenario"], poll["response"]["body"]["status"]) == (
        paid["id"],
        "happy",
        "pending",
    )


def test_the_readable_journal_filters_by_payer_job_and_path(world: World) -> None:
    first = world.pay().json()["id"]
    second = world.pay(headers=world.payment_header(wallet=test_wallet(2))).json()["id"]
    world.http.get(f"/v1/images/generate/{first}")
    by_payer = _readable(world, payer=test_wallet(2).address)
    assert [e["job_id"] for e in by_payer] == [second]
    assert [e["seq"] for e in _readable(world, job=first)] == [2, 5]
    assert [e["path"] for e in _readable(world, path="/v1/images/generate/")] == [
        f"/v1/images/generate/{first}"
    ]
    assert _readable(world, job="job_none") == []
    page = world.http.get("/__mock__/journal", params={"view": "readable", "limit": 2}).json()
    assert ([e["seq"] for e in page["entries"]], page["next"], page["more"]) == ([1, 2], 2, True)


def test_the_scenario_a_header_asked_for_is_noted(world: World) -> None:
    world.http.post(
        "/v1/images/generate", json=BODY, headers={"X-Mock-Scenario": "offer_overpriced"}
    )
    [entry] = _readable(world)
    assert entry["scenario"] == "offer_overpriced"
    assert entry["payment_required"]["accepts"][0]["amount"] == "5000000"


@pytest.mark.parametrize(
    "query",
    [
        {"view": "pretty"},
        {"payer": "0x01"},
        {"view": "raw", "job": "job_1"},
        {"view": "readable", "path": "no-slash"},
        {"view": "readable", "limit": "0"},
    ],
)
def test_a_bad_journal_query_is_a_400_saying_what_is_expected(
    world: World, query: dict[str, str]
) -> None:
    answer = world.http.get("/__mock__/journal", params=query)
    assert answer.status_code == 400
    assert "expected" in answer.json()["message"]


def test_without_the_facilitators_journal_the_readable_one_says_so(
    make_world: Callable[..., World],
) -> None:
    world = make_world(facilitator_url="http://127.0.0.1:1")
    world.offer()
    page = world.http.get("/__mock__/journal", params={"view": "readable"}).json()
    assert [e["status"] for e in page["entries"]] == [402]
    assert "could not be read" in page["facilitator_problem"]
