"""Where the counterparts of a graded run listen: handed in by whoever started them."""

from __future__ import annotations

from dataclasses import dataclass


class WrongServiceError(ValueError):
    """The URL answers, but not as the kind of service being graded: one line says so, instead
    of every check failing for that one reason."""


def admin_headers(token: str) -> dict[str, str]:
    """The headers of a request to a mock's admin API protected by `token` (none if empty)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


@dataclass(frozen=True, slots=True)
class StackUrls:
    server_url: str
    """The mock server's base URL, e.g. http://127.0.0.1:8402."""
    endpoint_path: str
    """The paid endpoint's path, e.g. /v1/images/generate."""
    admin_url: str
    """The mock's admin API, e.g. http://127.0.0.1:8402/__mock__."""
    facilitator_url: str
    rpc_url: str | None = None
    """The chain's JSON-RPC URL, or None on the embedded ledger."""
    admin_token: str = ""
    """The bearer token of the mock's admin API, if it has one."""

    @property
    def admin_headers(self) -> dict[str, str]:
        return admin_headers(self.admin_token)

    @property
    def endpoint_url(self) -> str:
        return self.server_url + self.endpoint_path
