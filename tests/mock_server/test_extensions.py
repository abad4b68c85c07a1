"""The mock's 402 declares bazaar and payment-identifier, and honours the identifier: the same id
and payment get the same job, another payment or request under it gets 409, a required id that is
missing or malformed gets 400; on every replica of one store and after a restart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.mock_server.conftest import BODY, World
from x402_core import bazaar, payment_identifier
from x402_core.headers import PAYMENT_REQUIRED, PAYMENT_SIGNATURE, decode_header, encode_header
from x402_core.models import PaymentRequiredV2
from x402_core.payments import pay_v2
from x402_core.wallets import test_wallet
from x402_core.xgen import xgen_listing
from x402_payer import Payer

ID = "pay_0123456789abcdef0123456789abcdef"


def offer(world: World, **headers: str) -> PaymentRequiredV2:
    answer = world.http.post("/v1/images/generate", json=BODY, headers=headers)
    return decode_header(answer.headers[PAYMENT_REQUIRED], PaymentRequiredV2)


def with_id(world: World, payment_id: str | None, **headers: str) -> dict[str, str]:
    """A fresh payment echoing the offer's extensions, with `payment_id` (None: no id)."""
    offered = offer(world, **headers)
    wallet = test_wallet(1)
    payload = pay_v2(offered.accepts[0], wallet.private_key, wallet.address, offered.resource)
    extensions: dict[str, Any] = dict(offered.extensions or {})
    if payment_id is not None:
        extensions = payment_identifier.echoed(extensions, payment_id)
    payload = payload.model_copy(update={"extensions": extensions})
    return {PAYMENT_SIGNATURE: encode_header(payload)}


@pytest.mark.parametrize(
    ("policy", "declared"),
    [("off", None), ("optional", {"required": False}), ("required", {"required": True})],
)
def test_the_402_declares_bazaar_and_the_identifier_as_set(
    make_world: Callable[..., World], policy: str, declared: dict[str, bool] | None
) -> None:
    extensions = offer(make_world(payment_identifier=policy)).extensions or {}
    assert extensions[bazaar.BAZAAR] == bazaar.http_extension(xgen_listing(), 4000)
    assert bazaar.problems(extensions[bazaar.BAZAAR]) == []
    found = extensions.get(payment_identifier.PAYMENT_IDENTIFIER)
    assert (found or {}).get("info") == declared


def test_the_same_id_and_payment_get_the_same_job_once(world: World) -> None:
    headers = with_id(world, ID)
    first, again = world.pay(headers=headers), world.pay(headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["id"] == again.json()["id"]
    assert world.charged() == 50_000
    world.assert_invariants()


def test_the_same_id_with_another_payment_or_request_is_a_409_charging_nothing(
    world: World,
) -> None:
    headers = with_id(world, ID)
    assert world.pay(headers=headers).status_code == 200
    another_payment = world.pay(headers=with_id(world, ID))
    another_request = world.pay(body={**BODY, "prompt": "something else"}, headers=headers)
    for answer in (another_payment, another_request):
        assert answer.status_code == 409
        assert answer.json()["error"] == "payment_identifier_conflict"
    assert world.charged() == 50_000
    world.assert_invariants()


@pytest.mark.parametrize(
    "bad_id", ["short_id", "x" * 129, "pay_0123456789abcdef!", "pay 0123456789abcdef"]
)
def test_a_malformed_id_is_a_400_before_any_money_moves(world: World, bad_id: str) -> None:
    answer = world.pay(headers=with_id(world, bad_id))
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_payment_identifier"
    assert "16 to 128 characters" in answer.json()["message"]
    assert world.charged() == 0


def test_a_required_id_that_is_missing_is_a_400_and_one_that_is_sent_buys(
    make_world: Callable[..., World],
) -> None:
    world = make_world(payment_identifier="required")
    missing = world.pay(headers=with_id(world, None))
    assert missing.status_code == 400
    assert "requires a payment identifier" in missing.json()["message"]
    assert world.charged() == 0
    assert world.pay(headers=with_id(world, ID)).status_code == 200


def test_with_the_extension_off_ids_are_not_kept(make_world: Callable[..., World]) -> None:
    world = make_world(payment_identifier="off")
    assert world.pay(headers=with_id(world, ID)).status_code == 200
    assert world.pay(headers=with_id(world, ID)).status_code == 200  # not a conflict
    assert world.state.store.purchase_with_id(ID) is None


def test_replicas_and_a_restart_on_one_store_honour_the_id(
    make_world: Callable[..., World], tmp_path: Path
) -> None:
    store = f"sqlite:{tmp_path / 'store.db'}"
    first = make_world(store=store)
    second = make_world(store=store, facilitator_url=first.state.settings.facilitator_url)
    second.chain = first.chain
    headers = with_id(first, ID)
    job = first.pay(headers=headers).json()["id"]
    assert second.pay(headers=headers).json()["id"] == job
    assert second.pay(headers=with_id(second, ID)).status_code == 409
    restarted = make_world(store=store, facilitator_url=first.state.settings.facilitator_url)
    restarted.chain = first.chain
    assert restarted.pay(headers=headers).json()["id"] == job
    assert restarted.pay(headers=with_id(restarted, ID)).status_code == 409
    assert first.charged() == 50_000


def test_the_reference_payer_sends_one_valid_id_and_reuses_it_on_resends(
    make_world: Callable[..., World],
) -> None:
    world = make_world(payment_identifier="required")
    with Payer(test_wallet(2).private_key) as payer:
        paid = payer.request_paid(
            "POST",
            world.url + "/v1/images/generate",
            json=BODY,
            headers={"X-Mock-Scenario": "settle_pending"},
        )
    assert paid.response.status_code == 200
    sent = [e["payment"] for e in world.state.journal.entries() if e["payment"] is not None]
    assert len(sent) >= 2  # pending, then the same payment again
    ids = {payment_identifier.identifier_in(p["extensions"]) for p in sent}
    assert len(ids) == 1
    assert payment_identifier.is_valid_id(ids.pop())
    assert all(bazaar.BAZAAR in p["extensions"] for p in sent)  # echoed, as the spec expects
    world.assert_invariants()
