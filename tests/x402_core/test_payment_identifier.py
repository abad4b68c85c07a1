"""The payment-identifier's id: exactly 16 to 128 letters, digits, '-' and '_'; read from a
payload's extensions, echoed by a client into the server's declaration."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from x402_core.payment_identifier import (
    PAYMENT_IDENTIFIER,
    IdentifierError,
    declaration,
    echoed,
    identifier_in,
    is_required,
    is_valid_id,
    new_id,
)

ALLOWED = string.ascii_letters + string.digits + "-_"


@settings(derandomize=True)
@given(st.text(alphabet=ALLOWED, min_size=16, max_size=128))
def test_ids_of_the_allowed_characters_and_lengths_are_read(value: str) -> None:
    extensions = echoed({PAYMENT_IDENTIFIER: declaration(False)}, value)
    assert is_valid_id(value)
    assert identifier_in(extensions) == value


@settings(derandomize=True)
@given(
    st.one_of(
        st.text(alphabet=ALLOWED, max_size=15),
        st.text(alphabet=ALLOWED, min_size=129, max_size=300),
        st.text(min_size=16, max_size=128).filter(lambda t: any(c not in ALLOWED for c in t)),
        st.integers(),
        st.lists(st.text()),
    )
)
def test_anything_else_is_refused_with_the_rule(value: object) -> None:
    extensions = {PAYMENT_IDENTIFIER: {"info": {"required": False, "id": value}}}
    assert not is_valid_id(value)
    with pytest.raises(IdentifierError, match="16 to 128 characters"):
        identifier_in(extensions)


def test_no_extension_or_no_id_is_no_id_and_a_broken_extension_is_refused() -> None:
    assert identifier_in(None) is None
    assert identifier_in({PAYMENT_IDENTIFIER: declaration(True)}) is None
    with pytest.raises(IdentifierError, match="'info' object"):
        identifier_in({PAYMENT_IDENTIFIER: "pay_0123456789abcdef"})


def test_echo_adds_the_id_only_to_a_declared_extension() -> None:
    assert echoed({"bazaar": {"info": {}}}, "pay_0123456789abcdef") == {"bazaar": {"info": {}}}
    sent = echoed({PAYMENT_IDENTIFIER: declaration(True)}, "pay_0123456789abcdef")
    assert sent[PAYMENT_IDENTIFIER]["info"] == {"required": True, "id": "pay_0123456789abcdef"}
    assert is_required(sent)
    assert not is_required({PAYMENT_IDENTIFIER: declaration(False)})
    assert is_valid_id(new_id())
    assert new_id() != new_id()
