"""The admin API and the journal it serves."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.mock_server.conftest import World
from x402_core.headers import PAYMENT_SIGNATURE


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
