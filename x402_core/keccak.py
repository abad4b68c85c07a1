"""keccak-256 (Ethereum's, not NIST SHA3) and EIP-55 checksummed addresses, both fast.

safe-pysha3's C keccak is several times faster than eth_hash's backends; verification hashes
four to eight times per payment.
"""

from __future__ import annotations

from sha3 import keccak_256


def keccak(data: bytes) -> bytes:
    return keccak_256(data).digest()


def checksum_address(hex40: str) -> str:
    """EIP-55 spelling of a 20-byte address given as 40 hex digits (with or without 0x)."""
    lower = hex40.removeprefix("0x").lower()
    hashed = keccak_256(lower.encode("ascii")).hexdigest()
    return "0x" + "".join(
        c.upper() if c.isalpha() and int(h, 16) >= 8 else c
        for c, h in zip(lower, hashed[:40], strict=True)
    )
