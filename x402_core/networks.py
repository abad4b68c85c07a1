"""Networks and their USDC, in both spellings: v1 names (`base`) and CAIP-2 (`eip155:8453`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_CAIP2 = re.compile(r"^(?P<namespace>[-a-z0-9]{3,8}):(?P<reference>[-_a-zA-Z0-9]{1,32})$")


@dataclass(frozen=True, slots=True)
class Asset:
    """An ERC-20 token with EIP-3009, and the EIP-712 domain its signatures are made under."""

    address: str
    symbol: str
    decimals: int
    eip712_name: str
    eip712_version: str

    def extra(self) -> dict[str, str]:
        """The `extra` object of payment requirements: the token's EIP-712 domain."""
        return {"name": self.eip712_name, "version": self.eip712_version}


@dataclass(frozen=True, slots=True)
class Network:
    """An EVM network known by its v1 name and its CAIP-2 id."""

    name: str
    chain_id: int
    usdc: Asset

    @property
    def caip2(self) -> str:
        return f"eip155:{self.chain_id}"


BASE = Network(
    name="base",
    chain_id=8453,
    usdc=Asset("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "USDC", 6, "USD Coin", "2"),
)
BASE_SEPOLIA = Network(
    name="base-sepolia",
    chain_id=84532,
    usdc=Asset("0x036CbD53842c5426634e7929541eC2318f3dCF7e", "USDC", 6, "USDC", "2"),
)
NETWORKS: tuple[Network, ...] = (BASE, BASE_SEPOLIA)


class UnknownNetworkError(ValueError):
    """A network name or CAIP-2 id that this package does not know."""


def parse_caip2(value: str) -> tuple[str, str]:
    """Split a CAIP-2 chain id into (namespace, reference); ValueError when it is not one."""
    match = _CAIP2.fullmatch(value)
    if match is None:
        raise ValueError(f"not a CAIP-2 chain id: {value!r} (expected 'namespace:reference')")
    return match["namespace"], match["reference"]


def network_by_v1_name(name: str) -> Network:
    """The network called `name` in x402 v1 (`base`, `base-sepolia`)."""
    return _find(lambda n: n.name, name, "v1 network")


def network_by_caip2(caip2: str) -> Network:
    """The network with CAIP-2 id `caip2` (`eip155:8453`)."""
    return _find(lambda n: n.caip2, caip2, "CAIP-2 network")


def network_by_chain_id(chain_id: int) -> Network:
    """The network with EVM chain id `chain_id`."""
    return _find(lambda n: n.chain_id, chain_id, "chain id")


def _find(key: Callable[[Network], object], wanted: object, what: str) -> Network:
    for network in NETWORKS:
        if key(network) == wanted:
            return network
    known = ", ".join(str(key(n)) for n in NETWORKS)
    raise UnknownNetworkError(f"unknown {what} {wanted!r}; known: {known}")


def asset_on(network: Network, address: str) -> Asset | None:
    """The known asset at `address` on `network` (case-insensitive), or None."""
    return network.usdc if network.usdc.address.lower() == address.lower() else None
