"""The facilitator binds a payment-identifier to the first payment it settles under it: that
payment settles again as before, any other payment with the id is refused at /verify and /settle,
also after a restart on the same state file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from facilitator_sim.app import create_app
from facilitator_sim.chains.factory import fund_test_wallets
from facilitator_sim.chains.ledger import LedgerChain
from facilitator_sim.config import FacilitatorSettings
from tests.factories import PAY_TO, PRICE, USDC, verify_body
from x402_core.payment_identifier import PAYMENT_IDENTIFIER, declaration, echoed
from x402_core.reasons import Reason
from x402_service.serving import ServerThread

ID = "pay_facilitator_0123456789abcdef"


def _with_id(payment_id: str | None) -> dict[str, Any]:
    body = verify_body(2)
    if payment_id is not None:
        extensions = echoed({PAYMENT_IDENTIFIER: declaration(False)}, payment_id)
        body["paymentPayload"]["extensions"] = extensions
    return body


def test_an_id_settles_one_payment_and_refuses_others(tmp_path: Path) -> None:
    state = tmp_path / "facilitator.sqlite"
    first, other = _with_id(ID), _with_id(ID)
    chain = LedgerChain(state_path=state)
    fund_test_wallets(chain)
    settings = FacilitatorSettings(state_path=state)
    with ServerThread(create_app(chain, settings)) as server:
        settled = httpx.post(server.url + "/settle", json=first).json()
        assert settled["success"] is True
        verified = httpx.post(server.url + "/verify", json=other).json()
        refused = httpx.post(server.url + "/settle", json=other).json()
        assert (verified["isValid"], verified["invalidReason"]) == (
            False,
            Reason.PAYMENT_IDENTIFIER_CONFLICT,
        )
        assert (refused["success"], refused["errorReason"]) == (
            False,
            Reason.PAYMENT_IDENTIFIER_CONFLICT,
        )
        assert httpx.post(server.url + "/settle", json=_with_id(None)).json()["success"]
    chain.close()

    again = LedgerChain(state_path=state)
    with ServerThread(create_app(again, settings)) as server:
        repeated = httpx.post(server.url + "/settle", json=first).json()
        assert repeated["transaction"] == settled["transaction"]
        after_restart = httpx.post(server.url + "/settle", json=_with_id(ID)).json()
        assert after_restart["errorReason"] == Reason.PAYMENT_IDENTIFIER_CONFLICT
    assert again.balance_of(USDC, PAY_TO) == 2 * PRICE
    again.close()
