"""What the payer agrees to pay, and how patiently it polls."""

from __future__ import annotations

from dataclasses import dataclass, field

from x402_core.networks import Network


@dataclass(frozen=True, slots=True)
class PayerPolicy:
    """The payer's limits. Networks may be named in either spelling (`base` or `eip155:8453`)."""

    max_amount_atomic: int = 100_000
    """Refuse any offer above this many atomic units (100000 = 0.10 USDC)."""
    networks: frozenset[str] = field(default_factory=lambda: frozenset({"eip155:8453", "base"}))
    prefer_version: int = 2
    """Pay with this protocol version when the 402 offers both."""
    poll_timeout_seconds: float = 120.0
    min_poll_interval: float = 0.5
    max_poll_interval: float = 10.0
    default_poll_interval: float = 1.0
    """Wait between polls when a status answer carries no `Retry-After`."""
    max_status_retries: int = 8
    """Consecutive 429/5xx/transport failures tolerated while polling before giving up."""
    settle_wait_seconds: float = 60.0
    """How long the same payment is sent again while its settlement is pending (or the paid
    request got no answer) before the payer gives up, never signing a second one."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "networks", frozenset(self.networks))
        problems = []
        if self.max_amount_atomic < 0:
            problems.append(f"max_amount_atomic is {self.max_amount_atomic}; expected >= 0")
        if self.prefer_version not in (1, 2):
            problems.append(f"prefer_version is {self.prefer_version}; expected 1 or 2")
        if self.poll_timeout_seconds <= 0:
            problems.append(f"poll_timeout_seconds is {self.poll_timeout_seconds}; expected > 0")
        if not 0 <= self.min_poll_interval <= self.max_poll_interval:
            problems.append(
                f"poll intervals are [{self.min_poll_interval}, {self.max_poll_interval}]; "
                "expected 0 <= min_poll_interval <= max_poll_interval"
            )
        if self.default_poll_interval < 0:
            problems.append(f"default_poll_interval is {self.default_poll_interval}; expected >= 0")
        if self.settle_wait_seconds < 0:
            problems.append(f"settle_wait_seconds is {self.settle_wait_seconds}; expected >= 0")
        if self.max_status_retries < 0:
            problems.append(f"max_status_retries is {self.max_status_retries}; expected >= 0")
        if problems:
            raise ValueError("invalid PayerPolicy: " + "; ".join(problems))

    def allows(self, network: Network) -> bool:
        """Whether `network` is allowed, under its v1 name or its CAIP-2 id."""
        return network.name in self.networks or network.caip2 in self.networks

    def clamp_interval(self, seconds: float) -> float:
        """`seconds` kept within [min_poll_interval, max_poll_interval]."""
        return min(max(seconds, self.min_poll_interval), self.max_poll_interval)
