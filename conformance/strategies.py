"""Hypothesis strategies for x402 payments and xGen requests (needs `hypothesis` installed).

@given(body=verify_bodies())                 # a valid /verify body, signed by a test wallet
@given(case=tampered_bodies())               # (vector, body): vector.expected("ours") says why
@given(body=request_bodies(listing, valid=False))
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.facilitator import payloads
from conformance.facilitator.vectors import VECTORS, Vector
from x402_core.listing import Listing
from x402_core.models import PaymentRequirementsV1, PaymentRequirementsV2
from x402_core.wallets import PAYER_INDEXES, TestWallet, test_wallet

UINT256_MAX = 2**256 - 1


def amounts(max_value: int = UINT256_MAX) -> st.SearchStrategy[str]:
    """Canonical atomic amounts: decimal digits, no sign, no leading zeros."""
    return st.integers(min_value=1, max_value=max_value).map(str)


def timeouts() -> st.SearchStrategy[int]:
    return st.integers(min_value=1, max_value=86_400)


def requirements_v2() -> st.SearchStrategy[PaymentRequirementsV2]:
    return st.builds(
        lambda amount, timeout: payloads.requirements_v2(
            amount=amount, max_timeout_seconds=timeout
        ),
        amounts(10**12),
        timeouts(),
    )


def requirements_v1() -> st.SearchStrategy[PaymentRequirementsV1]:
    return st.builds(
        lambda amount, timeout: payloads.requirements_v1(
            max_amount_required=amount, max_timeout_seconds=timeout
        ),
        amounts(10**12),
        timeouts(),
    )


def funded_wallets() -> st.SearchStrategy[TestWallet]:
    """The test wallets every harness backend funds (Anvil accounts 1–9)."""
    return st.sampled_from(list(PAYER_INDEXES)).map(test_wallet)


def verify_bodies(versions: tuple[int, ...] = (1, 2)) -> st.SearchStrategy[dict[str, Any]]:
    """Valid `/verify` bodies for xGen's price, each with a fresh random nonce."""
    return st.builds(
        lambda wallet, version: payloads.verify_body(version, wallet=wallet),
        funded_wallets(),
        st.sampled_from(versions),
    )


def tampered_bodies() -> st.SearchStrategy[tuple[Vector, dict[str, Any] | bytes]]:
    """(vector, body): a valid payment with one thing changed; `vector.expected(table)` is the
    reason a facilitator must give (None: any refusal), `vector.title` what was changed."""
    return st.builds(
        lambda vector, wallet: (vector, vector.build(wallet)),
        st.sampled_from(VECTORS),
        funded_wallets(),
    )


def request_bodies(listing: Listing, *, valid: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """Bodies for the listing's endpoint: valid ones, or ones it must refuse with a 400."""
    fields = listing.body_fields
    valid_bodies = st.fixed_dictionaries(
        {name: _valid_value(rule) for name, rule in fields.items() if rule.get("required")},
        optional={
            name: _valid_value(rule) for name, rule in fields.items() if not rule.get("required")
        },
    )
    if valid:
        return valid_bodies
    required = [name for name, rule in fields.items() if rule.get("required")]
    enumerated = [name for name, rule in fields.items() if "enum" in rule]
    missing = st.tuples(valid_bodies, st.sampled_from(required)).map(
        lambda pair: {k: v for k, v in pair[0].items() if k != pair[1]}
    )
    off_enum = (
        st.tuples(valid_bodies, st.sampled_from(enumerated), st.text(max_size=12))
        .filter(lambda triple: triple[2] not in fields[triple[1]]["enum"])
        .map(lambda triple: {**triple[0], triple[1]: triple[2]})
    )
    wrong_type = st.tuples(valid_bodies, st.sampled_from(sorted(fields)), st.integers()).map(
        lambda triple: {**triple[0], triple[1]: triple[2]}
    )
    return st.one_of(missing, off_enum, wrong_type)


def _valid_value(rule: dict[str, Any]) -> st.SearchStrategy[str]:
    if "enum" in rule:
        return st.sampled_from(rule["enum"])
    return st.text(min_size=1, max_size=200).filter(lambda text: text.strip() != "")
