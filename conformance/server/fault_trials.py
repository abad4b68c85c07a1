"""A server paid while its facilitator misbehaves: one trial per facilitator fault.

Each trial arms a fault on the harness's facilitator (its admin API), sends one valid payment,
clears the fault, and sends the very same payment again until the server answers with a job or a
refusal. After every answer it reads what the facilitator did for that payment meanwhile: its
journal (the answers the server got) and the fault log (the real answers the faults replaced).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from conformance.target import WrongServiceError
from x402_core.headers import decode_json_header

if TYPE_CHECKING:
    from conformance.server.probe import Answer, ServerProbe

FAULTS = (
    "timeout_after_broadcast",
    "error_after_settle",
    "html_after_settle",
    "truncated_after_settle",
    "pending",
    "slow",
)
"""The facilitator's faults, by their names in its admin API."""
ADMIN_PATH = "/__facilitator__"
FIRST_ANSWER_SLACK = 30.0
"""How much longer than the held settle the first answer may take."""
RESEND_SECONDS = 20.0
"""How long the same payment is sent again, after the fault is cleared, for a job or a refusal."""
MAX_RESEND_WAIT = 2.0


class FacilitatorAdmin:
    """The harness facilitator's fault API and journal, over HTTP."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/").removesuffix(ADMIN_PATH)
        self.http = httpx.Client(base_url=self.url, timeout=timeout)

    def require_faults(self) -> None:
        """WrongServiceError unless a fault API answers at the URL."""
        try:
            answer = self.http.get(ADMIN_PATH + "/faults")
            ok = answer.status_code == 200 and "armed" in answer.json()
        except (httpx.TransportError, ValueError) as exc:
            raise WrongServiceError(f"no facilitator fault API at {self.url}: {exc}") from exc
        if not ok:
            raise WrongServiceError(
                f"no facilitator fault API at {self.url}{ADMIN_PATH}/faults (answered "
                f"{answer.status_code}): is it x402-harness's facilitator?"
            )

    def arm(self, fault: str, seconds: float | None) -> None:
        wanted: dict[str, Any] = {"settle": fault}
        if seconds is not None:
            wanted["seconds"] = seconds
        self.http.post(ADMIN_PATH + "/faults", json=wanted).raise_for_status()

    def clear(self) -> None:
        self.http.delete(ADMIN_PATH + "/faults").raise_for_status()

    def applied(self) -> list[dict[str, Any]]:
        answer = self.http.get(ADMIN_PATH + "/faults").raise_for_status()
        return list(answer.json()["applied"])

    def journal(self, since: int) -> list[dict[str, Any]]:
        answer = self.http.get("/journal", params={"since": since}).raise_for_status()
        return list(answer.json()["entries"])

    def last_seq(self) -> int:
        return max((e["seq"] for e in self.journal(0)), default=0)

    def close(self) -> None:
        self.http.close()


@dataclass(frozen=True, slots=True)
class Step:
    """One paid request of a trial, and what the facilitator had done for the payment by then."""

    answer: Answer | None
    problem: str
    """Why there is no answer (a timeout, a dropped connection)."""
    calls: tuple[dict[str, Any], ...]
    """The facilitator's journal entries of this payment so far: what the server asked and got."""
    transactions: frozenset[str]
    """Transactions the facilitator made for this payment so far: money moved."""

    @property
    def told_settled(self) -> frozenset[str]:
        """Transactions the facilitator reported to the server in a successful settle answer."""
        return told_settled(self.calls)

    def summary(self) -> str:
        if self.answer is None:
            return f"no answer ({self.problem})"
        body = self.answer.body if isinstance(self.answer.body, dict) else {}
        text = self.answer.content[:80].decode(errors="replace")
        return f"{self.answer.status} {body.get('id') or body.get('error') or text}".strip()


@dataclass(frozen=True, slots=True)
class FaultTrial:
    fault: str
    version: int
    nonce: str
    steps: tuple[Step, ...]
    applied: tuple[dict[str, Any], ...] = field(default=())

    @property
    def seen_by_facilitator(self) -> bool:
        return bool(self.steps[-1].calls)

    def evidence(self) -> dict[str, Any]:
        last = self.steps[-1]
        return {
            "fault": self.fault,
            "answers": [s.summary() for s in self.steps],
            "facilitator journal": [_call_summary(e) for e in last.calls],
            "fault log": [{"status": a["status"], "real": a["settlement"]} for a in self.applied],
        }


def told_settled(calls: Iterable[dict[str, Any]]) -> frozenset[str]:
    """The transactions of the successful settle answers among journal entries."""
    return frozenset(t for e in calls if (t := _settled_in(e)))


def _settled_in(entry: dict[str, Any]) -> str | None:
    """The transaction of a successful settle answer in a journal entry, else None."""
    if entry["path"] != "/settle" or entry["status"] != 200:
        return None
    try:
        answer = json.loads(entry["response_body"] or "null")
    except ValueError:
        return None
    if isinstance(answer, dict) and answer.get("success") is True and answer.get("transaction"):
        return str(answer["transaction"])
    return None


def _call_summary(entry: dict[str, Any]) -> str:
    kind = entry["response_headers"].get("content-type", "")
    body = entry["response_body"] or f"({kind or 'no body'})"
    return f"#{entry['seq']} {entry['method']} {entry['path']} → {entry['status']} {body[:300]}"


def nonce_of(headers: dict[str, str]) -> str:
    """The authorization nonce of a payment header (v1 or v2), lowercase."""
    (value,) = headers.values()
    payment: Any = decode_json_header(value)
    return str(payment["payload"]["authorization"]["nonce"]).lower()


def _of_payment(entry: dict[str, Any], nonce: str) -> bool:
    payment = entry.get("payment") or {}
    authorization = (payment.get("payload") or {}).get("authorization") or {}
    return str(authorization.get("nonce", "")).lower() == nonce


class FaultTrials:
    """Runs a trial per fault against the server of a probe; `hold` is the server's timeout on
    facilitator calls (timeout_after_broadcast holds its answer longer), `slow` the slow
    fault's delay."""

    def __init__(self, admin: FacilitatorAdmin, hold: float = 30.0, slow: float = 2.0) -> None:
        self.admin = admin
        self.seconds = {"timeout_after_broadcast": hold, "slow": slow}
        self._outcome: list[FaultTrial] | httpx.HTTPError | None = None

    def run(self, probe: ServerProbe) -> list[FaultTrial]:
        """The trials, run once; the same HTTPError again when the facilitator failed them."""
        if self._outcome is None:
            try:
                self._outcome = [self._trial(probe, fault) for fault in FAULTS]
            except httpx.HTTPError as exc:
                self._outcome = exc
            finally:
                with contextlib.suppress(httpx.HTTPError):
                    self.admin.clear()
        if isinstance(self._outcome, httpx.HTTPError):
            raise self._outcome
        return self._outcome

    def _trial(self, probe: ServerProbe, fault: str) -> FaultTrial:
        version = probe.version
        headers = probe.payment(version)
        watch = _Watch(self.admin, nonce_of(headers), self.admin.last_seq())
        self.admin.clear()
        self.admin.arm(fault, self.seconds.get(fault))
        try:
            first_timeout = self.seconds.get(fault, 0.0) + FIRST_ANSWER_SLACK
            steps = [watch.step(probe, headers, first_timeout)]
        finally:
            self.admin.clear()
        deadline = time.monotonic() + RESEND_SECONDS
        while True:
            steps.append(watch.step(probe, headers, None))
            if _decisive(steps[-1].answer) or time.monotonic() > deadline:
                break
            time.sleep(_wait(steps[-1].answer))
        return FaultTrial(fault, version, watch.nonce, tuple(steps), tuple(watch.applied))


@dataclass
class _Watch:
    """What the facilitator did for one payment, gathered after each answer."""

    admin: FacilitatorAdmin
    nonce: str
    seq: int
    calls: list[dict[str, Any]] = field(default_factory=list)
    applied: list[dict[str, Any]] = field(default_factory=list)

    def step(self, probe: ServerProbe, headers: dict[str, str], timeout: float | None) -> Step:
        answer, problem = None, ""
        try:
            answer = probe.send(probe.valid_request, headers, timeout)
        except httpx.TransportError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        for entry in self.admin.journal(self.seq):
            self.seq = max(self.seq, entry["seq"])
            if _of_payment(entry, self.nonce):
                self.calls.append(entry)
        self.applied = [a for a in self.admin.applied() if a["nonce"].lower() == self.nonce]
        moved = {str(a["settlement"]["transaction"]) for a in self.applied}
        return Step(answer, problem, tuple(self.calls), frozenset(moved) | told_settled(self.calls))


def _decisive(answer: Answer | None) -> bool:
    """A job, or a refusal: the server has decided the payment's fate."""
    if answer is None:
        return False
    return answer.status == 200 or (400 <= answer.status < 500 and answer.status != 429)


def _wait(answer: Answer | None) -> float:
    value = answer.headers.get("retry-after", "") if answer is not None else ""
    seconds = float(value) if value.strip().isdigit() else 0.5
    return min(max(seconds, 0.1), MAX_RESEND_WAIT)
