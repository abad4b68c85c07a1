"""The reason each facilitator implementation gives when it refuses: one table per implementation.

A table maps a check id to the reason that implementation must give (None, or a missing id: any
refusal will do, because the implementation leaves it to whoever serves it over HTTP). Each table
is built from that implementation's own constants: this harness's `Reason`, the official Python
SDK's `x402.mechanisms.evm.constants` (imported), the official TypeScript SDK's strings (read from
its package). Whatever the table, a refused payment never verifies, never settles, never 5xx.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from x402_core.reasons import Reason

ReasonTable = Mapping[str, str | None]

TAMPERED_SIGNATURE: tuple[str, ...] = (
    "FAC-020", "FAC-024", "FAC-025", "FAC-026", "FAC-027", "FAC-031", "FAC-032", "FAC-033",
    "FAC-034",
)  # fmt: skip
"""Vectors whose only flaw is a signature that does not match what it signs."""


class ReasonTableError(ValueError):
    """An unknown table, or one whose implementation is not installed."""


def _ours() -> ReasonTable:
    return {
        **dict.fromkeys(TAMPERED_SIGNATURE, Reason.SIGNATURE),
        "FAC-008": Reason.NONCE_ALREADY_USED,
        "FAC-021": Reason.RECIPIENT_MISMATCH,
        "FAC-022": Reason.VALUE_MISMATCH,
        "FAC-023": Reason.VALUE_MISMATCH,
        "FAC-028": Reason.SIGNATURE,
        "FAC-029": Reason.SIGNATURE,
        "FAC-035": Reason.INVALID_PAYMENT_REQUIREMENTS,
        "FAC-036": Reason.ACCEPTED_MISMATCH,
        "FAC-037": Reason.ACCEPTED_MISMATCH,
        "FAC-038": Reason.TOKEN_NAME_MISMATCH,
        "FAC-039": Reason.TOKEN_VERSION_MISMATCH,
        "FAC-040": Reason.MISSING_EIP712_DOMAIN,
        "FAC-041": Reason.VALID_AFTER,
        "FAC-042": Reason.VALID_BEFORE,
        "FAC-043": Reason.VALID_BEFORE,
        "FAC-044": Reason.NONCE_ALREADY_USED,
        "FAC-045": Reason.INSUFFICIENT_FUNDS,
        "FAC-046": Reason.UNSUPPORTED_SCHEME,
        "FAC-047": Reason.INVALID_NETWORK,
        "FAC-048": Reason.INVALID_X402_VERSION,
        "FAC-049": Reason.ACCEPTED_MISMATCH,
        "FAC-050": Reason.VALUE_MISMATCH,
        "FAC-051": Reason.INVALID_NETWORK,
        "FAC-052": Reason.NONCE_ALREADY_USED,
        "FAC-059": Reason.NONCE_ALREADY_USED,
    }


def _python_sdk() -> ReasonTable:
    """The official Python SDK (PyPI `x402`), from its own constants. Its exact-EVM facilitator
    checks recipient, value and the window before the signature, which it recovers under the
    requirements' `extra` and asset (so a wrong domain in the requirements reads as a bad
    signature); it re-broadcasts an authorization already settled, which reverts."""
    try:
        from x402.mechanisms.evm import constants as sdk
    except ImportError as exc:
        raise ReasonTableError(
            "--reasons python-sdk compares refusals with the official Python SDK's own constants: "
            "install it (pip install x402)"
        ) from exc
    return {
        **dict.fromkeys(TAMPERED_SIGNATURE, sdk.ERR_INVALID_SIGNATURE),
        "FAC-008": sdk.ERR_TRANSACTION_FAILED,
        "FAC-021": sdk.ERR_RECIPIENT_MISMATCH,
        "FAC-022": sdk.ERR_AUTHORIZATION_VALUE_MISMATCH,
        "FAC-023": sdk.ERR_AUTHORIZATION_VALUE_MISMATCH,
        "FAC-028": sdk.ERR_INVALID_SIGNATURE,  # from its simulation: the token refuses high s
        "FAC-029": sdk.ERR_UNDEPLOYED_SMART_WALLET,  # not 65 bytes: read as a smart wallet's
        "FAC-030": sdk.ERR_FAILED_TO_VERIFY_SIGNATURE,
        "FAC-035": sdk.ERR_INVALID_SIGNATURE,
        "FAC-036": sdk.ERR_RECIPIENT_MISMATCH,
        "FAC-037": sdk.ERR_AUTHORIZATION_VALUE_MISMATCH,
        "FAC-038": sdk.ERR_INVALID_SIGNATURE,
        "FAC-039": sdk.ERR_INVALID_SIGNATURE,
        "FAC-040": sdk.ERR_MISSING_EIP712_DOMAIN,
        "FAC-041": sdk.ERR_VALID_AFTER_FUTURE,
        "FAC-042": sdk.ERR_VALID_BEFORE_EXPIRED,
        "FAC-044": sdk.ERR_NONCE_ALREADY_USED,
        "FAC-045": sdk.ERR_INSUFFICIENT_BALANCE,
        "FAC-047": sdk.ERR_INVALID_SIGNATURE,  # eip155:* matches; the chain id is not the signed
        "FAC-050": sdk.ERR_AUTHORIZATION_VALUE_MISMATCH,
        "FAC-051": sdk.ERR_NETWORK_MISMATCH,
        "FAC-052": sdk.ERR_NONCE_ALREADY_USED,
        "FAC-059": sdk.ERR_NONCE_ALREADY_USED,
    }


# The official TypeScript SDK, npm `@x402/evm` 2.27.0: the strings of its
# src/exact/facilitator/errors.ts (dist/esm chunk of those constants), read from the package.
# Its v2 verify checks the signature first (under the requirements' extra), then the recipient,
# the window and the value; its v1 verify calls a wrong value invalid_exact_evm_authorization_value.
_TS_INVALID_SIGNATURE = "invalid_exact_evm_signature"
_TS_MISSING_EIP712_DOMAIN = "invalid_exact_evm_missing_eip712_domain"
_TS_VALID_AFTER = "invalid_exact_evm_payload_authorization_valid_after"
_TS_VALID_BEFORE = "invalid_exact_evm_payload_authorization_valid_before"
_TS_V1_VALUE = "invalid_exact_evm_authorization_value"
_TS_RECIPIENT_MISMATCH = "invalid_exact_evm_recipient_mismatch"
_TS_VALUE_MISMATCH = "invalid_exact_evm_payload_authorization_value_mismatch"
_TS_NONCE_ALREADY_USED = "invalid_exact_evm_nonce_already_used"
_TS_INSUFFICIENT_BALANCE = "invalid_exact_evm_insufficient_balance"


def _ts_sdk() -> ReasonTable:
    return {
        **dict.fromkeys(TAMPERED_SIGNATURE, _TS_INVALID_SIGNATURE),
        "FAC-021": _TS_INVALID_SIGNATURE,
        "FAC-022": _TS_INVALID_SIGNATURE,
        "FAC-023": _TS_INVALID_SIGNATURE,
        "FAC-035": _TS_INVALID_SIGNATURE,
        "FAC-036": _TS_RECIPIENT_MISMATCH,
        "FAC-037": _TS_VALUE_MISMATCH,
        "FAC-038": _TS_INVALID_SIGNATURE,
        "FAC-039": _TS_INVALID_SIGNATURE,
        "FAC-040": _TS_MISSING_EIP712_DOMAIN,
        "FAC-041": _TS_VALID_AFTER,
        "FAC-042": _TS_VALID_BEFORE,
        "FAC-044": _TS_NONCE_ALREADY_USED,
        "FAC-045": _TS_INSUFFICIENT_BALANCE,
        "FAC-050": _TS_V1_VALUE,
        "FAC-052": _TS_NONCE_ALREADY_USED,
        "FAC-059": _TS_NONCE_ALREADY_USED,
    }


TABLES: dict[str, Callable[[], ReasonTable]] = {
    "ours": _ours,
    "python-sdk": _python_sdk,
    "ts-sdk": _ts_sdk,
    "any": dict,
}
ALIASES = {"x402-sdk": "python-sdk"}
TABLE_NAMES = (*TABLES, *ALIASES)
"""What `--reasons` accepts: ours, python-sdk, ts-sdk, any, and x402-sdk (= python-sdk)."""


def reason_table(name: str) -> ReasonTable:
    """The table called `name` (an alias names another)."""
    build = TABLES.get(ALIASES.get(name, name))
    if build is None:
        raise ReasonTableError(f"reasons is {name!r}; expected one of {', '.join(TABLE_NAMES)}")
    return build()
