"""What the CLI prints: summaries a person can act on, on one shared rich console."""

from __future__ import annotations

from rich.console import Console

from x402_core.loopback import is_loopback_host
from x402_core.networks import BASE
from x402_core.wallets import STARTING_USDC_ATOMIC, TestWallet

console = Console(highlight=False, soft_wrap=True)


def usdc(atomic: int) -> str:
    """An atomic USDC amount as a person reads it: 50000 -> '0.05 USDC'."""
    whole, frac = divmod(atomic, 10**BASE.usdc.decimals)
    text = f"{whole}.{frac:06d}".rstrip("0").rstrip(".")
    return f"{text} USDC"


def warn_if_exposed(host: str) -> None:
    """One line when a server is about to listen beyond this machine."""
    if not is_loopback_host(host.lower().strip("[]")):
        console.print(
            f"[yellow]warning:[/yellow] listening on {host}, off loopback: other machines can "
            "reach these servers (the facilitator signs with a public test key; only its token "
            "guards the mock's admin API)"
        )


def print_wallets(wallets: list[TestWallet]) -> None:
    """Each funded test wallet with its full key, so it can be pasted into a client's config."""
    console.print(
        f"[bold]Funded test wallets[/bold], {usdc(STARTING_USDC_ATOMIC)} each "
        "([red]TEST KEYS ONLY[/red]: Anvil's public development keys, never use them for value)"
    )
    for wallet in wallets:
        console.print(f"  #{wallet.index}  {wallet.address}  key {wallet.private_key_hex}")
