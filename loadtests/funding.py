"""The load wallets on a target the harness did not start: their balances checked first and, when
the target's facilitator is a harness facilitator, topped up through its admin API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from x402_core.wallets import TestWallet

ADMIN_PATH = "/__facilitator__"
ADDRESSES_PER_REQUEST = 100
USDC_DECIMALS = 6


@dataclass(frozen=True, slots=True)
class Funding:
    """What became of the wallets, in one line for the person running the load."""

    ok: bool
    """Every wallet holds at least the amount (False also when that could not be checked)."""
    message: str


class _FundingError(Exception):
    """The balances could not be read or set; the message says why and what to do."""


def facilitator_named_by(
    admin_url: str, headers: Mapping[str, str] | None = None, timeout: float = 10.0
) -> str | None:
    """The facilitator URL the mock's `GET <admin-url>/health` names, if it names one;
    `headers` carry its admin token, if it has one."""
    try:
        url = admin_url.rstrip("/") + "/health"
        health: Any = httpx.get(url, headers=headers, timeout=timeout).json()
    except (httpx.HTTPError, ValueError):
        return None
    named = health.get("facilitator_url") if isinstance(health, dict) else None
    return named if isinstance(named, str) and named else None


def fund_wallets(
    facilitator_url: str, wallets: list[TestWallet], amount: int, timeout: float = 10.0
) -> Funding:
    """Give each wallet holding less than `amount` exactly `amount` (the token the facilitator
    settles); existing balances of at least `amount` are left alone."""
    admin = facilitator_url.rstrip("/") + ADMIN_PATH
    span = f"{len(wallets)} load wallets (#{wallets[0].index}–#{wallets[-1].index})"
    usdc = f"{amount / 10**USDC_DECIMALS:g} USDC"
    try:
        with httpx.Client(base_url=admin, timeout=timeout) as http:
            balances = _balances(http, wallets)
            short = [w for w in wallets if balances.get(w.address, 0) < amount]
            for wallet in short:
                _answer(http.post("/fund", json={"address": wallet.address, "amount": amount}))
    except _FundingError as exc:
        return Funding(False, f"{span} could not be checked or funded: {exc}")
    except httpx.TransportError as exc:
        return Funding(
            False, f"{span} could not be checked or funded: nothing answers at {admin} ({exc})"
        )
    kept = len(wallets) - len(short)
    return Funding(
        True, f"{span}: {len(short)} funded with {usdc} each, {kept} already held {usdc} or more"
    )


def _balances(http: httpx.Client, wallets: list[TestWallet]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(wallets), ADDRESSES_PER_REQUEST):
        batch = wallets[start : start + ADDRESSES_PER_REQUEST]
        answer = _answer(http.get("/balances", params=[("address", w.address) for w in batch]))
        balances = answer.get("balances")
        if not isinstance(balances, dict) or not all(isinstance(b, int) for b in balances.values()):
            raise _FundingError(f"{http.base_url}/balances answered {answer!r}; expected balances")
        found.update(balances)
    return found


def _answer(response: httpx.Response) -> dict[str, Any]:
    where = f"{response.request.method} {response.request.url}"
    if response.status_code == 404:
        raise _FundingError(
            f"{where} answered 404: not a harness facilitator; fund the load wallets yourself"
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    if not response.is_success or not isinstance(body, dict):
        detail = body.get("message") if isinstance(body, dict) else response.text[:200]
        raise _FundingError(f"{where} answered {response.status_code}: {detail}")
    return body
