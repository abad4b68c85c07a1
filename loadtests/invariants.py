"""What must hold after any load, however it went: read from the stack over HTTP (and the chain).

No job without its settlement and no settlement without its job, no authorization settled twice,
and the payee's balance rose by exactly the price times the settlements.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class Invariant:
    name: str
    holds: bool
    detail: str


def check_invariants(
    admin_url: str,
    *,
    price: int,
    payee_rise: int | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> list[Invariant]:
    """`payee_rise`: how much the payee's balance rose during the run (None: not checked);
    `headers`: what admin requests carry (the admin token)."""
    answer = httpx.get(admin_url + "/jobs", headers=headers, timeout=timeout)
    state: Any = answer.raise_for_status().json()
    jobs = {job["id"] for job in state["jobs"]}
    settled = [s["job_id"] for s in state["settlements"]]
    keys = Counter(s["key"] for s in state["settlements"])
    transactions = Counter(s["settlement"].get("transaction") for s in state["settlements"])
    twice = [k for k, n in keys.items() if n > 1] + [t for t, n in transactions.items() if n > 1]
    found = [
        Invariant(
            "every job has its settlement and every settlement its job",
            jobs == set(settled) and len(settled) == len(jobs),
            f"{len(jobs)} jobs, {len(settled)} settlements",
        ),
        Invariant(
            "no authorization settled twice",
            not twice,
            f"settled more than once: {twice[:3]}" if twice else f"{len(keys)} distinct",
        ),
    ]
    if payee_rise is not None:
        expected = price * len(settled)
        found.append(
            Invariant(
                "the payee received the price once per settlement",
                payee_rise == expected,
                f"balance rose by {payee_rise}; {len(settled)} × {price} = {expected}",
            )
        )
    return found
