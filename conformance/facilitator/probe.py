"""What a facilitator check can do to the facilitator under test: post bodies, read the chain."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import httpx

from conformance.facilitator.onchain import OnChain
from x402_core.wallets import TestWallet, test_wallet

UNFUNDED_WALLET_INDEX = 900
"""A test wallet no backend funds: the insufficient-balance probe pays with it."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request to the facilitator and its answer."""

    path: str
    sent: Any
    status: int
    answer: Any

    @property
    def server_error(self) -> bool:
        return self.status >= 500

    def field(self, name: str) -> Any:
        return self.answer.get(name) if isinstance(self.answer, dict) else None

    def evidence(self) -> dict[str, Any]:
        return {"sent": {"path": self.path, "body": self.sent}, "received": self.received()}

    def received(self) -> dict[str, Any]:
        return {"status": self.status, "body": self.answer}


@dataclass
class FacilitatorProbe:
    """The context of facilitator checks: the facilitator's URL and the means to probe it."""

    url: str
    reasons: str = "ours"
    """Which reason table the refusals are compared against: ours, x402-sdk or any."""
    rpc_url: str | None = None
    payer: TestWallet = field(default_factory=lambda: test_wallet(1))
    timeout: float = 30.0
    observations: dict[str, Any] = field(default_factory=dict)
    """Probes several checks read (a settled payment, say), made once."""

    @cached_property
    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=self.timeout)

    def close(self) -> None:
        if "http" in self.__dict__:
            self.http.close()

    @property
    def unfunded(self) -> TestWallet:
        return test_wallet(UNFUNDED_WALLET_INDEX)

    def observe(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self.observations:
            self.observations[key] = make()
        return self.observations[key]

    def post(self, path: str, body: Any) -> Exchange:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response = self.http.post(
            path, content=content, headers={"Content-Type": "application/json"}
        )
        if response.status_code >= 500:
            # A server that failed may close the connection after answering: start afresh, so
            # that the next check does not inherit this one's broken connection.
            self.close()
            del self.__dict__["http"]
        return Exchange(path, _shown(body), response.status_code, _answer(response))

    def verify(self, body: Any) -> Exchange:
        return self.post("/verify", body)

    def settle(self, body: Any) -> Exchange:
        return self.post("/settle", body)

    def settle_concurrently(self, body: dict[str, Any], count: int) -> list[Exchange]:
        with ThreadPoolExecutor(max_workers=count) as pool:
            return list(pool.map(lambda _: self.settle(body), range(count)))

    @cached_property
    def supported(self) -> Exchange:
        response = self.http.get("/supported")
        return Exchange("/supported", None, response.status_code, _answer(response))

    @cached_property
    def chain(self) -> OnChain | None:
        """The token on chain, when an RPC URL was given."""
        return None if self.rpc_url is None else OnChain(self.rpc_url)


def _answer(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def _shown(body: Any) -> Any:
    return body.decode("utf-8", errors="replace")[:500] if isinstance(body, bytes) else body
