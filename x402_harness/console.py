"""What the CLI prints: summaries a person can act on, on one shared rich console."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from x402_core.networks import BASE
from x402_core.wallets import STARTING_USDC_ATOMIC, TestWallet

console = Console(highlight=False)


def usdc(atomic: int) -> str:
    """An atomic USDC amount as a person reads it: 50000 -> '0.05 USDC'."""
    whole, frac = divmod(atomic, 10**BASE.usdc.decimals)
    text = f"{whole}.{frac:06d}".rstrip("0").rstrip(".")
    return f"{text} USDC"


def wallets_table(wallets: list[TestWallet], title: str = "Funded test wallets") -> Table:
    table = Table(title=f"{title} (TEST KEYS ONLY: public knowledge, never use them for value)")
    table.add_column("#", justify="right")
    table.add_column("address")
    table.add_column("private key")
    table.add_column("starts with", justify="right")
    for wallet in wallets:
        table.add_row(
            str(wallet.index), wallet.address, wallet.private_key_hex, usdc(STARTING_USDC_ATOMIC)
        )
    return table
