"""Tampered payments: each changes one thing of a valid payment, and must be refused.

A vector builds its body from the payer, the clock and a nonce it is given, so that the same
inputs give the same body (nothing is computed at import, nothing random inside). The reason each
implementation gives is in `reasons.py`; whatever the reason, a tampered payment never verifies,
never settles and never causes a 5xx.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.catalog import Source, policy, spec_must, spec_should
from conformance.facilitator.payloads import (
    PRICE,
    TOKEN_DOMAIN,
    authorization,
    requirements_v1,
    requirements_v2,
    verify_body,
)
from x402_core.eip3009 import malleable_twin, sign_authorization
from x402_core.wallets import TestWallet, test_wallet

OTHER = "0x000000000000000000000000000000000000dEaD"
UNFUNDED_WALLET_INDEX = 900
"""A test wallet no backend funds: the insufficient-balance vector pays with it."""

Body = dict[str, Any] | bytes
Build = Callable[[TestWallet, int, bytes], Body]
"""(payer, now, nonce) -> the body sent to /verify and /settle."""


@dataclass(frozen=True, slots=True)
class Vector:
    check_id: str
    title: str
    source: Source
    build: Build


def _valid(payer: TestWallet, now: int, nonce: bytes, **changes: Any) -> dict[str, Any]:
    auth = authorization(payer, now=now, nonce=nonce, **changes)
    return verify_body(2, wallet=payer, auth=auth)


def _after_signing(**changes: Any) -> Build:
    """Change the authorization after it was signed: the signature stays the original's. A
    change may be a function of the clock."""

    def build(payer: TestWallet, now: int, nonce: bytes) -> Body:
        auth = authorization(payer, now=now, nonce=nonce)
        signature = sign_authorization(payer.private_key, TOKEN_DOMAIN, auth)
        values = {k: v(now) if callable(v) else v for k, v in changes.items()}
        return verify_body(
            2, wallet=payer, auth=dataclasses.replace(auth, **values), signature=signature
        )

    return build


def _domain(**changes: Any) -> Build:
    def build(payer: TestWallet, now: int, nonce: bytes) -> Body:
        auth = authorization(payer, now=now, nonce=nonce)
        domain = dataclasses.replace(TOKEN_DOMAIN, **changes)
        return verify_body(2, wallet=payer, auth=auth, domain=domain)

    return build


def _window(after: int, before: int) -> Build:
    def build(payer: TestWallet, now: int, nonce: bytes) -> Body:
        return _valid(payer, now, nonce, valid_after=now + after, valid_before=now + before)

    return build


def _requirements(**changes: Any) -> Build:
    """The server's requirements differ from what the payload accepted and signed."""

    def build(payer: TestWallet, now: int, nonce: bytes) -> Body:
        auth = authorization(payer, now=now, nonce=nonce)
        return verify_body(
            2,
            wallet=payer,
            auth=auth,
            requirements=requirements_v2(**changes),
            accepted=requirements_v2(),
        )

    return build


def _both(**changes: Any) -> Build:
    """Requirements and `accepted` agree, on something this facilitator must not settle."""

    def build(payer: TestWallet, now: int, nonce: bytes) -> Body:
        auth = authorization(payer, now=now, nonce=nonce)
        changed = requirements_v2(**changes)
        return verify_body(2, wallet=payer, auth=auth, requirements=changed, accepted=changed)

    return build


def _signature(change: Callable[[bytes], bytes | str]) -> Build:
    def build(payer: TestWallet, now: int, nonce: bytes) -> Body:
        body = _valid(payer, now, nonce)
        signature = bytes.fromhex(body["paymentPayload"]["payload"]["signature"][2:])
        changed = change(signature)
        text = changed if isinstance(changed, str) else "0x" + changed.hex()
        body["paymentPayload"]["payload"]["signature"] = text
        return body

    return build


def _flip_bit(signature: bytes) -> bytes:
    return signature[:5] + bytes([signature[5] ^ 1]) + signature[6:]


def _version(version: int) -> Build:
    def build(payer: TestWallet, now: int, nonce: bytes) -> Body:
        body = _valid(payer, now, nonce)
        body["x402Version"] = version
        body["paymentPayload"]["x402Version"] = version
        return body

    return build


def _v1(value: int = PRICE, **changes: Any) -> Build:
    def build(payer: TestWallet, now: int, nonce: bytes) -> Body:
        auth = authorization(payer, now=now, nonce=nonce, value=value)
        return verify_body(1, wallet=payer, auth=auth, requirements=requirements_v1(**changes))

    return build


def _unfunded(payer: TestWallet, now: int, nonce: bytes) -> Body:
    return _valid(test_wallet(UNFUNDED_WALLET_INDEX), now, nonce)


def _without(*path: str) -> Build:
    def build(payer: TestWallet, now: int, nonce: bytes) -> Body:
        body = _valid(payer, now, nonce)
        parent: Any = body
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]
        return body

    return build


def _huge_value(payer: TestWallet, now: int, nonce: bytes) -> Body:
    body = _valid(payer, now, nonce)
    body["paymentPayload"]["payload"]["authorization"]["value"] = str(2**256)
    return body


def _not_json(payer: TestWallet, now: int, nonce: bytes) -> Body:
    return b"{not json"


SIGNATURE = spec_must("scheme_exact_evm.md §1 Phase 2.1: the signature recovers to from")
TERMS = spec_must("x402-specification-v2.md §6.1.2 Amount Validation, Parameter Matching")
TOKEN = spec_must("scheme_exact_evm.md §1 Phase 2.4: the token and network match")
WINDOW = spec_must("x402-specification-v2.md §6.1.2 Time Window Check")
BALANCE = spec_must("scheme_exact_evm.md §1 Phase 2.2: sufficient balance")
VERSION = spec_must("x402-specification-v2.md §5.1.2 x402Version must be 2")
SUPPORTED = spec_must("x402-specification-v2.md §7.1 POST /verify; §9 unsupported_scheme")
MALFORMED = spec_should("x402-specification-v2.md §4 Response Types: an invalid request, not 5xx")
ACCEPTED = policy("`accepted` is what the payer chose: it must be the requirements verified")

VECTORS: tuple[Vector, ...] = (
    Vector(
        "FAC-020",
        "refuses an authorization whose `from` was changed after signing",
        SIGNATURE,
        _after_signing(from_address=test_wallet(11).address),
    ),
    Vector(
        "FAC-021",
        "refuses an authorization to another recipient than payTo",
        TERMS,
        _after_signing(to=OTHER),
    ),
    Vector(
        "FAC-022",
        "refuses a value one unit above the amount",
        TERMS,
        _after_signing(value=PRICE + 1),
    ),
    Vector(
        "FAC-023",
        "refuses a value one unit below the amount",
        TERMS,
        _after_signing(value=PRICE - 1),
    ),
    Vector(
        "FAC-024",
        "refuses a validAfter changed after signing",
        SIGNATURE,
        _after_signing(valid_after=1),
    ),
    Vector(
        "FAC-025",
        "refuses a validBefore changed after signing",
        SIGNATURE,
        _after_signing(valid_before=lambda now: now + 200),
    ),
    Vector(
        "FAC-026",
        "refuses a nonce changed after signing",
        SIGNATURE,
        _after_signing(nonce=b"\x01" * 32),
    ),
    Vector("FAC-027", "refuses a signature with one bit flipped", SIGNATURE, _signature(_flip_bit)),
    Vector(
        "FAC-028", "refuses a high-s (malleable) signature", SIGNATURE, _signature(malleable_twin)
    ),
    Vector(
        "FAC-029",
        "refuses a signature of 64 bytes",
        spec_must("scheme_exact_evm.md §1 Phase 1: the 65-byte signature"),
        _signature(lambda s: s[:64]),
    ),
    Vector(
        "FAC-030",
        "refuses a signature that is not hex",
        SIGNATURE,
        _signature(lambda s: "0x" + "zz" * 65),
    ),
    Vector(
        "FAC-031", "refuses a signature under another chain id", SIGNATURE, _domain(chain_id=84532)
    ),
    Vector(
        "FAC-032",
        "refuses a signature under another verifying contract",
        SIGNATURE,
        _domain(verifying_contract=OTHER),
    ),
    Vector(
        "FAC-033", "refuses a signature under another token name", SIGNATURE, _domain(name="USDC")
    ),
    Vector(
        "FAC-034",
        "refuses a signature under another token version",
        SIGNATURE,
        _domain(version="1"),
    ),
    Vector("FAC-035", "refuses requirements naming another asset", TOKEN, _both(asset=OTHER)),
    Vector(
        "FAC-036",
        "refuses `accepted` that differs from the requirements' payTo",
        ACCEPTED,
        _requirements(pay_to=OTHER),
    ),
    Vector(
        "FAC-037",
        "refuses `accepted` that differs from the requirements' amount",
        ACCEPTED,
        _requirements(amount=str(PRICE * 2)),
    ),
    Vector(
        "FAC-038",
        "refuses requirements whose extra.name is not the token's",
        TOKEN,
        _both(extra={"name": "USDC", "version": "2"}),
    ),
    Vector(
        "FAC-039",
        "refuses requirements whose extra.version is not the token's",
        TOKEN,
        _both(extra={"name": "USD Coin", "version": "1"}),
    ),
    Vector(
        "FAC-040",
        "refuses requirements without the EIP-712 domain in extra",
        TOKEN,
        _both(extra=None),
    ),
    Vector(
        "FAC-041",
        "refuses an authorization not valid yet (validAfter in 60 s)",
        WINDOW,
        _window(60, 240),
    ),
    Vector(
        "FAC-042",
        "refuses an expired authorization (validBefore a second ago)",
        WINDOW,
        _window(-120, -1),
    ),
    Vector(
        "FAC-043",
        "refuses a window longer than maxTimeoutSeconds (+120 s)",
        policy("maxTimeoutSeconds bounds the window (the spec and both SDKs allow longer)"),
        _window(-60, 420),
    ),
    Vector("FAC-045", "refuses a payer whose balance is below the value", BALANCE, _unfunded),
    Vector("FAC-046", "refuses an unsupported scheme", SUPPORTED, _both(scheme="upto")),
    Vector("FAC-047", "refuses an unsupported network", TOKEN, _both(network="eip155:1")),
    Vector("FAC-048", "refuses an unknown x402Version", VERSION, _version(99)),
    Vector(
        "FAC-049",
        "refuses `accepted` with another maxTimeoutSeconds",
        ACCEPTED,
        _requirements(max_timeout_seconds=60),
    ),
    Vector(
        "FAC-050",
        "v1: refuses a value other than maxAmountRequired",
        policy("exactly the amount, as both SDKs check (v1's prose says 'meets or exceeds')"),
        _v1(value=PRICE + 1),
    ),
    Vector(
        "FAC-051",
        "v1: refuses requirements on another network than the payload's",
        TOKEN,
        _v1(network="base-sepolia"),
    ),
    Vector("FAC-053", "refuses a body that is not JSON without a 5xx", MALFORMED, _not_json),
    Vector(
        "FAC-054",
        "refuses a body without paymentPayload without a 5xx",
        MALFORMED,
        _without("paymentPayload"),
    ),
    Vector("FAC-055", "refuses a value above uint256 without a 5xx", MALFORMED, _huge_value),
    Vector(
        "FAC-056",
        "refuses an authorization without a nonce without a 5xx",
        MALFORMED,
        _without("paymentPayload", "payload", "authorization", "nonce"),
    ),
)

V1_VECTORS = frozenset({"FAC-050", "FAC-051"})
"""Vectors paid in x402 v1: not applicable to a facilitator that does not list v1."""
