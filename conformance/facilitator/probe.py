"""What a facilitator check can do to the facilitator under test: post bodies, read the chain."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import httpx

from conformance.facilitator.onchain import OnChain
from conformance.facilitator.payloads import authorization, verify_body
from conformance.facilitator.reasons import ReasonTable, reason_table
from conformance.target import WrongServiceError
from x402_core.eip3009 import Authorization, random_nonce
from x402_core.networks import BASE
from x402_core.wallets import TestWallet, test_wallet


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
    """Which implementation's reasons refusals are compared with (`reasons.TABLE_NAMES`)."""
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

    @cached_property
    def table(self) -> ReasonTable:
        return reason_table(self.reasons)

    def expected(self, check_id: str) -> str | None:
        """The reason the graded implementation gives for the check's refusal (None: any)."""
        return self.table.get(check_id)

    def draw(self) -> tuple[int, bytes]:
        """(now, a fresh nonce): what a probe signs with, taken when it is made."""
        return int(time.time()), random_nonce()

    def fresh_authorization(self, window: tuple[int, int] | None = None) -> Authorization:
        """A valid authorization from the payer, made now with a new nonce; `window` gives
        (validAfter, validBefore) as seconds from now."""
        now, nonce = self.draw()
        changes = (
            {}
            if window is None
            else {"valid_after": now + window[0], "valid_before": now + window[1]}
        )
        return authorization(self.payer, now=now, nonce=nonce, **changes)

    def fresh_body(self, version: int = 2, auth: Authorization | None = None) -> dict[str, Any]:
        """A valid `/verify` (= `/settle`) body of `version` for `auth`, or a fresh one."""
        return verify_body(version, wallet=self.payer, auth=auth or self.fresh_authorization())

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

    def kinds(self) -> list[dict[str, Any]]:
        """The kinds /supported lists (its well-formed entries)."""
        kinds = self.supported.field("kinds")
        return [k for k in kinds if isinstance(k, dict)] if isinstance(kinds, list) else []

    def lists(self, version: int) -> bool:
        """Whether /supported lists the exact scheme on Base in x402 `version`."""
        network = BASE.caip2 if version == 2 else BASE.name
        wanted = (version, "exact", network)
        return any(
            (k.get("x402Version"), k.get("scheme"), k.get("network")) == wanted
            for k in self.kinds()
        )

    def require_facilitator(self) -> None:
        """One clear error when nothing at the URL answers /supported as a facilitator does."""
        supported = self.supported
        if supported.status != 200 or not isinstance(supported.field("kinds"), list):
            raise WrongServiceError(
                f"no /supported here (GET {self.url.rstrip('/')}/supported answered "
                f"{supported.status}): is this a facilitator?"
            )

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
