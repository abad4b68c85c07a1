"""The facilitator's own journal: every /verify and /settle with its decoded payment and answer."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from facilitator_sim.app import create_app
from facilitator_sim.chains.ledger import LedgerChain
from facilitator_sim.config import FacilitatorSettings
from tests.factories import PAY_TO, USDC, verify_body
from x402_core.wallets import test_wallet
from x402_service.serving import ServerThread

PAYER = test_wallet(1)


def test_journal_records_calls_with_their_payments_and_answers(tmp_path: Path) -> None:
    ledger = LedgerChain()
    ledger.set_balance(USDC, PAYER.address, 10**9)
    lines = tmp_path / "facilitator.jsonl"
    app = create_app(ledger, FacilitatorSettings(journal_path=lines))
    body = verify_body(2)
    with ServerThread(app) as server, httpx.Client(base_url=server.url) as http:
        http.get("/health")
        http.post("/verify", json=body)
        http.post("/settle", json=body)
        http.post("/settle", content=b"{not json")
        entries = http.get("/journal").json()["entries"]
        later = http.get("/journal", params={"since": entries[1]["seq"]}).json()["entries"]
        refused = http.get("/journal", params={"since": "-1"})

    assert [(e["path"], e["status"]) for e in entries] == [
        ("/verify", 200),
        ("/settle", 200),
        ("/settle", 400),
    ]
    assert entries[0]["payment"] == body["paymentPayload"]
    assert entries[0]["payment_version"] == 2
    assert json.loads(entries[1]["response_body"])["success"] is True
    assert entries[2]["payment"] is None
    assert [e["seq"] for e in later] == [entries[2]["seq"]]
    assert refused.status_code == 400
    assert [json.loads(line)["path"] for line in lines.read_text().splitlines()] == [
        "/verify",
        "/settle",
        "/settle",
    ]


POISON = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e999",
    b"1" + b"0" * 5000,
]


def _with_poison(poison: bytes) -> bytes:
    """A real verify body with `poison` inside `paymentPayload`."""
    text = json.dumps(verify_body(2)).encode()
    return text.replace(
        b'"paymentPayload": {', b'"paymentPayload": {"extensions": {"x": ' + poison + b"}, ", 1
    )


@pytest.mark.parametrize("poison", POISON)
@pytest.mark.parametrize("path", ["/verify", "/settle"])
def test_non_finite_or_huge_numbers_are_a_400_and_the_journal_stays_readable(
    path: str, poison: bytes
) -> None:
    ledger = LedgerChain()
    ledger.set_balance(USDC, PAYER.address, 10**9)
    with ServerThread(create_app(ledger)) as server, httpx.Client(base_url=server.url) as http:
        answer = http.post(path, content=_with_poison(poison))
        journal = http.get("/journal")
        again = http.get("/journal")
    assert answer.status_code == 400
    assert answer.json()["isValid" if path == "/verify" else "success"] is False
    assert "not JSON" in answer.text
    assert journal.status_code == again.status_code == 200
    [entry] = journal.json()["entries"]
    assert (entry["path"], entry["status"], entry["payment"]) == (path, 400, None)
    assert ledger.balance_of(USDC, PAY_TO) == 0


def test_the_journal_is_paged_and_refuses_foreign_hosts_and_origins() -> None:
    ledger = LedgerChain()
    with ServerThread(create_app(ledger)) as server, httpx.Client(base_url=server.url) as http:
        for _ in range(3):
            http.post("/verify", content=b"{}")
        page = http.get("/journal", params={"limit": 2}).json()
        rest = http.get("/journal", params={"since": page["next"]}).json()
        rebound = http.get("/journal", headers={"host": "attacker.example"})
        cross = http.get("/journal", headers={"origin": "https://attacker.example"})
        fetched = http.get("/journal", headers={"sec-fetch-site": "cross-site"})
        verify = http.post("/verify", content=b"{}", headers={"host": "facilitator:4021"})
    assert ([e["seq"] for e in page["entries"]], page["more"]) == ([1, 2], True)
    assert ([e["seq"] for e in rest["entries"]], rest["more"]) == ([3], False)
    assert (rebound.status_code, rebound.json()["error"]) == (403, "forbidden_host")
    assert (cross.status_code, cross.json()["error"]) == (403, "forbidden_origin")
    assert fetched.status_code == 403
    assert verify.status_code == 400  # only the journal is guarded; services answer any Host
