"""The facilitator's own journal: every /verify and /settle with its decoded payment and answer."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from facilitator_sim.app import create_app
from facilitator_sim.chains.ledger import LedgerChain
from facilitator_sim.config import FacilitatorSettings
from tests.factories import USDC, verify_body
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
