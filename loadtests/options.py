"""What the Locust users do, checked once, and the locustfile's own options that carry it (they
reach workers too, as Locust's custom arguments do)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from loadtests.plan import LoadPlanError
from x402_core.xgen import xgen_listing

DEFAULT_ENDPOINT_PATH = xgen_listing().path
DEFAULT_FIRST_WALLET = 100
"""Load wallets start above the accounts the harness funds for people (1–9) and tests."""


@dataclass(frozen=True)
class UserOptions:
    """The user mix and its behaviour; every field is checked when made."""

    endpoint_path: str = DEFAULT_ENDPOINT_PATH
    listing: str = ""
    """The endpoint's listing file ("": xGen's): what the users send and expect."""
    scenario: str = ""
    """X-Mock-Scenario of every request ("": the server's default)."""
    first_wallet: int = DEFAULT_FIRST_WALLET
    wallets: int = 100
    presign: int = 0
    download: bool = True
    replays: float = 0.0
    """Share of purchases whose payment is re-sent, half of them twice at once."""
    think_time: tuple[float, float] = (0.5, 1.5)
    weights: tuple[int, int, int] = (3, 1, 1)
    """Paying, probing and polling users per mix."""

    def __post_init__(self) -> None:
        problems = []
        if not self.endpoint_path.startswith("/"):
            problems.append(f"endpoint path {self.endpoint_path!r}: expected to start with /")
        if self.first_wallet < 0:
            problems.append(f"first wallet {self.first_wallet}: expected >= 0")
        if self.wallets < 1:
            problems.append(f"--wallets {self.wallets}: expected at least 1")
        if self.presign < 0:
            problems.append(f"--presign {self.presign}: expected 0 or more")
        if not 0 <= self.replays <= 1:
            problems.append(f"--replays {self.replays:g}: expected a share within 0-1")
        low, high = self.think_time
        if not (math.isfinite(high) and 0 <= low <= high):
            problems.append(f"--think-time {low:g}-{high:g}: expected 0 <= MIN <= MAX seconds")
        if min(self.weights) < 0 or sum(self.weights) == 0:
            problems.append(
                f"--weights {','.join(map(str, self.weights))}: expected whole numbers >= 0, "
                "at least one above 0"
            )
        if problems:
            raise LoadPlanError("; ".join(problems))

    @property
    def buys(self) -> bool:
        """Whether paying users are in the mix (a run without them buys nothing by design)."""
        return self.weights[0] > 0

    def locust_args(self) -> list[str]:
        """The same, as the locustfile's command-line options."""
        values: dict[str, object] = {
            "--x402-endpoint-path": self.endpoint_path,
            "--x402-listing": self.listing,
            "--x402-scenario": self.scenario,
            "--x402-first-wallet": self.first_wallet,
            "--x402-wallets": self.wallets,
            "--x402-presign": self.presign,
            "--x402-download": int(self.download),
            "--x402-replays": self.replays,
            "--x402-think-min": self.think_time[0],
            "--x402-think-max": self.think_time[1],
            "--x402-paying-weight": self.weights[0],
            "--x402-probe-weight": self.weights[1],
            "--x402-poller-weight": self.weights[2],
        }
        return [part for name, value in values.items() for part in (name, str(value))]


def add_options(parser: Any) -> None:
    """The options above on Locust's parser (defaults from UserOptions)."""
    d = UserOptions()
    group = parser.add_argument_group("x402-harness")
    group.add_argument("--x402-endpoint-path", default=d.endpoint_path)
    group.add_argument("--x402-listing", default=d.listing, help="the endpoint's listing file")
    group.add_argument("--x402-scenario", default=d.scenario, help="X-Mock-Scenario")
    group.add_argument("--x402-first-wallet", type=int, default=d.first_wallet)
    group.add_argument("--x402-wallets", type=int, default=d.wallets, help="wallet pool size")
    group.add_argument("--x402-presign", type=int, default=d.presign, help="signed ahead per user")
    group.add_argument("--x402-download", type=int, default=int(d.download), help="1 or 0")
    group.add_argument("--x402-replays", type=float, default=d.replays, help="share re-sent")
    group.add_argument("--x402-paying-weight", type=int, default=d.weights[0])
    group.add_argument("--x402-probe-weight", type=int, default=d.weights[1])
    group.add_argument("--x402-poller-weight", type=int, default=d.weights[2])
    group.add_argument("--x402-think-min", type=float, default=d.think_time[0], help="seconds")
    group.add_argument("--x402-think-max", type=float, default=d.think_time[1])
    group.add_argument("--x402-snapshot", default="", help="write progress and stats here")


def apply_options(options: Any, user_classes: list[Any]) -> None:
    """The user mix: weights are the master's (or the single process's) to apply."""
    paying, probe, poller = user_classes
    paying.weight = options.x402_paying_weight
    probe.weight = options.x402_probe_weight
    poller.weight = options.x402_poller_weight
