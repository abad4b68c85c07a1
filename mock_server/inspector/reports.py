"""Conformance reports shown beside the journal: a run's JSON report (`conformance ... --json`),
uploaded to the inspector, each check linked to the journal entries its evidence names.

A check's evidence names journal entries by what both carry: job ids, payment nonces (the key's
second half) and transaction hashes, also inside the x402 headers it quotes; and a request without
a payment that it quotes whole (method, URL, body and the answer's status). Entries no longer in
the journal (a reset, or a run against another stack) cannot be linked: the check shows none.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from mock_server.journal_view import (
    PAYMENT_HEADERS,
    RESPONSE_HEADERS,
    Decoded,
    Facts,
    decoded_header,
)
from x402_core.headers import PAYMENT_REQUIRED

KEPT_REPORTS = 5
MAX_REPORT_BYTES = 8 * 1024 * 1024
MAX_LINKS = 20
"""Entries linked from one check, at most (the first ones)."""
IDENTIFIER = re.compile(r"\bjob_[0-9a-f]{8,64}\b|\b0x[0-9a-fA-F]{64}\b")
QUOTED_HEADERS = RESPONSE_HEADERS | PAYMENT_HEADERS | {PAYMENT_REQUIRED.lower()}
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


CheckedReport = tuple[Upload, list[tuple[CheckResult, list[int]]]]
"""An upload with each check's linked journal entries (sequence numbers)."""


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


RequestShape = tuple[str, str, str, int, str]
"""(method, path, query, status, body as canonical JSON) of a request without a payment."""


def _shape(method: str, path: str, query: str, status: int, body: Any) -> RequestShape:
    return (method.upper(), path, query, status, json.dumps(body, sort_keys=True, default=str))


def requests_in(evidence: Any, depth: int = 0) -> list[RequestShape]:
    """Requests without a payment that evidence quotes with their answer's status (as
    `{"sent": {"request": "METHOD URL", "body": …}, "received": {"status": N}}`)."""
    if depth > MAX_DEPTH:
        return []
    found: list[RequestShape] = []
    if isinstance(evidence, dict):
        sent, received = evidence.get("sent"), evidence.get("received")
        if isinstance(sent, dict) and isinstance(received, dict):
            shape = _quoted_request(sent, received)
            found += [shape] if shape else []
        items: Iterable[Any] = evidence.values()
    elif isinstance(evidence, list):
        items = evidence
    else:
        return []
    for item in items:
        found += requests_in(item, depth + 1)
    return found


def _quoted_request(sent: dict[str, Any], received: dict[str, Any]) -> RequestShape | None:
    request, status = sent.get("request"), received.get("status")
    headers = sent.get("headers")
    names = headers if isinstance(headers, dict) else {}
    if not isinstance(request, str) or not isinstance(status, int) or " " not in request:
        return None
    if any(str(name).lower() in PAYMENT_HEADERS for name in names):
        return None  # a payment is recognised by its nonce instead
    method, url = request.split(" ", 1)
    parts = urlsplit(url)
    return _shape(method, parts.path, parts.query, status, sent.get("body"))


@dataclass(frozen=True, slots=True)
class EvidenceIndex:
    """Sequence numbers of the journal entries each identifier, or each unpaid request, names."""

    by_identifier: dict[str, list[int]]
    by_request: dict[RequestShape, list[int]]


def evidence_index(entries: Iterable[Decoded], facts: Facts) -> EvidenceIndex:
    by_identifier: dict[str, list[int]] = {}
    by_request: dict[RequestShape, list[int]] = {}
    for entry in entries:
        for name in entry_identifiers(entry, facts):
            by_identifier.setdefault(name, []).append(entry.seq)
        if entry.payment is None:
            shape = _shape(entry.method, entry.path, entry.query, entry.status, entry.request_body)
            by_request.setdefault(shape, []).append(entry.seq)
    return EvidenceIndex(by_identifier, by_request)


def linked_entries(result: CheckResult, index: EvidenceIndex) -> list[int]:
    """The journal entries a check's evidence names (sequence numbers, the first MAX_LINKS)."""
    seqs = {
        seq for name in identifiers(result.evidence) for seq in index.by_identifier.get(name, [])
    }
    for shape in requests_in(result.evidence):
        seqs.update(index.by_request.get(shape, []))
    return sorted(seqs)[:MAX_LINKS]
