"""EIP-3009 `TransferWithAuthorization` under EIP-712: digest, signing and signer recovery.

The digest is computed directly (cached domain separator, struct hash from 32-byte words), not with
generic typed-data code, which is several times slower; coincurve does the secp256k1 work.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import lru_cache

import coincurve

from x402_core.keccak import checksum_address, keccak
from x402_core.models.fields import TransferAuthorization

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECP256K1_HALF_N = SECP256K1_N // 2

_DOMAIN_TYPEHASH = keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
TRANSFER_TYPEHASH = keccak(
    b"TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,"
    b"uint256 validBefore,bytes32 nonce)"
)
CANCEL_TYPEHASH = keccak(b"CancelAuthorization(address authorizer,bytes32 nonce)")


class SignatureError(ValueError):
    """A signature that cannot be recovered: wrong length, bad v, high s, or not on the curve."""


@dataclass(frozen=True, slots=True)
class Domain:
    """The EIP-712 domain of a token: what a signature is bound to."""

    name: str
    version: str
    chain_id: int
    verifying_contract: str


@dataclass(frozen=True, slots=True)
class Authorization:
    """A TransferWithAuthorization message with numbers as ints and the nonce as bytes."""

    from_address: str
    to: str
    value: int
    valid_after: int
    valid_before: int
    nonce: bytes

    @classmethod
    def from_wire(cls, wire: TransferAuthorization) -> Authorization:
        return cls(
            from_address=wire.from_,
            to=wire.to,
            value=int(wire.value),
            valid_after=int(wire.valid_after),
            valid_before=int(wire.valid_before),
            nonce=bytes.fromhex(wire.nonce[2:]),
        )

    def to_wire(self) -> TransferAuthorization:
        return TransferAuthorization(
            from_=checksum_address(self.from_address),
            to=checksum_address(self.to),
            value=str(self.value),
            valid_after=str(self.valid_after),
            valid_before=str(self.valid_before),
            nonce="0x" + self.nonce.hex(),
        )


def _word_address(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


def _word_uint(value: int) -> bytes:
    return value.to_bytes(32, "big")


@lru_cache(maxsize=256)
def domain_separator(domain: Domain) -> bytes:
    """keccak of the encoded EIP712Domain; cached, it is the same for every payment to a token."""
    return keccak(
        _DOMAIN_TYPEHASH
        + keccak(domain.name.encode())
        + keccak(domain.version.encode())
        + _word_uint(domain.chain_id)
        + _word_address(domain.verifying_contract)
    )


def _typed_digest(domain: Domain, struct_hash: bytes) -> bytes:
    return keccak(b"\x19\x01" + domain_separator(domain) + struct_hash)


@lru_cache(maxsize=8192)
def transfer_digest(domain: Domain, auth: Authorization) -> bytes:
    """The EIP-712 digest a payer signs for `auth`."""
    struct_hash = keccak(
        TRANSFER_TYPEHASH
        + _word_address(auth.from_address)
        + _word_address(auth.to)
        + _word_uint(auth.value)
        + _word_uint(auth.valid_after)
        + _word_uint(auth.valid_before)
        + auth.nonce.rjust(32, b"\x00")
    )
    return _typed_digest(domain, struct_hash)


def cancel_digest(domain: Domain, authorizer: str, nonce: bytes) -> bytes:
    """The EIP-712 digest of CancelAuthorization(authorizer, nonce)."""
    struct_hash = keccak(CANCEL_TYPEHASH + _word_address(authorizer) + nonce.rjust(32, b"\x00"))
    return _typed_digest(domain, struct_hash)


def sign_digest(private_key: bytes, digest: bytes) -> bytes:
    """A 65-byte r‖s‖v signature (v 27 or 28, s always low) of a 32-byte digest."""
    raw = coincurve.PrivateKey(private_key).sign_recoverable(digest, hasher=None)
    return raw[:64] + bytes([raw[64] + 27])


def sign_authorization(private_key: bytes, domain: Domain, auth: Authorization) -> bytes:
    return sign_digest(private_key, transfer_digest(domain, auth))


def split_signature(signature: bytes) -> tuple[int, bytes, bytes]:
    """(v, r, s) of a 65-byte signature, refusing what the token contract would refuse."""
    if len(signature) != 65:
        raise SignatureError(f"signature is {len(signature)} bytes; 65 (r, s, v) expected")
    r, s, v = signature[:32], signature[32:64], signature[64]
    if v not in (27, 28):
        raise SignatureError(f"signature v is {v}; 27 or 28 expected")
    s_int = int.from_bytes(s, "big")
    if s_int > SECP256K1_HALF_N:
        raise SignatureError("signature s is in the upper half of the curve order (malleable)")
    if s_int == 0 or int.from_bytes(r, "big") == 0:
        raise SignatureError("signature r or s is zero")
    return v, r, s


def malleable_twin(signature: bytes) -> bytes:
    """The other signature of the same digest and key: s mirrored (n - s) and v flipped.
    Exactly one of the two is low-s; tokens and this harness accept only that one."""
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signature[64]])


def recover_signer(digest: bytes, signature: bytes) -> str:
    """The checksummed address that signed `digest`; SignatureError when none can be recovered."""
    return checksum_address(recover_address(digest, signature))


@lru_cache(maxsize=8192)
def recover_address(digest: bytes, signature: bytes) -> str:
    """Like `recover_signer`, in lowercase hex: cheaper when the address is only compared.

    Cached: one payment is recovered at /verify, again at /settle and in the ledger's simulation.
    """
    v, r, s = split_signature(signature)
    try:
        public_key = coincurve.PublicKey.from_signature_and_message(
            r + s + bytes([v - 27]), digest, hasher=None
        )
    except Exception as exc:  # coincurve raises a bare Exception for points off the curve
        raise SignatureError(f"no public key recovers from this signature: {exc}") from exc
    return "0x" + keccak(public_key.format(compressed=False)[1:])[-20:].hex()


def address_of_public_key(public_key: coincurve.PublicKey) -> str:
    return checksum_address(keccak(public_key.format(compressed=False)[1:])[-20:].hex())


def address_of_key(private_key: bytes) -> str:
    """The checksummed address of a secp256k1 private key."""
    return address_of_public_key(coincurve.PrivateKey(private_key).public_key)


def random_nonce() -> bytes:
    """32 random bytes: an authorization nonce that no one will ever use again."""
    return secrets.token_bytes(32)


CLOCK_SKEW_SECONDS = 30
"""How far a payer backdates `validAfter`, so a facilitator whose clock lags still accepts it."""


def validity_window(now: int, max_timeout_seconds: int) -> tuple[int, int]:
    """(validAfter, validBefore) for a payment signed at `now`, valid for maxTimeoutSeconds."""
    return max(0, now - CLOCK_SKEW_SECONDS), now + max_timeout_seconds
