"""Conformance reports shown beside the journal: a run's JSON report (`conformance ... --json`),
uploaded to the inspector, each check linked to the journal entries its evidence names.

A check's evidence names journal entries by what both carry: job ids, payment nonces (the key's
second half) and transaction hashes, also inside the x402 headers it quotes. Entries no longer in
the journal (a reset, or a run against another stack) cannot be linked, and the page says so.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from mock_server.journal_view import RESPONSE_HEADERS, Decoded, Facts, decoded_header
from x402_core.headers import PAYMENT_REQUIRED, PAYMENT_SIGNATURE, X_PAYMENT

KEPT_REPORTS = 5
MAX_REPORT_BYTES = 8 * 1024 * 1024
MAX_LINKS = 20
"""Entries linked from one check, at most (the first ones)."""
IDENTIFIER = re.compile(r"\bjob_[0-9a-f]{8,64}\b|\b0x[0-9a-fA-F]{64}\b")
QUOTED_HEADERS = RESPONSE_HEADERS | {
    name.lower() for name in (PAYMENT_REQUIRED, PAYMENT_SIGNATURE, X_PAYMENT)
}
MAX_DEPTH = 40


class CheckResult(BaseModel):
    """One graded check of a report, as `conformance --json` writes it."""

    model_config = ConfigDict(extra="ignore")

    id: Annotated[str, Field(max_length=64)]
    level: Annotated[str, Field(max_length=16)] = ""
    title: Annotated[str, Field(max_length=1000)] = ""
    spec: Annotated[str, Field(max_length=1000)] = ""
    outcome: Annotated[str, Field(max_length=16)]
    evidence: dict[str, Any] = Field(default_factory=dict)


class ConformanceReport(BaseModel):
    model_config = ConfigDict(extra="ignore")

    target: Annotated[str, Field(max_length=2000)] = ""
    seconds: float = 0.0
    results: Annotated[list[CheckResult], Field(max_length=5000)]


@dataclass(frozen=True, slots=True)
class Upload:
    number: int
    name: str
    received: float
    report: ConformanceReport


class Reports:
    """The last KEPT_REPORTS uploads, newest first."""

    def __init__(self) -> None:
        self._uploads: deque[Upload] = deque(maxlen=KEPT_REPORTS)
        self._count = 0
        self._lock = threading.Lock()

    def add(self, name: str, report: ConformanceReport) -> Upload:
        with self._lock:
            self._count += 1
            upload = Upload(self._count, name[:200], time.time(), report)
            self._uploads.appendleft(upload)
        return upload

    def all(self) -> list[Upload]:
        with self._lock:
            return list(self._uploads)

    @property
    def count(self) -> int:
        """Uploads ever received (changes whenever one arrives)."""
        return self._count


def identifiers(value: Any, depth: int = 0) -> set[str]:
    """Job ids, nonces and transaction hashes (lowercase) anywhere in a piece of evidence,
    inside the x402 headers it quotes too."""
    if depth > MAX_DEPTH:
        return set()
    if isinstance(value, str):
        return {found.lower() for found in IDENTIFIER.findall(value)}
    found: set[str] = set()
    if isinstance(value, dict):
        for name, item in value.items():
            if isinstance(item, str) and str(name).lower() in QUOTED_HEADERS:
                found |= identifiers(decoded_header(item), depth + 1)
            found |= identifiers(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            found |= identifiers(item, depth + 1)
    return found


def entry_identifiers(entry: Decoded, facts: Facts) -> set[str]:
    """What a journal entry can be recognised by in evidence."""
    found = set()
    job = facts.job_id_of(entry)
    if job:
        found.add(job.lower())
    if entry.key:
        found.add(entry.key.split(":", 1)[1])
    if isinstance(entry.payment_response, dict):
        transaction = entry.payment_response.get("transaction")
        if isinstance(transaction, str) and transaction:
            found.add(transaction.lower())
    return found


def identifier_index(entries: Iterable[Decoded], facts: Facts) -> dict[str, list[int]]:
    """Sequence numbers of the entries each identifier names."""
    index: dict[str, list[int]] = {}
    for entry in entries:
        for name in entry_identifiers(entry, facts):
            index.setdefault(name, []).append(entry.seq)
    return index


def linked_entries(result: CheckResult, index: Mapping[str, list[int]]) -> list[int]:
    """The journal entries a check's evidence names (sequence numbers, the first MAX_LINKS)."""
    seqs = {seq for name in identifiers(result.evidence) for seq in index.get(name, [])}
    return sorted(seqs)[:MAX_LINKS]
