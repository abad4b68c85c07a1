"""What the mock saw during a test, read from its journal, with assertions in the spirit of
respx's `route.called`: `called`, `call_count`, `paid_requests`, `assert_paid_once()`.

Each property reads the journal anew, so it says what happened up to that moment.
"""

from __future__ import annotations

from typing import Any

import httpx

from conformance.journal import read_journal

Entry = dict[str, Any]


class JournalReader:
    """The mock's journal: every request to it and its answer, decoded payments included."""

    def __init__(
        self, admin_url: str, endpoint_path: str, headers: dict[str, str] | None = None
    ) -> None:
        self.admin_url = admin_url
        self.endpoint_path = endpoint_path
        self.headers = headers or {}

    def entries(self) -> list[Entry]:
        """Every request and answer, oldest first (the admin API's own calls are not in it)."""
        with httpx.Client(base_url=self.admin_url, headers=self.headers, timeout=10) as admin:
            return read_journal(admin)

    @property
    def requests(self) -> list[Entry]:
        """The requests to the paid endpoint (not its status polls or images)."""
        return [e for e in self.entries() if e["path"] == self.endpoint_path]

    @property
    def called(self) -> bool:
        return bool(self.requests)

    @property
    def call_count(self) -> int:
        return len(self.requests)

    @property
    def paid_requests(self) -> list[Entry]:
        """Requests to the paid endpoint that carried a payment the mock could decode."""
        return [e for e in self.requests if e["payment"] is not None]

    @property
    def paid(self) -> bool:
        """Whether a paid request was answered 200 (the mock took the payment)."""
        return any(e["status"] == 200 for e in self.paid_requests)

    def payments(self) -> list[dict[str, Any]]:
        """The decoded payment payloads, in the order they were sent."""
        return [e["payment"] for e in self.paid_requests]

    def assert_paid_once(self) -> dict[str, Any]:
        """One authorization was sent (again, if its settlement was pending, but never a
        second one) and the mock took it; that payment. AssertionError listing what was sent
        otherwise."""
        paid = self.paid_requests
        authorizations = {_authorization(e) for e in paid}
        if len(authorizations) != 1 or not any(e["status"] == 200 for e in paid):
            raise AssertionError(
                f"expected one payment, taken once; {len(authorizations)} authorization(s) in "
                f"{len(paid)} paid request(s): {_summary(paid)}"
            )
        payment: dict[str, Any] = paid[0]["payment"]
        return payment

    def assert_not_paid(self) -> None:
        """No request carried a payment."""
        paid = self.paid_requests
        if paid:
            raise AssertionError(f"expected no payment; {len(paid)} sent: {_summary(paid)}")


def _authorization(entry: Entry) -> tuple[str, str]:
    authorization = entry["payment"]["payload"]["authorization"]
    return authorization["from"].lower(), authorization["nonce"].lower()


def _summary(entries: list[Entry]) -> str:
    if not entries:
        return "none"
    return "; ".join(
        f"{e['method']} {e['path']} from {_authorization(e)[0]} nonce "
        f"{_authorization(e)[1][:10]}… answered {e['status']}"
        for e in entries
    )
