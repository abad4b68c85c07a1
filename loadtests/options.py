"""The locustfile's own options: they reach workers too, as Locust's custom arguments do."""

from __future__ import annotations

from typing import Any

from loadtests.wallets import DEFAULT_FIRST_WALLET


def add_options(parser: Any) -> None:
    group = parser.add_argument_group("x402-harness")
    group.add_argument("--x402-endpoint-path", default="/v1/images/generate")
    group.add_argument("--x402-scenario", default="", help="X-Mock-Scenario for every purchase")
    group.add_argument("--x402-first-wallet", type=int, default=DEFAULT_FIRST_WALLET)
    group.add_argument("--x402-wallets", type=int, default=100, help="size of the wallet pool")
    group.add_argument("--x402-presign", type=int, default=0, help="payments signed ahead per user")
    group.add_argument("--x402-download", type=int, default=1, help="download images (1/0)")
    group.add_argument(
        "--x402-replays",
        type=float,
        default=0.0,
        help="share of purchases re-sent with the same payment, half of them concurrently",
    )
    group.add_argument("--x402-paying-weight", type=int, default=3)
    group.add_argument("--x402-probe-weight", type=int, default=1)
    group.add_argument("--x402-poller-weight", type=int, default=1)
    group.add_argument("--x402-think-min", type=float, default=0.5, help="seconds between tasks")
    group.add_argument("--x402-think-max", type=float, default=1.5)


def apply_options(options: Any, user_classes: list[type]) -> None:
    """The user mix: weights are the master's (or the single process's) to apply."""
    paying, probe, poller = user_classes
    paying.weight = options.x402_paying_weight
    probe.weight = options.x402_probe_weight
    poller.weight = options.x402_poller_weight
