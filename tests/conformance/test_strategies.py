"""The strategies against the real facilitator and mock: valid is accepted, tampered is refused
with the vector's reason, invalid bodies get a 400."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from conformance.facilitator.vectors import Vector
from conformance.strategies import request_bodies, tampered_bodies, verify_bodies
from mock_server.listing import DEFAULT_LISTING
from x402_core.listing import load_listing
from x402_harness.stack import Stack, StackConfig

LISTING = load_listing(DEFAULT_LISTING)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with Stack(StackConfig()) as running:
        yield running


@SETTINGS
@given(body=verify_bodies())
def test_valid_bodies_verify(stack: Stack, body: dict[str, Any]) -> None:
    answer = httpx.post(stack.facilitator_url + "/verify", json=body).json()
    assert answer["isValid"] is True, answer


@SETTINGS
@given(case=tampered_bodies())
def test_tampered_bodies_are_refused_with_their_reason(
    stack: Stack, case: tuple[Vector, Any]
) -> None:
    vector, body = case
    content = body if isinstance(body, bytes) else None
    answer = httpx.post(
        stack.facilitator_url + "/verify",
        content=content,
        json=None if content is not None else body,
    )
    assert answer.status_code in (200, 400)
    assert answer.json()["isValid"] is False
    expected = vector.expected("ours")
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
