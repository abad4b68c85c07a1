"""Files a person names on the command line, checked before anything starts."""

from __future__ import annotations

from pathlib import Path

from x402_harness.usage import UsageError


def require_folder_of(path: Path | None, named: str) -> None:
    """UsageError naming `named` when `path` is given and its folder does not exist."""
    if path is not None and not path.parent.is_dir():
        raise UsageError(
            f"{named} {path}: there is no folder {path.parent} to write it in; make it first"
        )
