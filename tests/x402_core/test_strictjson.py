"""Strict JSON: what RFC 8259 allows parses as `json` would; everything else is a JsonError."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from x402_core.strictjson import MAX_DEPTH, MAX_NUMBER_CHARS, JsonError, loads

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, derandomize=True)
@given(json_values, st.booleans())
def test_strict_json_reads_what_json_writes(value: object, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert loads(text) == json.loads(text)
    assert loads(text.encode()) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'{"a": NaN}', "NaN is not JSON"),
        (b'{"a": Infinity}', "Infinity is not JSON"),
        (b"[-Infinity]", "-Infinity is not JSON"),
        (b'{"a": 1e999}', "out of range"),
        (b'{"a": -1e999}', "out of range"),
        (b'{"a": 1' + b"0" * 5000 + b"}", "a number of 5001 characters"),
        (b'{"a": 1.' + b"0" * 200 + b"}", "a number of 202 characters"),
        (b'{"a": 1, "a": 2}', "the key 'a' appears twice"),
        (b"[" * 100_000 + b"]" * 100_000, "nested more than 64 deep"),
        (b'{"a":' * 65 + b"1" + b"}" * 65, "nested more than 64 deep"),
        (b'{"a": "\xff"}', "not UTF-8"),
        (b'{"a": "\xed\xa0\x80"}', "not UTF-8"),
        (b'{"a": "\\ud800"}', "lone UTF-16 surrogate"),
        (b'["\\udc00\\ud800"]', "lone UTF-16 surrogate"),
        (b"\xef\xbb\xbf{}", "BOM"),
        (b"{'a': 1}", "Expecting property name"),
        (b"", "Expecting value"),
    ],
)
def test_what_the_wire_does_not_allow_is_a_json_error(text: bytes, message: str) -> None:
    with pytest.raises(JsonError, match=message):
        loads(text)


def test_nesting_up_to_the_limit_is_fine_and_brackets_in_strings_do_not_count() -> None:
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    assert loads(json.dumps(["[{" * 10_000, '\\"[['])) == ["[{" * 10_000, '\\"[[']


def test_escaped_surrogate_pairs_and_long_enough_numbers_are_fine() -> None:
    assert loads('["\\ud83d\\ude00"]') == ["\N{GRINNING FACE}"]
    big = "9" * MAX_NUMBER_CHARS
    assert loads(f"[{big}]") == [int(big)]
    assert loads("[1e308, -0.0]") == [1e308, -0.0]
