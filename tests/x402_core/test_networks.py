"""Networks in both spellings, and CAIP-2 parsing."""

from __future__ import annotations

import pytest

from x402_core.networks import (
    BASE,
    BASE_SEPOLIA,
    UnknownNetworkError,
    asset_on,
    network_by_caip2,
    network_by_chain_id,
    network_by_v1_name,
    parse_caip2,
)


def test_base_and_its_usdc() -> None:
    assert network_by_v1_name("base") is network_by_caip2("eip155:8453") is BASE
    assert network_by_chain_id(8453) is BASE
    assert BASE.usdc.address == "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
    assert (BASE.usdc.decimals, BASE.usdc.extra()) == (6, {"name": "USD Coin", "version": "2"})


def test_base_sepolia_has_another_domain_name() -> None:
    assert network_by_v1_name("base-sepolia") is network_by_caip2("eip155:84532") is BASE_SEPOLIA
    assert BASE_SEPOLIA.usdc.address == "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
    assert BASE_SEPOLIA.usdc.extra() == {"name": "USDC", "version": "2"}


@pytest.mark.parametrize("name", ["eip155:8453", "Base", "ethereum", ""])
def test_unknown_v1_names(name: str) -> None:
    with pytest.raises(UnknownNetworkError, match="known: base, base-sepolia"):
        network_by_v1_name(name)


@pytest.mark.parametrize("caip2", ["base", "eip155:1", "eip155:08453"])
def test_unknown_caip2(caip2: str) -> None:
    with pytest.raises(UnknownNetworkError):
        network_by_caip2(caip2)


def test_caip2_parsing() -> None:
    assert parse_caip2("eip155:8453") == ("eip155", "8453")
    assert parse_caip2("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp") == (
        "solana",
        "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
    )
    for bad in ("eip155", ":1", "EIP155:1", "eip155:", "a:b"):
        with pytest.raises(ValueError, match="CAIP-2"):
            parse_caip2(bad)


def test_asset_lookup_ignores_case() -> None:
    assert asset_on(BASE, BASE.usdc.address.lower()) is BASE.usdc
    assert asset_on(BASE, BASE_SEPOLIA.usdc.address) is None
