"""The strategies against the real facilitator and mock: valid is accepted, tampered is refused
with the vector's reason, invalid bodies get a 400; and the strategies are a documented,
deterministic surface."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance import strategies
from conformance.facilitator.reasons import reason_table
from conformance.strategies import request_bodies, tampered_bodies, verify_bodies
from x402_core.xgen import xgen_listing
from x402_harness.stack import Stack, StackConfig

LISTING = xgen_listing()
SETTINGS = settings(max_examples=40, deadline=None)
OURS = reason_table("ours")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with Stack(StackConfig()) as running:
        yield running


@SETTINGS
@given(data=st.data())
def test_valid_bodies_verify(stack: Stack, data: st.DataObject) -> None:
    body = data.draw(verify_bodies(now=stack.chain.now()))
    answer = httpx.post(stack.facilitator_url + "/verify", json=body).json()
    assert answer["isValid"] is True, answer


@SETTINGS
@given(data=st.data())
def test_tampered_bodies_are_refused_with_their_reason(stack: Stack, data: st.DataObject) -> None:
    vector, body = data.draw(tampered_bodies(now=stack.chain.now()))
    content = body if isinstance(body, bytes) else None
    answer = httpx.post(
        stack.facilitator_url + "/verify",
        content=content,
        json=None if content is not None else body,
    )
    assert answer.status_code in (200, 400)
    assert answer.json()["isValid"] is False
    expected = OURS.get(vector.check_id)
    if expected is not None:
        assert answer.json()["invalidReason"] == expected, vector.title


@SETTINGS
@given(body=request_bodies(LISTING))
def test_valid_request_bodies_are_offered_a_payment(stack: Stack, body: dict[str, Any]) -> None:
    assert httpx.post(stack.endpoint_url, json=body).status_code == 402


@SETTINGS
@given(body=request_bodies(LISTING, valid=False))
def test_invalid_request_bodies_get_400(stack: Stack, body: dict[str, Any]) -> None:
    assert httpx.post(stack.endpoint_url, json=body).status_code == 400


def test_all_names_every_public_strategy_and_each_has_a_docstring() -> None:
    public = {
        name
        for name, value in vars(strategies).items()
        if inspect.isfunction(value)
        and value.__module__ == strategies.__name__
        and not name.startswith("_")
    }
    assert set(strategies.__all__) == public
    for name in strategies.__all__:
        assert inspect.getdoc(getattr(strategies, name)), f"{name} has no docstring"


def test_the_same_choices_give_the_same_payment() -> None:
    """Deterministic: a replayed example is the same body, not a fresh nonce or clock."""
    seen = []
    for _ in range(2):

        @settings(max_examples=1, database=None, derandomize=True)
        @given(body=verify_bodies(now=1_700_000_000), case=tampered_bodies(now=1_700_000_000))
        def draw(body: dict[str, Any], case: tuple[Any, Any]) -> None:
            seen.append((body, case[0].check_id, case[1]))

        draw()
    assert seen[0] == seen[1]
