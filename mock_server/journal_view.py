"""The journal as a person debugging a client reads it: the x402 headers decoded, bodies as JSON,
times as ISO timestamps, the scenario and the job of each request, and the facilitator's
`/verify` and `/settle` answers joined to the request by payment key (payer:nonce).

Pure functions over journal entries as the journals serve them (JSON objects); the admin API and
the inspector hand them the mock's purchases and jobs and the facilitator's journal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mock_server.jobs import Job
from mock_server.purchases import Purchase, PurchaseState
from x402_core import strictjson
from x402_core.headers import (
    PAYMENT_REQUIRED,
    PAYMENT_RESPONSE,
    PAYMENT_SIGNATURE,
    X_PAYMENT,
    X_PAYMENT_RESPONSE,
    HeaderError,
    decode_json_header,
)

PAYMENT_HEADERS = frozenset({PAYMENT_SIGNATURE.lower(), X_PAYMENT.lower()})
RESPONSE_HEADERS = frozenset({PAYMENT_RESPONSE.lower(), X_PAYMENT_RESPONSE.lower()})
DECODED_ELSEWHERE = "(decoded in the entry)"
IMAGE_PATH = re.compile(r"^/v1/images/(?P<job>[^/]+)/[0-9]+\.png$")
"""`mock_server.status.IMAGE_ROUTE` as a pattern."""
FACILITATOR_CALLS = {"/verify": "verify", "/settle": "settle"}
JOIN_SLACK_SECONDS = 0.05
"""How far outside a request's own interval a facilitator call may be recorded and still be
counted as made for it (both servers stamp entries with this machine's wall clock)."""
MAX_FILTER_CHARS = 200


def iso_time(value: Any) -> str | None:
    """Seconds since the epoch (a number, or digits as x402 writes times) as an ISO timestamp;
    None when it is not a time a calendar can show."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        moment = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.isoformat().replace("+00:00", "Z")


def json_or_text(text: str) -> Any:
    """A recorded body as JSON when it is JSON, else the text as recorded."""
    if not text:
        return None
    try:
        return strictjson.loads(text)
    except strictjson.JsonError:
        return text


def decoded_header(value: str | None) -> Any:
    """An x402 header's JSON (None when absent), or what is wrong with it."""
    if value is None:
        return None
    try:
        return decode_json_header(value, max_chars=None)
    except HeaderError as exc:
        return {"undecodable": exc.message, "reason": exc.reason.value}


def _field(data: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(data, dict):
            return None
        data = data.get(name)
    return data


def payment_key(payment: Any) -> str | None:
    """`payer:nonce` (lowercase) of a decoded payment payload, None when it names neither."""
    authorization = _field(payment, "payload", "authorization")
    payer, nonce = _field(authorization, "from"), _field(authorization, "nonce")
    if not isinstance(payer, str) or not isinstance(nonce, str):
        return None
    return f"{payer.lower()}:{nonce.lower()}"


def payment_summary(payment: Any, version: int | None) -> dict[str, Any] | None:
    """What a person checks first in a payment: who pays whom, how much, when it is valid."""
    authorization = _field(payment, "payload", "authorization")
    if not isinstance(authorization, dict):
        return None
    accepted = _field(payment, "accepted")
    return {
        "version": version,
        "scheme": _field(accepted, "scheme") or _field(payment, "scheme"),
        "network": _field(accepted, "network") or _field(payment, "network"),
        "payer": authorization.get("from"),
        "to": authorization.get("to"),
        "value": authorization.get("value"),
        "valid_after": iso_time(authorization.get("validAfter")),
        "valid_before": iso_time(authorization.get("validBefore")),
        "nonce": authorization.get("nonce"),
        "payment_id": _field(payment, "extensions", "payment-identifier", "info", "id"),
    }


def offer_summary(payment_required: Any, body: Any) -> dict[str, Any]:
    """What a 402 asks for: its first requirement (v2 header, else the v1 body) and its error."""
    readable = isinstance(payment_required, dict) and "undecodable" not in payment_required
    offered = payment_required if readable else None
    accepts = _field(offered, "accepts") or _field(body, "accepts")
    first = accepts[0] if isinstance(accepts, list) and accepts else {}
    return {
        "version": _field(offered or body, "x402Version"),
        "scheme": _field(first, "scheme"),
        "network": _field(first, "network"),
        "amount": _field(first, "amount") or _field(first, "maxAmountRequired"),
        "asset": _field(first, "asset"),
        "payTo": _field(first, "payTo"),
        "maxTimeoutSeconds": _field(first, "maxTimeoutSeconds"),
        "error": _field(offered or body, "error"),
        "undecodable": _field(payment_required, "undecodable"),
    }


@dataclass(frozen=True, slots=True)
class FacilitatorCall:
    """One `/verify` or `/settle` the facilitator answered, as its journal recorded it."""

    call: str
    seq: int
    time: float
    status: int
    key: str
    answer: Any

    def view(self) -> dict[str, Any]:
        return {
            "call": self.call,
            "seq": self.seq,
            "time": iso_time(self.time),
            "status": self.status,
            "answer": self.answer,
        }


def facilitator_calls(entries: Iterable[Mapping[str, Any]]) -> dict[str, list[FacilitatorCall]]:
    """The facilitator's `/verify` and `/settle` calls by payment key, in the order made."""
    calls: dict[str, list[FacilitatorCall]] = {}
    for entry in entries:
        call = FACILITATOR_CALLS.get(entry.get("path", ""))
        key = payment_key(entry.get("payment"))
        if call is None or key is None or entry.get("method") != "POST":
            continue
        calls.setdefault(key, []).append(
            FacilitatorCall(
                call,
                int(entry["seq"]),
                float(entry["time"]),
                int(entry["status"]),
                key,
                json_or_text(str(entry.get("response_body") or "")),
            )
        )
    return calls


@dataclass(frozen=True, slots=True)
class Decoded:
    """What one entry says by itself, decoded once (an entry never changes)."""

    seq: int
    time: float
    duration_ms: float
    method: str
    path: str
    query: str
    status: int
    noted_scenario: str | None
    request_headers: dict[str, str]
    request_body: Any
    payment: Any
    payment_version: int | None
    key: str | None
    payment_required: Any
    payment_response: Any
    response_headers: dict[str, str]
    response_body: Any
    path_job: str | None
    """The job a status poll or an image download names in its path."""

    @property
    def started(self) -> float:
        return self.time - self.duration_ms / 1000

    @property
    def payer(self) -> str | None:
        return self.key.split(":", 1)[0] if self.key else None


def decode(entry: Mapping[str, Any], endpoint_path: str) -> Decoded:
    """An entry of the mock's journal, decoded (`endpoint_path`: the listing's)."""
    headers: dict[str, str] = dict(entry.get("headers") or {})
    answer: dict[str, str] = dict(entry.get("response_headers") or {})
    payment = entry.get("payment")
    if payment is None:
        sent = [headers[name] for name in sorted(PAYMENT_HEADERS) if name in headers]
        payment = decoded_header(sent[0]) if sent else None
    response = next((answer[name] for name in sorted(RESPONSE_HEADERS) if name in answer), None)
    path = str(entry.get("path", ""))
    return Decoded(
        seq=int(entry["seq"]),
        time=float(entry["time"]),
        duration_ms=float(entry.get("duration_ms") or 0),
        method=str(entry.get("method", "")),
        path=path,
        query=str(entry.get("query", "")),
        status=int(entry.get("status") or 0),
        noted_scenario=(entry.get("notes") or {}).get("scenario"),
        request_headers=_shown(headers, PAYMENT_HEADERS),
        request_body=json_or_text(str(entry.get("body") or "")),
        payment=payment,
        payment_version=entry.get("payment_version"),
        key=payment_key(entry.get("payment")),
        payment_required=decoded_header(answer.get(PAYMENT_REQUIRED.lower())),
        payment_response=decoded_header(response),
        response_headers=_shown(answer, RESPONSE_HEADERS | {PAYMENT_REQUIRED.lower()}),
        response_body=json_or_text(str(entry.get("response_body") or "")),
        path_job=_path_job(path, endpoint_path),
    )


def _shown(headers: dict[str, str], decoded: frozenset[str]) -> dict[str, str]:
    return {name: DECODED_ELSEWHERE if name in decoded else v for name, v in headers.items()}


def _path_job(path: str, endpoint_path: str) -> str | None:
    image = IMAGE_PATH.match(path)
    if image:
        return image["job"]
    prefix = endpoint_path.rstrip("/") + "/"
    rest = path[len(prefix) :] if path.startswith(prefix) else ""
    return rest if rest and "/" not in rest else None


@dataclass(frozen=True)
class Facts:
    """What the journal alone does not say: the mock's purchases (by key) and jobs (by id), and
    the facilitator's calls (by key)."""

    purchases: Mapping[str, Purchase] = field(default_factory=dict)
    jobs: Mapping[str, Job] = field(default_factory=dict)
    calls: Mapping[str, list[FacilitatorCall]] = field(default_factory=dict)

    def purchase_of(self, entry: Decoded) -> Purchase | None:
        return self.purchases.get(entry.key) if entry.key else None

    def job_id_of(self, entry: Decoded) -> str | None:
        """The job a request paid for (once it exists) or names in its path."""
        purchase = self.purchase_of(entry)
        if purchase is not None and purchase.state is PurchaseState.SETTLED:
            return purchase.job_id
        body_id = _field(entry.response_body, "id")
        if entry.key and entry.status == 200 and isinstance(body_id, str):
            return body_id
        return entry.path_job

    def scenario_of(self, entry: Decoded) -> str | None:
        """The scenario that served it: the purchase's or the job's, else the one noted."""
        purchase = self.purchase_of(entry)
        if purchase is not None:
            return purchase.scenario
        job = self.jobs.get(entry.path_job or "")
        return job.scenario if job is not None else entry.noted_scenario

    def payer_of(self, entry: Decoded) -> str | None:
        job = self.jobs.get(entry.path_job or "")
        return entry.payer or (job.payer.lower() if job is not None else None)

    def calls_during(self, entry: Decoded) -> list[FacilitatorCall]:
        """The facilitator calls made while the mock answered this request."""
        if entry.key is None:
            return []
        start, end = entry.started - JOIN_SLACK_SECONDS, entry.time + JOIN_SLACK_SECONDS
        return [c for c in self.calls.get(entry.key, []) if start <= c.time <= end]


def readable(entry: Decoded, facts: Facts) -> dict[str, Any]:
    """One entry as a person reads it."""
    return {
        "seq": entry.seq,
        "time": iso_time(entry.time),
        "method": entry.method,
        "path": entry.path,
        "query": entry.query,
        "status": entry.status,
        "duration_ms": entry.duration_ms,
        "scenario": facts.scenario_of(entry),
        "job_id": facts.job_id_of(entry),
        "payer": facts.payer_of(entry),
        "payment_key": entry.key,
        "request": {"headers": entry.request_headers, "body": entry.request_body},
        "payment": entry.payment,
        "payment_summary": payment_summary(entry.payment, entry.payment_version),
        "payment_required": entry.payment_required,
        "payment_response": entry.payment_response,
        "response": {"headers": entry.response_headers, "body": entry.response_body},
        "facilitator": [call.view() for call in facts.calls_during(entry)],
    }


def filter_values(query: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    """The named filters of a query, trimmed (empty: not given); ValueError on a long one."""
    values = {name: query.get(name, "").strip() for name in names}
    for name, value in values.items():
        if len(value) > MAX_FILTER_CHARS:
            raise ValueError(f"{name} is {len(value)} characters; at most {MAX_FILTER_CHARS}")
    return values


@dataclass(frozen=True, slots=True)
class JournalFilter:
    """Which readable entries to show: by payer, by job, by path prefix (empty: any)."""

    payer: str = ""
    job: str = ""
    path: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> JournalFilter:
        """From `?payer=…&job=…&path=…`; ValueError says what is wrong."""
        values = filter_values(query, ("payer", "job", "path"))
        if values["path"] and not values["path"].startswith("/"):
            raise ValueError(f"path is {values['path'][:40]!r}; expected a path starting with /")
        return cls(values["payer"].lower(), values["job"], values["path"])

    def matches(self, entry: Decoded, facts: Facts) -> bool:
        return (
            (not self.payer or facts.payer_of(entry) == self.payer)
            and (not self.job or facts.job_id_of(entry) == self.job)
            and (not self.path or entry.path.startswith(self.path))
        )


def readable_page(
    entries: Iterable[Decoded], facts: Facts, wanted: JournalFilter, limit: int, since: int = 0
) -> dict[str, Any]:
    """`{"entries": [...], "next": N, "more": bool}` like a raw page: up to `limit` matching
    entries after `since`; `next` is the sequence number of the last entry looked at."""
    shown: list[dict[str, Any]] = []
    last, more = since, False
    for entry in entries:
        if entry.seq <= since:
            continue
        if len(shown) >= limit:
            more = True
            break
        last = entry.seq
        if wanted.matches(entry, facts):
            shown.append(readable(entry, facts))
    return {"entries": shown, "next": last, "more": more}


def page_json(page: Mapping[str, Any]) -> str:
    """A page as JSON text: readable characters, and whatever a body held written as text."""
    return json.dumps(page, ensure_ascii=False, default=str, separators=(",", ":"))
