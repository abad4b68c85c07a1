"""The mock server's settings: one typed object, from CLI flags or `X402H_SERVER_*`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mock_server.clock import ClockKind
from x402_core.loopback import is_loopback_host
from x402_service.envconfig import from_env

ENV_PREFIX = "X402H_SERVER_"
VERSIONS = frozenset({1, 2})
"""x402 versions the mock offers by default (spelled v1,v2 in flags and the environment)."""


class ServerSettingsError(ValueError):
    """Settings that contradict each other or name unknown things."""


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    """Where `server` and `up` bind; 0.0.0.0 only inside a container."""
    port: int = 0
    """The mock's port under `server` and `up`; 0 picks a free one."""
    facilitator_url: str = "http://127.0.0.1:4021"
    public_url: str = ""
    """Base URL used in `resource` and image URLs; empty: taken from each request."""
    listing_path: Path | None = None
    """The endpoint's listing (the x402 index's format); None: xGen's image generation."""
    versions: frozenset[int] = field(default=VERSIONS)
    """Which 402 forms to answer with: v1 (body), v2 (PAYMENT-REQUIRED header), or both."""
    store: str = "memory"
    """`memory` or `sqlite:PATH`."""
    default_scenario: str = "happy"
    clock: ClockKind = ClockKind.REAL
    """`real`, or `test` (moved only by `POST /__mock__/clock/advance`)."""
    journal_path: Path | None = None
    max_string_chars: int = 4000
    """Longest text a request field takes when its listing states no maxLength."""
    max_body_bytes: int = 64 * 1024
    facilitator_timeout: float = 30.0
    """Seconds a /verify or /settle call may take; a slower settle's outcome is unknown."""
    reconcile_interval: float = 2.0
    """Seconds between background passes over pending purchases."""
    admin_token: str = field(default="", repr=False)
    """When set, `/__mock__/*` requires `Authorization: Bearer <admin_token>`; needed when the
    server binds off loopback."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "clock", ClockKind(self.clock))
        if not self.admin_token and not is_loopback_host(self.host.lower().strip("[]")):
            raise ServerSettingsError(
                f"the mock would listen on {self.host}, off loopback, with its admin API (reset, "
                "scenarios, journal) open to the network: give it a token with --admin-token or "
                "X402H_SERVER_ADMIN_TOKEN"
            )
        if not 0 < self.facilitator_timeout <= 3600 or not 0 < self.reconcile_interval <= 3600:
            raise ServerSettingsError(
                "facilitator_timeout and reconcile_interval are seconds above 0, at most 3600"
            )
        if not self.versions or not self.versions <= VERSIONS:
            spelled = ",".join(f"v{v}" for v in sorted(self.versions)) or "none"
            raise ServerSettingsError(
                f"versions is {spelled}; expected a non-empty subset of v1, v2"
            )

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
    ) -> ServerSettings:
        return from_env(cls, ENV_PREFIX, environ, overrides)
