"""`x402-harness demo`: the stack on the embedded ledger, one paid image, start to finish."""

from __future__ import annotations

import argparse
from pathlib import Path

PROMPT = "futuristic cityscape at sunset, cyberpunk style, 4k quality"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="pay for one image end to end on the embedded ledger",
        description="Start the stack (ledger, facilitator, mock xGen server), pay 0.05 USDC for "
        "an image with the reference client, follow the job to completion and save the PNG.",
    )
    parser.add_argument("--chain", default="ledger", help="ledger (default), anvil, or an RPC URL")
    parser.add_argument("--prompt", default=PROMPT)
    parser.add_argument("--model", default="nano-banana-pro")
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="where to save PNGs")


def run(args: argparse.Namespace) -> int:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from x402_core.wallets import test_wallet
    from x402_harness.console import console, usdc
    from x402_harness.stack import Stack, StackConfig
    from x402_payer import Payer, PayerError

    payer_wallet = test_wallet(1)
    with Stack(StackConfig(chain=args.chain)) as stack:
        chain, token = stack.chain, stack.token
        pay_to = stack.pay_to
        console.print(f"[bold]xGen mock[/bold]    {stack.endpoint_url}")
        console.print(
            f"facilitator  {stack.facilitator_url}   chain {chain.kind} ({chain.chain_id})"
        )
        payer_before = chain.balance_of(token, payer_wallet.address)
        payee_before = chain.balance_of(token, pay_to)
        body = {"model": args.model, "prompt": args.prompt}
        console.print(f"paying with test wallet #1 {payer_wallet.address} for: {args.prompt!r}")
        with (
            Payer(payer_wallet.private_key) as payer,
            Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=console,
            ) as progress,
        ):
            task = progress.add_task("paying", total=None)

            def show(status: str, elapsed: float) -> None:
                progress.update(task, description=f"job {status}")

            try:
                result = payer.generate_image(stack.server_url, body, args.out, progress=show)
            except PayerError as exc:
                console.print(f"[red]the paid request failed:[/red] {exc}")
                return 1
        settlement = result.settlement
        console.print(f"job          {result.job['id']}  {result.job['status']}")
        if settlement is not None:
            console.print(
                f"settlement   tx {settlement.transaction} on {settlement.network}, "
                f"payer {settlement.payer}"
            )
        for path in result.files:
            console.print(f"image        {path}")
        paid = payer_before - chain.balance_of(token, payer_wallet.address)
        received = chain.balance_of(token, pay_to) - payee_before
        console.print(
            f"balances     payer {usdc(payer_before)} -> "
            f"{usdc(chain.balance_of(token, payer_wallet.address))} (paid {usdc(paid)}); "
            f"payTo received {usdc(received)}"
        )
        return 0 if result.job["status"] == "completed" and received == paid > 0 else 1
