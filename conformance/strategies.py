"""Hypothesis strategies for x402 payments and xGen requests (needs `hypothesis` installed).

Every choice, nonces included, is Hypothesis's own, so a failure shrinks and replays; nothing
here reads the clock. Time comes in as an argument: draw payments inside the test, with the
clock of the system under test at that moment.

    @given(data=st.data())
    def test_valid_bodies_verify(facilitator, data):
        body = data.draw(verify_bodies(now=facilitator.chain.now()))

    @given(data=st.data())
    def test_tampered_bodies_are_refused(facilitator, data):
        vector, body = data.draw(tampered_bodies(now=int(time.time())))
        expected = reason_table("ours").get(vector.check_id)   # None: any refusal

    @given(body=request_bodies(listing, valid=False))       # bodies the endpoint must 400
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from conformance.facilitator import payloads
from conformance.facilitator.vectors import VECTORS, Vector
from x402_core.listing import InputField, Listing
from x402_core.models import PaymentRequirementsV1, PaymentRequirementsV2
from x402_core.wallets import PAYER_INDEXES, TestWallet, test_wallet

__all__ = [
    "amounts",
    "funded_wallets",
    "nonces",
    "request_bodies",
    "requirements_v1",
    "requirements_v2",
    "tampered_bodies",
    "timeouts",
    "verify_bodies",
]

UINT256_MAX = 2**256 - 1


def amounts(max_value: int = UINT256_MAX) -> st.SearchStrategy[str]:
    """Canonical atomic amounts: decimal digits, no sign, no leading zeros, from 1 to
    `max_value`; shrinks towards "1". Never "0", never a fraction."""
    return st.integers(min_value=1, max_value=max_value).map(str)


def timeouts() -> st.SearchStrategy[int]:
    """maxTimeoutSeconds values from 1 s to a day; shrinks towards 1."""
    return st.integers(min_value=1, max_value=86_400)


def nonces() -> st.SearchStrategy[bytes]:
    """32-byte EIP-3009 nonces; shrinks towards all zeros. Two draws may repeat: a test that
    settles what it draws must make its nonces distinct itself."""
    return st.binary(min_size=32, max_size=32)


def requirements_v2() -> st.SearchStrategy[PaymentRequirementsV2]:
    """xGen's v2 requirements (Base USDC to xGen's payTo) at any amount and timeout."""
    return st.builds(
        lambda amount, timeout: payloads.requirements_v2(
            amount=amount, max_timeout_seconds=timeout
        ),
        amounts(10**12),
        timeouts(),
    )


def requirements_v1() -> st.SearchStrategy[PaymentRequirementsV1]:
    """xGen's v1 requirements at any maxAmountRequired and timeout."""
    return st.builds(
        lambda amount, timeout: payloads.requirements_v1(
            max_amount_required=amount, max_timeout_seconds=timeout
        ),
        amounts(10**12),
        timeouts(),
    )


def funded_wallets() -> st.SearchStrategy[TestWallet]:
    """The test wallets every harness backend funds (Anvil accounts 1–9); shrinks to account 1."""
    return st.sampled_from(list(PAYER_INDEXES)).map(test_wallet)


def verify_bodies(
    now: int, versions: tuple[int, ...] = (1, 2)
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid `/verify` bodies for xGen's price, signed by a funded wallet, valid at `now` (from a
    minute before it, for four minutes), in one of `versions`. Never tampered, never expired."""
    return st.builds(
        lambda wallet, version, nonce: payloads.verify_body(
            version, wallet=wallet, auth=payloads.authorization(wallet, now=now, nonce=nonce)
        ),
        funded_wallets(),
        st.sampled_from(versions),
        nonces(),
    )


def tampered_bodies(now: int) -> st.SearchStrategy[tuple[Vector, dict[str, Any] | bytes]]:
    """(vector, body): a payment valid at `now` with one thing changed, as `vector` says
    (`vector.title`); `reasons.reason_table(name).get(vector.check_id)` is the reason that
    implementation gives (None: any refusal). Shrinks towards the first vector."""
    return st.builds(
        lambda vector, wallet, nonce: (vector, vector.build(wallet, now, nonce)),
        st.sampled_from(VECTORS),
        funded_wallets(),
        nonces(),
    )


def request_bodies(listing: Listing, *, valid: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """Requests (JSON bodies or query parameters) for the listing's endpoint: valid ones (every
    required field, values from their enums, in their bounds, non-blank text), or, with
    `valid=False`, ones it must refuse with a 400 (a required field missing, a value off its
    enum, or a field of the wrong type). Shrinks towards the first allowed values."""
    fields = {f.name: f for f in listing.fields}
    valid_requests = st.fixed_dictionaries(
        {name: _valid_value(f) for name, f in fields.items() if f.required},
        optional={name: _valid_value(f) for name, f in fields.items() if not f.required},
    )
    if valid:
        return valid_requests
    required = [name for name, f in fields.items() if f.required]
    enumerated = [name for name, f in fields.items() if f.enum]
    wrong: list[st.SearchStrategy[dict[str, Any]]] = [
        st.tuples(valid_requests, st.sampled_from(sorted(fields))).map(
            lambda pair: {**pair[0], pair[1]: _wrong_type(fields[pair[1]])}
        )
    ]
    if required:
        wrong.append(
            st.tuples(valid_requests, st.sampled_from(required)).map(
                lambda pair: {k: v for k, v in pair[0].items() if k != pair[1]}
            )
        )
    if enumerated:
        wrong.append(
            st.tuples(valid_requests, st.sampled_from(enumerated), st.text(max_size=12))
            .filter(lambda triple: triple[2] not in (fields[triple[1]].enum or ()))
            .map(lambda triple: {**triple[0], triple[1]: triple[2]})
        )
    return st.one_of(wrong)


def _valid_value(f: InputField) -> st.SearchStrategy[Any]:
    if f.enum:
        return st.sampled_from(f.enum)
    if f.type == "boolean":
        return st.booleans()
    if f.type in ("integer", "number"):
        low = None if f.minimum is None else math.ceil(f.minimum)
        high = None if f.maximum is None else math.floor(f.maximum)
        return st.integers(min_value=low, max_value=high)
    longest = min(f.max_length or 200, 200)
    return st.text(min_size=1, max_size=longest).filter(lambda text: text.strip() != "")


def _wrong_type(f: InputField) -> Any:
    """A value of another JSON type than the field's."""
    return [f.name] if f.type == "string" else "not a number" if f.type != "boolean" else 7
