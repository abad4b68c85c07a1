"""Every reason string the harness gives: the x402 spec's, and the official SDK's finer ones."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why a payment was refused or failed; the value is the string on the wire."""

    # x402 specification (v1 and v2, "Error codes")
    INSUFFICIENT_FUNDS = "insufficient_funds"
    INVALID_NETWORK = "invalid_network"
    INVALID_PAYLOAD = "invalid_payload"
    INVALID_PAYMENT_REQUIREMENTS = "invalid_payment_requirements"
    INVALID_SCHEME = "invalid_scheme"
    UNSUPPORTED_SCHEME = "unsupported_scheme"
    INVALID_X402_VERSION = "invalid_x402_version"
    INVALID_TRANSACTION_STATE = "invalid_transaction_state"
    UNEXPECTED_VERIFY_ERROR = "unexpected_verify_error"
    UNEXPECTED_SETTLE_ERROR = "unexpected_settle_error"
    VALID_AFTER = "invalid_exact_evm_payload_authorization_valid_after"
    VALID_BEFORE = "invalid_exact_evm_payload_authorization_valid_before"
    VALUE_MISMATCH = "invalid_exact_evm_payload_authorization_value_mismatch"
    SIGNATURE = "invalid_exact_evm_payload_signature"
    RECIPIENT_MISMATCH = "invalid_exact_evm_payload_recipient_mismatch"
    # official x402 SDK's finer codes (mechanisms/evm constants)
    NONCE_ALREADY_USED = "invalid_exact_evm_nonce_already_used"
    INSUFFICIENT_BALANCE = "invalid_exact_evm_insufficient_balance"
    MISSING_EIP712_DOMAIN = "missing_eip712_domain"
    NETWORK_MISMATCH = "network_mismatch"
    TOKEN_NAME_MISMATCH = "invalid_exact_evm_token_name_mismatch"
    TOKEN_VERSION_MISMATCH = "invalid_exact_evm_token_version_mismatch"
    SIMULATION_FAILED = "invalid_exact_evm_transaction_simulation_failed"
    TRANSACTION_FAILED = "transaction_failed"
    SETTLEMENT_PENDING = "settlement_pending"
    # the harness's own, where neither has a word: the payload's `accepted` is not what was offered
    ACCEPTED_MISMATCH = "invalid_exact_evm_payload_accepted_mismatch"
    ASSET_MISMATCH = "invalid_exact_evm_payload_asset_mismatch"
    # header codec failures (the request never reached a facilitator)
    HEADER_TOO_LARGE = "invalid_payment_header_too_large"
    HEADER_BAD_BASE64 = "invalid_payment_header_base64"
    HEADER_BAD_JSON = "invalid_payment_header_json"
    # facilitator unreachable from the resource server
    FACILITATOR_UNAVAILABLE = "facilitator_unavailable"
    # the payment-identifier extension: an id that is malformed or missing where required (400),
    # an id already used for another payment (409 at a server; a refusal at the facilitator)
    INVALID_PAYMENT_IDENTIFIER = "invalid_payment_identifier"
    PAYMENT_IDENTIFIER_CONFLICT = "payment_identifier_conflict"
