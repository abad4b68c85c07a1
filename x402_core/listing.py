"""A paid endpoint's description, loaded from a listing file in the x402 index's shape: what the
mock serves and what server conformance checks expect."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from x402_core.networks import Network, network_by_v1_name


class ListingError(ValueError):
    """A listing file that cannot describe a paid endpoint."""


@dataclass(frozen=True, slots=True)
class Listing:
    """What a client must pay and send: price, payee, asset, timeout, input and output schemas."""

    title: str
    description: str
    path: str
    method: str
    network: Network
    asset: str
    pay_to: str
    amount: int
    max_timeout_seconds: int
    body_fields: dict[str, dict[str, Any]]
    output_schema: dict[str, Any]

    @property
    def extra(self) -> dict[str, str]:
        return self.network.usdc.extra()


def load_listing(path: Path) -> Listing:
    """Read a listing file; ListingError names what is missing or wrong."""
    try:
        data = json.loads(path.read_text())
        offer = data["accepts"][0]
        hints = offer["hints"]
        listing = Listing(
            title=data["title"],
            description=data.get("description") or data.get("summary", ""),
            path=urlsplit(data["url"]).path,
            method=hints["input"]["method"].upper(),
            network=network_by_v1_name(offer["network"]),
            asset=offer["asset"],
            pay_to=offer["pay_to"],
            amount=int(offer["max_amount_required_atomic"]),
            max_timeout_seconds=int(offer["max_timeout_seconds"]),
            body_fields=hints["input"]["bodyFields"],
            output_schema=hints["output"],
        )
    except (OSError, json.JSONDecodeError) as exc:
        raise ListingError(f"cannot read listing {path}: {exc}") from exc
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ListingError(f"listing {path} lacks or misstates {exc}") from exc
    if listing.asset.lower() != listing.network.usdc.address.lower():
        raise ListingError(
            f"listing {path}: asset {listing.asset} is not USDC on {listing.network.name}"
        )
    return listing
