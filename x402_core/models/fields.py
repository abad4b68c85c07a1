"""Field types of both protocol versions: canonical amounts, addresses, nonces, signatures."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel

UINT256_MAX = 2**256 - 1
MAX_SIGNATURE_BYTES = 4096

_CANONICAL_UINT = re.compile(r"^(0|[1-9][0-9]{0,77})$", re.ASCII)
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$", re.ASCII)
_BYTES32 = re.compile(r"^0x[0-9a-fA-F]{64}$", re.ASCII)
_HEX = re.compile(r"^0x(?:[0-9a-fA-F]{2})+$", re.ASCII)


def _canonical_uint256(value: str) -> str:
    if not _CANONICAL_UINT.fullmatch(value) or int(value) > UINT256_MAX:
        raise ValueError(
            "must be a canonical decimal string of a uint256 (digits only, no sign, spaces, "
            "leading zeros or fractions)"
        )
    return value


def _address(value: str) -> str:
    if not _ADDRESS.fullmatch(value):
        raise ValueError("must be a 20-byte hex address: 0x followed by 40 hex digits")
    return value


def _bytes32(value: str) -> str:
    if not _BYTES32.fullmatch(value):
        raise ValueError("must be 32 bytes of hex: 0x followed by 64 hex digits")
    return value


def _signature_hex(value: str) -> str:
    if not _HEX.fullmatch(value) or len(value) > 2 + 2 * MAX_SIGNATURE_BYTES:
        raise ValueError(f"must be 0x-prefixed hex of whole bytes, at most {MAX_SIGNATURE_BYTES}")
    return value


def _schema(regex: re.Pattern[str], **extra: int) -> WithJsonSchema:
    """The JSON schema of a checked string (OpenAPI documents show the pattern it must match)."""
    return WithJsonSchema({"type": "string", "pattern": regex.pattern, **extra})


Uint256 = Annotated[str, AfterValidator(_canonical_uint256), _schema(_CANONICAL_UINT)]
"""An amount or timestamp as x402 writes it: a canonical decimal string within uint256."""
Address = Annotated[str, AfterValidator(_address), _schema(_ADDRESS)]
Bytes32 = Annotated[str, AfterValidator(_bytes32), _schema(_BYTES32)]
SignatureHex = Annotated[
    str, AfterValidator(_signature_hex), _schema(_HEX, maxLength=2 + 2 * MAX_SIGNATURE_BYTES)
]
TimeoutSeconds = Annotated[int, Field(ge=1, le=2**32)]


class WireModel(BaseModel):
    """Base of every wire model: strict types, camelCase aliases, unknown fields refused."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
    )

    def wire(self) -> dict[str, Any]:
        """The JSON-ready dict with wire (camelCase) names, unset optionals left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class TransferAuthorization(WireModel):
    """The EIP-3009 TransferWithAuthorization message, as carried in the payload."""

    from_: Address = Field(alias="from")
    to: Address
    value: Uint256
    valid_after: Uint256
    valid_before: Uint256
    nonce: Bytes32


class ExactEvmPayload(WireModel):
    """The `payload` of an `exact` EVM payment: the signed EIP-3009 authorization."""

    signature: SignatureHex
    authorization: TransferAuthorization
