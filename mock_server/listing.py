"""The listing the mock serves unless told otherwise: xGen's image generation endpoint."""

from pathlib import Path

DEFAULT_LISTING = Path(__file__).parent / "listings" / "xgen-images-generate.json"
