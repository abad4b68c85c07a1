"""Real PNG results: deterministic renderings of the prompt at the requested size and ratio."""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

LONG_SIDE = {"1K": 1024, "2K": 2048, "4K": 4096}
_RATIO = re.compile(r"([1-9][0-9]?):([1-9][0-9]?)")


@dataclass(frozen=True, slots=True)
class Picture:
    """What a completed job's image shows: xGen's request fields, or defaults for a job
    endpoint whose request has none of them."""

    prompt: str
    model: str
    resolution: str
    aspect_ratio: str

    @classmethod
    def of(cls, request: dict[str, Any]) -> Picture:
        prompt = request.get("prompt")
        resolution = request.get("resolution")
        ratio = request.get("aspect_ratio")
        return cls(
            prompt=prompt if isinstance(prompt, str) else json.dumps(request, sort_keys=True),
            model=str(request.get("model", "")),
            resolution=resolution if resolution in LONG_SIDE else "1K",
            aspect_ratio=ratio if isinstance(ratio, str) and _RATIO.fullmatch(ratio) else "1:1",
        )

    @property
    def size(self) -> tuple[int, int]:
        return image_size(self.resolution, self.aspect_ratio)

    def render(self, index: int = 1) -> bytes:
        return render_png(self.prompt, self.model, self.resolution, self.aspect_ratio, index)


def image_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """(width, height): the long side by resolution, the short by the ratio, a multiple of 8."""
    long_side = LONG_SIDE[resolution]
    w, h = (int(part) for part in aspect_ratio.split(":"))
    short = max(8, round(long_side * min(w, h) / max(w, h) / 8) * 8)
    return (long_side, short) if w >= h else (short, long_side)


def render_png(
    prompt: str, model: str, resolution: str, aspect_ratio: str, index: int = 1
) -> bytes:
    """A PNG drawn from a hash of the inputs: same inputs, same bytes."""
    width, height = image_size(resolution, aspect_ratio)
    seed = hashlib.sha256(f"{model}\x00{prompt}\x00{index}".encode()).digest()
    # Draw small, then scale up: the cost stays flat from 1K to 4K except for the PNG encoding.
    small_w, small_h = max(8, width // 32), max(8, height // 32)
    top, bottom = tuple(seed[0:3]), tuple(seed[3:6])
    base = Image.new("RGB", (small_w, small_h))
    draw = ImageDraw.Draw(base)
    for y in range(small_h):
        t = y / max(1, small_h - 1)
        color = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (small_w, y)], fill=color)
    for n in range(6):
        chunk = seed[6 + n * 4 : 10 + n * 4]
        cx, cy = chunk[0] * small_w // 256, chunk[1] * small_h // 256
        radius = 1 + chunk[2] * min(small_w, small_h) // 600
        fill = (chunk[3], chunk[0] ^ chunk[2], chunk[1] ^ chunk[3])
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=fill)
    image = base.filter(ImageFilter.SMOOTH).resize((width, height), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


class ImageCache:
    """Rendered PNGs by job and index, least recently used first out."""

    def __init__(self, max_items: int = 32) -> None:
        self._items: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._max = max_items
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int], render: Callable[[], bytes]) -> bytes:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        data = render()
        with self._lock:
            self._items[key] = data
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        return data

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def thumbnail_png(png: bytes, side: int) -> bytes:
    """A PNG scaled down to at most `side` pixels on its long side."""
    image = Image.open(io.BytesIO(png))
    image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
