"""A client run through scenarios against a running mock: what it did, read from the journal."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.client.runner import ClientEnv, ClientRun, ClientUnderTest
from conformance.journal import read_journal
from conformance.target import StackUrls
from x402_core.headers import PAYMENT_REQUIRED, HeaderError, decode_header
from x402_core.models import PaymentRequiredV1, PaymentRequiredV2
from x402_core.wallets import TestWallet, test_wallet

REQUEST_BODY = {
    "model": "nano-banana-2",
    "prompt": "conformance: a red bicycle",
    "resolution": "1K",
}
SCENARIO_TIMEOUTS = {
    "quick": 20.0,
    "rate_limited": 20.0,
    "status_errors": 20.0,
    "fail": 20.0,
    "settle_fails": 20.0,
    "settle_pending": 20.0,
    "facilitator_timeout": 20.0,
    "stuck": 3.0,
    "facilitator_down": 10.0,
    "offer_unknown_network": 10.0,
    "offer_unknown_asset": 10.0,
    "offer_overpriced": 10.0,
    "offer_malformed": 10.0,
}
"""The scenarios a client is run through, with the timeout it is told to keep."""
Progress = Callable[[str, ClientRun | None], None]


@dataclass
class ScenarioRun:
    """One scenario: what the client reported and every request the server saw meanwhile."""

    scenario: str
    timeout: float
    run: ClientRun
    entries: list[dict[str, Any]]
    endpoint_path: str
    seconds: float = 0.0
    """Wall time of the whole scenario: setting it up, the client's run, reading the journal."""

    @property
    def purchases(self) -> list[dict[str, Any]]:
        return [
            e for e in self.entries if e["method"] == "POST" and e["path"] == self.endpoint_path
        ]

    @property
    def unpaid(self) -> list[dict[str, Any]]:
        return [e for e in self.purchases if not _payment_headers(e)]

    @property
    def paid(self) -> list[dict[str, Any]]:
        return [e for e in self.purchases if _payment_headers(e)]

    @property
    def polls(self) -> list[dict[str, Any]]:
        prefix = self.endpoint_path + "/"
        return [e for e in self.entries if e["method"] == "GET" and e["path"].startswith(prefix)]

    @property
    def downloads(self) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["method"] == "GET" and e["path"].endswith(".png")]

    @property
    def settled(self) -> list[dict[str, Any]]:
        """Paid requests that bought something (answered 200)."""
        return [e for e in self.paid if e["status"] == 200]

    def offer_before(self, entry: dict[str, Any]) -> Offer:
        """The offer the client had when it sent `entry`: that of the last 402 before it."""
        offer = Offer(None, None)
        for seen in self.entries:
            if seen is entry:
                break
            if seen["status"] == 402 and seen["path"] == self.endpoint_path:
                offer = Offer.of(seen)
        return offer

    def evidence(self) -> dict[str, Any]:
        seen = [f"{e['method']} {e['path']} → {e['status']}" for e in self.entries]
        return {
            "sent": {"scenario": self.scenario, "requests": seen},
            "received": self.run.summary(),
        }


@dataclass(frozen=True, slots=True)
class Offer:
    """What one 402 offered, in each version it could be read in (None: not readable)."""

    v2: PaymentRequiredV2 | None
    v1: PaymentRequiredV1 | None

    @classmethod
    def of(cls, entry: dict[str, Any]) -> Offer:
        header = entry["response_headers"].get(PAYMENT_REQUIRED.lower())
        v2 = v1 = None
        if header:
            try:
                v2 = decode_header(header, PaymentRequiredV2)
            except HeaderError:
                v2 = None
        try:
            v1 = PaymentRequiredV1.model_validate_json(entry["response_body"] or "")
        except ValueError:
            v1 = None
        return cls(v2, v1)


def _payment_headers(entry: dict[str, Any]) -> list[str]:
    return [h for h in ("payment-signature", "x-payment") if h in entry["headers"]]


class ScenarioRuns(Mapping[str, ScenarioRun]):
    """The runs by scenario name, remembering which were read: a check's evidence took as long
    to gather as the runs it read."""

    def __init__(self) -> None:
        self._runs: dict[str, ScenarioRun] = {}
        self.read: set[str] = set()

    def add(self, run: ScenarioRun) -> None:
        self._runs[run.scenario] = run

    def __getitem__(self, name: str) -> ScenarioRun:
        run = self._runs[name]
        self.read.add(name)
        return run

    def __iter__(self) -> Iterator[str]:
        return iter(self._runs)

    def __len__(self) -> int:
        return len(self._runs)

    def seconds_read(self) -> float:
        return sum(self._runs[name].seconds for name in self.read)


@dataclass
class ClientSession:
    """The context of client checks: every scenario's run, and the offer the client was made."""

    urls: StackUrls
    runs: ScenarioRuns = field(default_factory=ScenarioRuns)

    def run(self, name: str) -> ScenarioRun | None:
        return self.runs.get(name)

    @property
    def made_requests(self) -> bool:
        """Whether the client sent the endpoint anything, in any scenario."""
        return any(run.purchases for run in self.runs.values())

    def did_not_run(self) -> str | None:
        """Why the client evidently never ran (no request in any scenario), or None."""
        if not self.runs or self.made_requests:
            return None
        first = next(iter(self.runs.values())).run
        output = first.output_tail.strip().splitlines()[-1:] or ["(no output)"]
        return (
            f"the client did not run: it sent no request in any of {len(self.runs)} scenario(s) "
            f"(first run: exit {first.exit_code}, {first.seconds:.1f} s, output: {output[0]})"
        )

    def all_paid(self) -> list[tuple[ScenarioRun, dict[str, Any]]]:
        return [(run, e) for run in self.runs.values() for e in run.paid]


def observe(
    client: ClientUnderTest,
    urls: StackUrls,
    *,
    scenarios: Sequence[str] | None = None,
    payer: TestWallet | None = None,
    timeout: float | None = None,
    progress: Progress | None = None,
) -> ClientSession:
    """Run the client once per scenario, the mock reset and set to that scenario each time."""
    payer = payer or test_wallet(3)
    session = ClientSession(urls)
    with httpx.Client(base_url=urls.admin_url, headers=urls.admin_headers, timeout=10) as admin:
        for name in scenarios or list(SCENARIO_TIMEOUTS):
            started = time.perf_counter()
            admin.post("/reset", json={"purchases": True}).raise_for_status()
            admin.post("/scenario", json={"name": name}).raise_for_status()
            limit = timeout if timeout is not None else SCENARIO_TIMEOUTS.get(name, 20.0)
            env = ClientEnv(
                payer.private_key_hex,
                urls.server_url,
                urls.endpoint_path,
                urls.rpc_url,
                dict(REQUEST_BODY),
                timeout_seconds=limit,
            )
            if progress:
                progress(name, None)
            result = client.run(env)
            time.sleep(0.05)  # answers are journaled before their last byte; let stragglers land
            entries = read_journal(admin)
            seconds = time.perf_counter() - started
            session.runs.add(ScenarioRun(name, limit, result, entries, urls.endpoint_path, seconds))
            if progress:
                progress(name, result)
        admin.post("/scenario", json={"name": "happy"}).raise_for_status()
    return session
