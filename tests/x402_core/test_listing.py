"""The listing model: parsing the index's format, the requirements and checks it yields."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from x402_core.listing import (
    InputField,
    InputLocation,
    InvalidRequestError,
    ListingError,
    example_of,
    listing_from,
    parse_listing,
)
from x402_core.networks import BASE, BASE_SEPOLIA
from x402_core.xgen import XGEN_INDEX_ENTRY, xgen_listing

EXAMPLES_DIR = Path(__file__).parents[2] / "examples" / "listings"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.json"))


def test_xgen_listing_says_what_the_seed_says() -> None:
    listing = xgen_listing()
    assert (listing.path, listing.method, listing.location) == (
        "/v1/images/generate",
        "POST",
        InputLocation.BODY,
    )
    assert (listing.amount, listing.pay_to, listing.network) == (
        50_000,
        "0x8fd70c7f86454273fc2df8379dbf08a95ab103d3",
        BASE,
    )
    assert listing.extra == {"name": "USD Coin", "version": "2"}
    assert listing.is_job
    assert listing.requirements_v2().wire()["amount"] == "50000"
    v1 = listing.requirements_v1("http://127.0.0.1/v1/images/generate").wire()
    assert v1["maxAmountRequired"] == "50000"
    assert set(v1["outputSchema"]["input"]["bodyFields"]) == {
        "model",
        "prompt",
        "resolution",
        "aspect_ratio",
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_listing_loads_and_its_example_request_is_valid(path: Path) -> None:
    listing = parse_listing(path.read_text(), str(path))
    request = listing.example_request()
    assert listing.check_request(request) == request
    assert not listing.is_job
    assert isinstance(listing.example_output(request), dict)


def test_a_get_listing_on_base_sepolia_reads_query_strings_as_their_types() -> None:
    listing = parse_listing((EXAMPLES_DIR / "weather-base-sepolia.json").read_text())
    assert listing.location is InputLocation.QUERY
    assert listing.network is BASE_SEPOLIA
    assert listing.extra == {"name": "USDC", "version": "2"}
    assert listing.check_request({"city": "Porto", "days": "4"}) == {
        "city": "Porto",
        "days": 4,
        "units": "metric",
    }
    with pytest.raises(InvalidRequestError, match="days") as caught:
        listing.check_request({"city": "Porto", "days": "9"})
    assert caught.value.field == "days"
    with pytest.raises(InvalidRequestError, match="expected an integer"):
        listing.check_request({"city": "Porto", "days": "1" * 5000})


@pytest.mark.parametrize(
    ("request_data", "field", "words"),
    [
        ({"prompt": "p"}, "model", "model is required: one of"),
        ({"model": "nano-banana-2", "prompt": "  "}, "prompt", "non-empty"),
        ({"model": "nano-banana-2", "prompt": "p", "seed": 3}, "seed", "unknown field"),
        ({"model": "gpt", "prompt": "p"}, "model", "expected one of"),
        ({"model": "nano-banana-2", "prompt": "p" * 4001}, "prompt", "at most 4000"),
        ({"model": "nano-banana-2", "prompt": 7}, "prompt", "expected a string"),
    ],
)
def test_refusals_name_the_field_and_what_it_must_be(
    request_data: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(InvalidRequestError, match=words) as caught:
        xgen_listing().check_request(request_data)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d.pop("accepts"), "lacks 'accepts'"),
        (lambda d: d["accepts"][0].update(network="solana"), "unknown v1 network"),
        (lambda d: d["accepts"][0].update(asset="0x" + "11" * 20), "is not USDC"),
        (lambda d: d["accepts"][0].update(scheme="upto"), "only 'exact'"),
        (lambda d: d["accepts"][0].update(max_amount_required_atomic="-1"), "whole number"),
        (lambda d: d["accepts"][0]["hints"]["input"].update(method="TRACE"), "TRACE"),
        (lambda d: d.update(url="https://x.example"), "has no path"),
        (
            lambda d: d["accepts"][0]["hints"]["input"]["bodyFields"].update(x={"type": "date"}),
            "type 'date'",
        ),
    ],
)
def test_a_broken_listing_says_what_is_wrong(change: Any, words: str) -> None:
    data = copy.deepcopy(XGEN_INDEX_ENTRY)
    change(data)
    with pytest.raises(ListingError, match=words):
        listing_from(data, "test listing")


def test_listing_text_that_is_not_json() -> None:
    with pytest.raises(ListingError, match="not JSON"):
        parse_listing("{", "broken.json")


FIELDS = st.builds(
    InputField,
    name=st.sampled_from(["a", "b", "c"]),
    type=st.sampled_from(["string", "integer", "number", "boolean"]),
    required=st.booleans(),
)


@given(st.lists(FIELDS, min_size=1, max_size=3, unique_by=lambda f: f.name), st.booleans())
@settings(max_examples=60, derandomize=True)
def test_the_example_request_of_any_fields_is_accepted(
    fields: list[InputField], query: bool
) -> None:
    data = copy.deepcopy(XGEN_INDEX_ENTRY)
    hints = data["accepts"][0]["hints"]["input"]
    hints.pop("bodyFields")
    key = "queryParams" if query else "bodyFields"
    hints["method"] = "GET" if query else "POST"
    hints[key] = {f.name: {"type": f.type, "required": f.required} for f in fields}
    listing = listing_from(data)
    request = listing.example_request()
    assert listing.check_request(request) == request
    if query:  # what a URL carries: every value as text
        as_text = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in request.items()}
        assert listing.check_request(as_text) == request


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=10,
)


@given(JSON_VALUES)
@settings(max_examples=100, derandomize=True)
def test_check_request_refuses_anything_or_answers_a_valid_request(data: Any) -> None:
    listing = xgen_listing()
    try:
        checked = listing.check_request(data)
    except InvalidRequestError as exc:
        refusal = exc.message
    else:
        assert listing.check_request(checked) == checked
        return
    assert refusal


SCHEMAS = st.recursive(
    st.sampled_from(
        [{"type": "string"}, {"type": "integer", "minimum": 3}, {"type": "boolean"}, {}]
    ),
    lambda inner: (
        st.builds(lambda items: {"type": "array", "items": items}, inner)
        | st.builds(
            lambda props: {"type": "object", "properties": props},
            st.dictionaries(st.sampled_from(["x", "y"]), inner, max_size=2),
        )
    ),
    max_leaves=6,
)


@given(SCHEMAS)
@settings(max_examples=60, derandomize=True)
def test_example_of_a_schema_is_deterministic_and_of_its_type(schema: dict[str, Any]) -> None:
    value = example_of(schema, {})
    assert value == example_of(schema, {})
    expected = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}
    if "type" in schema:
        assert isinstance(value, expected[schema["type"]])
