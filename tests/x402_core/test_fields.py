"""Wire field types: canonical uint256 strings, addresses, nonces, signatures; strict models."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.factories import requirements_v1, requirements_v2
from x402_core.models import PaymentRequirementsV1, PaymentRequirementsV2, TransferAuthorization
from x402_core.models.fields import UINT256_MAX

VALID_AUTH = {
    "from": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "to": "0x8fd70c7f86454273fc2df8379dbf08a95ab103d3",
    "value": "50000",
    "validAfter": "0",
    "validBefore": "1900000000",
    "nonce": "0x" + "ab" * 32,
}


def auth_with(**changes: object) -> dict[str, object]:
    return VALID_AUTH | changes


@given(st.integers(min_value=0, max_value=UINT256_MAX))
def test_every_uint256_in_canonical_form_is_accepted(value: int) -> None:
    assert TransferAuthorization.model_validate(auth_with(value=str(value))).value == str(value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-1",
        "+1",
        " 1",
        "1 ",
        "01",
        "00",
        "1_000",
        "1.0",
        "1e6",
        "0x10",
        "١٢",
        "１２",
        str(UINT256_MAX + 1),
        "NaN",
        "∞",
    ],
)
def test_non_canonical_amounts_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="canonical decimal"):
        TransferAuthorization.model_validate(auth_with(value=text))


@given(st.text(max_size=80))
def test_a_string_is_accepted_exactly_when_it_is_a_canonical_uint256(text: str) -> None:
    canonical = text.isascii() and text.isdigit() and str(int(text)) == text
    canonical = canonical and int(text) <= UINT256_MAX
    try:
        TransferAuthorization.model_validate(auth_with(value=text))
    except ValidationError:
        assert not canonical
    else:
        assert canonical


@pytest.mark.parametrize("number", [50000, 5e4, True])
def test_json_numbers_are_not_amount_strings(number: object) -> None:
    with pytest.raises(ValidationError):
        TransferAuthorization.model_validate(auth_with(value=number))


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("from", "0x1234"),
        ("from", "70997970C51812dc3A010C7d01b50e0d17dc79C8"),
        ("to", "0x" + "g" * 40),
        ("nonce", "0x" + "ab" * 31),
        ("nonce", "ab" * 32),
    ],
)
def test_addresses_and_nonces_have_exact_shapes(field: str, bad: str) -> None:
    with pytest.raises(ValidationError):
        TransferAuthorization.model_validate(auth_with(**{field: bad}))


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        TransferAuthorization.model_validate(auth_with(memo="hi"))


def test_mixed_version_fields_are_refused() -> None:
    v1 = requirements_v1().wire() | {"amount": "50000"}
    with pytest.raises(ValidationError):
        PaymentRequirementsV1.model_validate(v1)
    v2 = requirements_v2().wire() | {"maxAmountRequired": "50000"}
    with pytest.raises(ValidationError):
        PaymentRequirementsV2.model_validate(v2)


def test_wire_names_are_camel_case_and_round_trip() -> None:
    wire = requirements_v2().wire()
    assert {"payTo", "maxTimeoutSeconds"} <= wire.keys()
    assert PaymentRequirementsV2.model_validate(wire) == requirements_v2()
    auth = TransferAuthorization.model_validate(VALID_AUTH)
    assert auth.wire() == VALID_AUTH


@pytest.mark.parametrize(
    "changes",
    [
        {"from": VALID_AUTH["from"] + "\n"},
        {"to": VALID_AUTH["to"] + "\r\n"},
        {"value": "50000\n"},
        {"validBefore": "1900000000\n"},
        {"nonce": VALID_AUTH["nonce"] + "\n"},
    ],
)
def test_a_trailing_line_break_is_not_part_of_any_field(changes: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        TransferAuthorization.model_validate(auth_with(**changes))
