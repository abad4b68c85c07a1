"""The mock's admin API (`/__mock__/...`) as methods: scenarios, the test clock, reset.

Each refusal of the admin API becomes a MockAdminError carrying the server's own message (which
names, for example, every scenario the mock knows).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx

ADMIN_TIMEOUT_SECONDS = 10.0


class MockAdminError(RuntimeError):
    """The admin API refused a request; the message is the mock's."""


class MockAdmin:
    def __init__(self, admin_url: str, headers: dict[str, str] | None = None) -> None:
        self.admin_url = admin_url
        self.headers = headers or {}

    def set_scenario(self, name: str) -> None:
        """The scenario of paid jobs when no header names one and none is queued."""
        self._post("/scenario", {"name": name})

    def queue(self, names: Iterable[str]) -> None:
        """The scenarios of the next paid jobs, in order (all or none)."""
        self._post("/scenario/queue", {"names": list(names)})

    def advance_clock(self, seconds: float) -> float:
        """Moves the test clock forward; the clock's time after the move."""
        now: float = self._post("/clock/advance", {"seconds": seconds})["now"]
        return now

    def reset(self, *, purchases: bool = True) -> None:
        """Forgets the journal, queued scenarios, the default scenario, the test clock's lead and
        (with `purchases`) every purchase and job."""
        self._post("/reset", {"purchases": purchases})

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        with httpx.Client(
            base_url=self.admin_url, headers=self.headers, timeout=ADMIN_TIMEOUT_SECONDS
        ) as admin:
            answer = admin.post(path, json=body)
        try:
            data = answer.json()
        except ValueError:
            data = {}
        if answer.is_success and isinstance(data, dict):
            return data
        message = data.get("message") if isinstance(data, dict) else None
        raise MockAdminError(
            f"POST {self.admin_url}{path} answered {answer.status_code}: {message or answer.text}"
        )
