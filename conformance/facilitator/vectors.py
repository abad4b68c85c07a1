"""Tampered payments: each changes one thing of a valid payment, with the refusal it must get.

The expected reason depends on whose facilitator is graded: `ours` holds the simulator's exact
strings, `x402-sdk` the official SDK's where it has one (None: any refusal), `any` only asks for a
refusal. Either way a tampered payment never verifies, never settles and never causes a 5xx.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.facilitator.payloads import (
    PRICE,
    TOKEN_DOMAIN,
    authorization,
    requirements_v1,
    requirements_v2,
    verify_body,
)
from x402_core.eip3009 import malleable_twin, sign_authorization
from x402_core.reasons import Reason
from x402_core.wallets import TestWallet, test_wallet

OTHER = "0x000000000000000000000000000000000000dEaD"
REASON_TABLES = ("ours", "x402-sdk", "any")

Body = dict[str, Any] | bytes
Build = Callable[[TestWallet], Body]


@dataclass(frozen=True, slots=True)
class Vector:
    check_id: str
    title: str
    spec: str
    build: Build
    ours: Reason | None
    """None: a 400 or any refusal (malformed bodies: the reason is the parser's to choose)."""
    sdk: Reason | None = None

    def expected(self, table: str) -> Reason | None:
        return {"ours": self.ours, "x402-sdk": self.sdk, "any": None}[table]


def _after_signing(**changes: Any) -> Build:
    """Change the authorization after it was signed: the signature stays the original's."""

    def build(payer: TestWallet) -> Body:
        auth = authorization(payer)
        signature = sign_authorization(payer.private_key, TOKEN_DOMAIN, auth)
        return verify_body(
            2, wallet=payer, auth=dataclasses.replace(auth, **changes), signature=signature
        )

    return build


def _domain(**changes: Any) -> Build:
    return lambda payer: verify_body(
        2, wallet=payer, domain=dataclasses.replace(TOKEN_DOMAIN, **changes)
    )


def _signed(**changes: Any) -> Build:
    """A correctly signed authorization that says something else."""
    return lambda payer: verify_body(2, wallet=payer, auth=authorization(payer, **changes))


def _window(after: int, before: int) -> Build:
    def build(payer: TestWallet) -> Body:
        now = int(time.time())
        auth = authorization(payer, valid_after=now + after, valid_before=now + before)
        return verify_body(2, wallet=payer, auth=auth)

    return build


def _requirements(**changes: Any) -> Build:
    """The server's requirements differ from what the payload accepted and signed."""
    return lambda payer: verify_body(
        2, wallet=payer, requirements=requirements_v2(**changes), accepted=requirements_v2()
    )


def _both(**changes: Any) -> Build:
    """Requirements and `accepted` agree, on something this facilitator must not settle."""
    return lambda payer: verify_body(
        2,
        wallet=payer,
        requirements=requirements_v2(**changes),
        accepted=requirements_v2(**changes),
    )


def _signature(change: Callable[[bytes], bytes | str]) -> Build:
    def build(payer: TestWallet) -> Body:
        body = verify_body(2, wallet=payer)
        signature = bytes.fromhex(body["paymentPayload"]["payload"]["signature"][2:])
        changed = change(signature)
        text = changed if isinstance(changed, str) else "0x" + changed.hex()
        body["paymentPayload"]["payload"]["signature"] = text
        return body

    return build


def _flip_bit(signature: bytes) -> bytes:
    return signature[:5] + bytes([signature[5] ^ 1]) + signature[6:]


def _version(version: int) -> Build:
    def build(payer: TestWallet) -> Body:
        body = verify_body(2, wallet=payer)
        body["x402Version"] = version
        body["paymentPayload"]["x402Version"] = version
        return body

    return build


def _v1(**changes: Any) -> Build:
    return lambda payer: verify_body(1, wallet=payer, requirements=requirements_v1(**changes))


def _v1_value(value: int) -> Build:
    return lambda payer: verify_body(1, wallet=payer, auth=authorization(payer, value=value))


def _unfunded(payer: TestWallet) -> Body:
    return verify_body(2, wallet=test_wallet(900))


def _without(*path: str) -> Build:
    def build(payer: TestWallet) -> Body:
        body = verify_body(2, wallet=payer)
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]
        return body

    return build


def _huge_value(payer: TestWallet) -> Body:
    body = verify_body(2, wallet=payer)
    body["paymentPayload"]["payload"]["authorization"]["value"] = str(2**256)
    return body


SIG = Reason.SIGNATURE
EIP3009 = "scheme_exact_evm.md §1 Phase 2: Verification Logic"
WINDOW = "x402-specification-v2.md §6.1.2 Time Window Check"
FAC_API = "x402-specification-v2.md §7.1 POST /verify, §9 Error Handling"

VECTORS: tuple[Vector, ...] = (
    Vector(
        "FAC-020",
        "refuses an authorization whose `from` was changed after signing",
        EIP3009,
        _after_signing(from_address=test_wallet(11).address),
        SIG,
        SIG,
    ),
    Vector(
        "FAC-021",
        "refuses an authorization to another recipient than payTo",
        EIP3009,
        _after_signing(to=OTHER),
        Reason.RECIPIENT_MISMATCH,
        Reason.RECIPIENT_MISMATCH,
    ),
    Vector(
        "FAC-022",
        "refuses a value one unit above the amount",
        EIP3009,
        _after_signing(value=PRICE + 1),
        Reason.VALUE_MISMATCH,
        Reason.VALUE_MISMATCH,
    ),
    Vector(
        "FAC-023",
        "refuses a value one unit below the amount",
        EIP3009,
        _after_signing(value=PRICE - 1),
        Reason.VALUE_MISMATCH,
        Reason.VALUE_MISMATCH,
    ),
    Vector(
        "FAC-024",
        "refuses a validAfter changed after signing",
        EIP3009,
        _after_signing(valid_after=1),
        SIG,
        SIG,
    ),
    Vector(
        "FAC-025",
        "refuses a validBefore changed after signing",
        EIP3009,
        _after_signing(valid_before=int(time.time()) + 200),
        SIG,
        SIG,
    ),
    Vector(
        "FAC-026",
        "refuses a nonce changed after signing",
        EIP3009,
        _after_signing(nonce=b"\x01" * 32),
        SIG,
        SIG,
    ),
    Vector(
        "FAC-027",
        "refuses a signature with one bit flipped",
        EIP3009,
        _signature(_flip_bit),
        SIG,
        SIG,
    ),
    Vector(
        "FAC-028",
        "refuses a high-s (malleable) signature",
        EIP3009,
        _signature(malleable_twin),
        SIG,
        SIG,
    ),
    Vector(
        "FAC-029",
        "refuses a signature of 64 bytes",
        EIP3009,
        _signature(lambda s: s[:64]),
        SIG,
        None,
    ),
    Vector(
        "FAC-030",
        "refuses a signature that is not hex",
        EIP3009,
        _signature(lambda s: "0x" + "zz" * 65),
        None,
        None,
    ),
    Vector(
        "FAC-031",
        "refuses a signature under another chain id",
        EIP3009,
        _domain(chain_id=84532),
        SIG,
        SIG,
    ),
    Vector(
        "FAC-032",
        "refuses a signature under another verifying contract",
        EIP3009,
        _domain(verifying_contract=OTHER),
        SIG,
        SIG,
    ),
    Vector(
        "FAC-033",
        "refuses a signature under another token name",
        EIP3009,
        _domain(name="USDC"),
        SIG,
        SIG,
    ),
    Vector(
        "FAC-034",
        "refuses a signature under another token version",
        EIP3009,
        _domain(version="1"),
        SIG,
        SIG,
    ),
    Vector(
        "FAC-035",
        "refuses requirements naming another asset",
        EIP3009,
        _both(asset=OTHER),
        Reason.INVALID_PAYMENT_REQUIREMENTS,
    ),
    Vector(
        "FAC-036",
        "refuses `accepted` that differs from the requirements' payTo",
        FAC_API,
        _requirements(pay_to=OTHER),
        Reason.ACCEPTED_MISMATCH,
    ),
    Vector(
        "FAC-037",
        "refuses `accepted` that differs from the requirements' amount",
        FAC_API,
        _requirements(amount=str(PRICE * 2)),
        Reason.ACCEPTED_MISMATCH,
    ),
    Vector(
        "FAC-038",
        "refuses requirements whose extra.name is not the token's",
        EIP3009,
        _both(extra={"name": "USDC", "version": "2"}),
        Reason.TOKEN_NAME_MISMATCH,
        Reason.TOKEN_NAME_MISMATCH,
    ),
    Vector(
        "FAC-039",
        "refuses requirements whose extra.version is not the token's",
        EIP3009,
        _both(extra={"name": "USD Coin", "version": "1"}),
        Reason.TOKEN_VERSION_MISMATCH,
        Reason.TOKEN_VERSION_MISMATCH,
    ),
    Vector(
        "FAC-040",
        "refuses requirements without the EIP-712 domain in extra",
        EIP3009,
        _both(extra=None),
        Reason.MISSING_EIP712_DOMAIN,
        Reason.MISSING_EIP712_DOMAIN,
    ),
    Vector(
        "FAC-041",
        "refuses an authorization not valid yet (validAfter in 60 s)",
        WINDOW,
        _window(60, 240),
        Reason.VALID_AFTER,
        Reason.VALID_AFTER,
    ),
    Vector(
        "FAC-042",
        "refuses an expired authorization (validBefore a second ago)",
        WINDOW,
        _window(-120, -1),
        Reason.VALID_BEFORE,
        Reason.VALID_BEFORE,
    ),
    Vector(
        "FAC-043",
        "refuses a window longer than maxTimeoutSeconds (+120 s)",
        WINDOW,
        _window(-60, 420),
        Reason.VALID_BEFORE,
    ),
    Vector(
        "FAC-045",
        "refuses a payer whose balance is below the value",
        EIP3009,
        _unfunded,
        Reason.INSUFFICIENT_FUNDS,
        Reason.INSUFFICIENT_BALANCE,
    ),
    Vector(
        "FAC-046",
        "refuses an unsupported scheme",
        FAC_API,
        _both(scheme="upto"),
        Reason.UNSUPPORTED_SCHEME,
        Reason.UNSUPPORTED_SCHEME,
    ),
    Vector(
        "FAC-047",
        "refuses an unsupported network",
        FAC_API,
        _both(network="eip155:1"),
        Reason.INVALID_NETWORK,
    ),
    Vector(
        "FAC-048",
        "refuses an unknown x402Version",
        FAC_API,
        _version(99),
        Reason.INVALID_X402_VERSION,
    ),
    Vector(
        "FAC-049",
        "refuses `accepted` with another maxTimeoutSeconds",
        FAC_API,
        _requirements(max_timeout_seconds=60),
        Reason.ACCEPTED_MISMATCH,
    ),
    Vector(
        "FAC-050",
        "v1: refuses a value other than maxAmountRequired",
        EIP3009,
        _v1_value(PRICE + 1),
        Reason.VALUE_MISMATCH,
        Reason.VALUE_MISMATCH,
    ),
    Vector(
        "FAC-051",
        "v1: refuses requirements on another network than the payload's",
        FAC_API,
        _v1(network="base-sepolia"),
        Reason.INVALID_NETWORK,
    ),
    Vector(
        "FAC-053",
        "refuses a body that is not JSON without a 5xx",
        FAC_API,
        lambda payer: b"{not json",
        None,
    ),
    Vector(
        "FAC-054",
        "refuses a body without paymentPayload without a 5xx",
        FAC_API,
        _without("paymentPayload"),
        None,
    ),
    Vector("FAC-055", "refuses a value above uint256 without a 5xx", FAC_API, _huge_value, None),
    Vector(
        "FAC-056",
        "refuses an authorization without a nonce without a 5xx",
        FAC_API,
        _without("paymentPayload", "payload", "authorization", "nonce"),
        None,
    ),
)
