"""A listing file read for a server or a command: `None` is xGen's endpoint, the default."""

from __future__ import annotations

from pathlib import Path

from x402_core.listing import Listing, ListingError, parse_listing
from x402_core.xgen import xgen_listing


def read_listing(path: Path | None) -> Listing:
    """The listing in `path` (the x402 index's format); ListingError, one line, when it cannot
    be read or does not describe a paid endpoint."""
    if path is None:
        return xgen_listing()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ListingError(f"cannot read listing {path}: {exc}") from exc
    return parse_listing(text, str(path))
