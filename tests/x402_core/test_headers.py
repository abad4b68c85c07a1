"""The header codec: base64 of JSON, and a distinct reason for each way decoding fails."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import requirements_v2
from x402_core.headers import (
    MAX_HEADER_CHARS,
    HeaderError,
    decode_header,
    decode_json_header,
    encode_header,
    encode_json_header,
)
from x402_core.models import PaymentRequiredV2
from x402_core.reasons import Reason

OFFER = PaymentRequiredV2(x402_version=2, accepts=[requirements_v2()])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@given(json_values)
def test_any_json_round_trips(value: object) -> None:
    assert decode_json_header(encode_json_header(value)) == value


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(["exact", "upto"]))
def test_models_round_trip(timeout: int, scheme: str) -> None:
    offer = PaymentRequiredV2(
        x402_version=2, accepts=[requirements_v2(max_timeout_seconds=timeout, scheme=scheme)]
    )
    assert decode_header(encode_header(offer), PaymentRequiredV2) == offer


def test_url_safe_alphabet_missing_padding_and_whitespace_are_tolerated() -> None:
    raw = json.dumps({"a": "??>>"}).encode()
    url_safe = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert decode_json_header(f"  {url_safe} ") == {"a": "??>>"}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("x" * (MAX_HEADER_CHARS + 1), Reason.HEADER_TOO_LARGE),
        ("not base64!", Reason.HEADER_BAD_BASE64),
        (base64.b64encode(b"\xff\xfe\xfd").decode(), Reason.HEADER_BAD_JSON),
        (base64.b64encode(b"{not json").decode(), Reason.HEADER_BAD_JSON),
        (encode_json_header({"x402Version": 2, "accepts": "none"}), Reason.INVALID_PAYLOAD),
        (encode_json_header([1, 2]), Reason.INVALID_PAYLOAD),
    ],
)
def test_each_failure_has_its_reason(value: str, reason: Reason) -> None:
    with pytest.raises(HeaderError) as raised:
        decode_header(value, PaymentRequiredV2, name="PAYMENT-REQUIRED")
    assert raised.value.reason == reason
    assert raised.value.message


def test_schema_errors_name_the_field() -> None:
    bad = OFFER.wire()
    bad["accepts"][0]["amount"] = "05"
    with pytest.raises(HeaderError, match=r"accepts\.0\.amount"):
        decode_header(encode_json_header(bad), PaymentRequiredV2)


@given(st.text(max_size=300))
def test_arbitrary_text_is_refused_with_a_known_reason(value: str) -> None:
    with pytest.raises(HeaderError) as raised:
        decode_header(value, PaymentRequiredV2)
    assert raised.value.reason in set(Reason)


@pytest.mark.parametrize(
    ("inner", "message"),
    [
        (b'{"x402Version": ' + b"1" * 5000 + b"}", "a number of 5000 characters"),
        (b'{"x402Version": 2, "accepted": NaN}', "NaN is not JSON"),
        (b'{"x402Version": 1e999}', "out of range"),
        (b'{"x402Version": 2, "x402Version": 1}', "appears twice"),
        (b"[" * 5_000 + b"]" * 5_000, "nested more than 64 deep"),
    ],
)
def test_json_the_wire_does_not_allow_is_a_bad_json_header(inner: bytes, message: str) -> None:
    with pytest.raises(HeaderError, match=message) as refused:
        decode_json_header(base64.b64encode(inner).decode(), name="PAYMENT-SIGNATURE")
    assert refused.value.reason in (Reason.HEADER_BAD_JSON, Reason.HEADER_TOO_LARGE)
