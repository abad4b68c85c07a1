"""Everything the server saw and said, in order: what conformance checks are computed from."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MAX_BODY_CHARS = 16 * 1024


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    time: float
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: str
    payment: dict[str, Any] | None
    """The decoded payment payload, when the request carried one that decodes."""
    payment_version: int | None
    status: int
    response_headers: dict[str, str]
    response_body: str
    duration_ms: float


class Journal:
    """A bounded in-memory record, optionally also appended to a JSON-lines file."""

    def __init__(self, max_entries: int = 10_000, path: Path | None = None) -> None:
        self._entries: deque[Entry] = deque(maxlen=max_entries)
        self._seq = 0
        self._lock = threading.Lock()
        self._path = path

    def record(self, **fields: Any) -> Entry:
        with self._lock:
            self._seq += 1
            entry = Entry(seq=self._seq, time=time.time(), **fields)
            self._entries.append(entry)
            if self._path is not None:
                with self._path.open("a") as out:
                    out.write(json.dumps(asdict(entry)) + "\n")
        return entry

    def entries(self, since: int = 0) -> list[Entry]:
        with self._lock:
            return [e for e in self._entries if e.seq > since]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def text_of(body: bytes) -> str:
    """A body as journal text: decoded, and cut at MAX_BODY_CHARS."""
    text = body[: MAX_BODY_CHARS * 4].decode("utf-8", errors="replace")
    return text if len(text) <= MAX_BODY_CHARS else text[:MAX_BODY_CHARS] + "…[truncated]"
