"""The paid POST: body first, then the offer, the payment, verify, job, settle; once per payment."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.mock_server.conftest import BODY, World
from x402_core.headers import (
    PAYMENT_REQUIRED,
    PAYMENT_RESPONSE,
    PAYMENT_SIGNATURE,
    X_PAYMENT,
    X_PAYMENT_RESPONSE,
    decode_header,
    decode_json_header,
    encode_json_header,
)
from x402_core.models import PaymentRequiredV1, PaymentRequiredV2
from x402_core.reasons import Reason
from x402_core.wallets import test_wallet


def test_the_402_carries_v2_in_the_header_and_v1_in_the_body(world: World) -> None:
    answer = world.offer()
    assert answer.status_code == 402
    v2 = decode_header(answer.headers[PAYMENT_REQUIRED], PaymentRequiredV2)
    offer = v2.accepts[0]
    assert (offer.scheme, offer.network, offer.amount, offer.max_timeout_seconds) == (
        "exact",
        "eip155:8453",
        "50000",
        300,
    )
    assert offer.pay_to == "0x8fd70c7f86454273fc2df8379dbf08a95ab103d3"
    assert offer.asset == "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
    assert offer.extra == {"name": "USD Coin", "version": "2"}
    assert v2.resource is not None
    assert v2.resource.url == f"{world.url}/v1/images/generate"
    v1 = PaymentRequiredV1.model_validate(answer.json()).accepts[0]
    assert (v1.network, v1.max_amount_required, v1.resource) == (
        "base",
        "50000",
        f"{world.url}/v1/images/generate",
    )
    assert v1.output_schema is not None
    assert set(v1.output_schema["input"]["bodyFields"]) == {
        "model",
        "prompt",
        "resolution",
        "aspect_ratio",
    }
    assert v1.output_schema["output"]["required"] == ["id", "status"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": "x"}, "model"),
        ({"model": "dall-e", "prompt": "x"}, "model"),
        ({"model": "nano-banana-2"}, "prompt"),
        ({"model": "nano-banana-2", "prompt": "   "}, "prompt"),
        ({"model": "nano-banana-2", "prompt": "x" * 4001}, "prompt"),
        ({"model": "nano-banana-2", "prompt": "x", "resolution": "8K"}, "resolution"),
        ({"model": "nano-banana-2", "prompt": "x", "aspect_ratio": "7:3"}, "aspect_ratio"),
        ({"model": "nano-banana-2", "prompt": "x", "seed": 1}, "seed"),
    ],
)
def test_an_invalid_body_is_refused_before_any_payment(
    world: World, body: dict, field: str
) -> None:
    paid = world.pay(body=body)
    assert paid.status_code == 400
    assert paid.json()["field"] == field
    assert PAYMENT_REQUIRED not in paid.headers
    assert world.charged() == 0
    world.assert_invariants()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("%%%", Reason.HEADER_BAD_BASE64),
        (base64.b64encode(b"{nope").decode(), Reason.HEADER_BAD_JSON),
        (encode_json_header({"x402Version": 2}), Reason.INVALID_PAYLOAD),
    ],
)
def test_a_malformed_payment_header_is_a_400(world: World, value: str, reason: Reason) -> None:
    answer = world.pay(headers={PAYMENT_SIGNATURE: value})
    assert (answer.status_code, answer.json()["error"]) == (400, reason)
    world.assert_invariants()


@pytest.mark.parametrize("version", [1, 2])
def test_a_valid_payment_creates_one_job_and_one_charge(world: World, version: int) -> None:
    answer = world.pay(version=version)
    assert answer.status_code == 200, answer.text
    job = answer.json()
    assert job["status"] in ("pending", "processing")
    assert answer.headers["Location"] == f"{world.url}/v1/images/generate/{job['id']}"
    header = PAYMENT_RESPONSE if version == 2 else X_PAYMENT_RESPONSE
    settlement = decode_json_header(answer.headers[header])
    assert settlement["success"] is True
    assert settlement["transaction"].startswith("0x")
    assert settlement["payer"] == test_wallet(1).address
    world.assert_invariants()
    assert world.charged() == 50_000


def test_a_refused_payment_creates_no_job(world: World) -> None:
    broke = test_wallet(30)
    answer = world.pay(headers=world.payment_header(wallet=broke))
    assert answer.status_code == 402
    assert answer.json()["error"] == Reason.INSUFFICIENT_FUNDS
    v2 = decode_header(answer.headers[PAYMENT_REQUIRED], PaymentRequiredV2)
    assert v2.error == Reason.INSUFFICIENT_FUNDS
    expired = world.payment_header(now=1_000_000)
    assert world.pay(headers=expired).json()["error"] == Reason.VALID_BEFORE
    world.assert_invariants()
    assert world.state.store.jobs() == []


def test_replaying_a_paid_request_returns_the_same_job_without_charging(world: World) -> None:
    headers = world.payment_header()
    first, again = world.pay(headers=headers), world.pay(headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert first.headers[PAYMENT_RESPONSE] == again.headers[PAYMENT_RESPONSE]
    assert world.charged() == 50_000
    other_body = world.pay(body={**BODY, "prompt": "something else"}, headers=headers)
    assert other_body.status_code == 402
    assert other_body.json()["error"] == Reason.NONCE_ALREADY_USED
    world.assert_invariants()


def test_twenty_concurrent_duplicates_settle_once(world: World) -> None:
    headers = world.payment_header()
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: world.pay(headers=headers), range(20)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["id"] for a in answers}) == 1
    assert world.charged() == 50_000
    world.assert_invariants()


def test_v2_only_server(make_world: Callable[..., World]) -> None:
    world = make_world(versions=frozenset({2}))
    answer = world.offer()
    assert answer.json()["x402Version"] == 2
    refused = world.pay(headers={X_PAYMENT: "e30="})
    assert refused.status_code == 400
    assert refused.json()["error"] == Reason.INVALID_X402_VERSION
    assert world.pay(version=2).status_code == 200


def test_v1_only_server(make_world: Callable[..., World]) -> None:
    world = make_world(versions=frozenset({1}))
    answer = world.offer()
    assert PAYMENT_REQUIRED not in answer.headers
    assert answer.json()["x402Version"] == 1
    paid = world.pay(version=1)
    assert paid.status_code == 200
    assert X_PAYMENT_RESPONSE in paid.headers


# --- fuzz: bad bodies and headers never a 5xx, never a job without its settlement --------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def test_fuzzed_requests_keep_the_invariants(world: World) -> None:
    valid = world.payment_header()
    payload = decode_json_header(valid[PAYMENT_SIGNATURE])

    @settings(max_examples=300, deadline=None)
    @given(
        body=st.one_of(st.just(BODY), _json.map(lambda v: v if isinstance(v, dict) else {"v": v})),
        header=st.one_of(
            st.none(),
            st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40),
            _json.map(encode_json_header),
            st.tuples(st.sampled_from(sorted(payload["payload"]["authorization"])), _json).map(
                lambda change: encode_json_header(
                    {
                        **payload,
                        "payload": {
                            **payload["payload"],
                            "authorization": {
                                **payload["payload"]["authorization"],
                                change[0]: change[1],
                            },
                        },
                    }
                )
            ),
        ),
        name=st.sampled_from([PAYMENT_SIGNATURE, X_PAYMENT]),
    )
    def check(body: dict, header: str | None, name: str) -> None:
        headers = {} if header is None else {name: header}
        answer = world.http.post("/v1/images/generate", content=json.dumps(body), headers=headers)
        assert answer.status_code < 500, answer.text
        world.assert_invariants()

    check()
    assert world.pay(headers=valid).status_code == 200
    world.assert_invariants()


HUGE = b"1" * 5000


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"model": "nano-banana-2", "prompt": ' + HUGE + b"}", "a number of 5000 characters"),
        (b'{"model": "nano-banana-2", "prompt": "x", "n": NaN}', "NaN is not JSON"),
        (b'{"model": "nano-banana-2", "prompt": 1e999}', "out of range"),
        (b'{"model": "nano-banana-2", "prompt": "a", "prompt": "b"}', "appears twice"),
        (b'{"model": "nano-banana-2", "prompt": "\\ud800"}', "lone UTF-16 surrogate"),
        (b'{"model": "nano-banana-2", "prompt": "\xff"}', "not UTF-8"),
        (b"[" * 60_000 + b"]" * 60_000, "the body is 120000 bytes; at most 65536"),
        (b"[" * 30_000 + b"]" * 30_000, "nested more than 64 deep"),
    ],
)
def test_json_the_wire_does_not_allow_is_a_400_and_journaled(
    world: World, content: bytes, message: str
) -> None:
    answer = world.http.post("/v1/images/generate", content=content)
    assert answer.status_code == 400
    assert message in answer.json()["message"]
    [entry] = world.http.get("/__mock__/journal").json()["entries"]
    assert (entry["path"], entry["status"]) == ("/v1/images/generate", 400)


@pytest.mark.parametrize("header", [PAYMENT_SIGNATURE, X_PAYMENT])
def test_a_huge_integer_in_the_payment_header_is_a_400_and_journaled(
    world: World, header: str
) -> None:
    value = base64.b64encode(b'{"x402Version": ' + HUGE + b"}").decode()
    answer = world.http.post("/v1/images/generate", json=BODY, headers={header: value})
    assert answer.status_code == 400
    assert answer.json()["error"] == Reason.HEADER_BAD_JSON
    assert "a number of 5000 characters" in answer.json()["message"]
    [entry] = world.http.get("/__mock__/journal").json()["entries"]
    assert (entry["status"], entry["payment"]) == (400, None)
    assert entry["headers"][header.lower()].startswith(value[:100])
