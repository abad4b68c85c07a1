"""`x402-harness facilitator`: the facilitator alone, on the ledger, Anvil, or a node's RPC URL."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from x402_core.networks import NETWORKS
from x402_harness.commands.paths import require_folder_of
from x402_harness.commands.ports import check_port, port_number

if TYPE_CHECKING:
    from facilitator_sim.chains.factory import OpenedChain
    from facilitator_sim.config import FacilitatorSettings

SELFTEST_PAYEE_INDEX = 9
SELFTEST_AMOUNT = 50_000


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "facilitator",
        help="run the facilitator (/verify, /settle, /supported)",
        description="Run a facilitator that really verifies signatures and really settles: on the "
        "embedded ledger (default), on an Anvil chain it starts, or on any node by RPC URL.",
    )
    parser.add_argument(
        "--chain",
        default=None,
        help="ledger (default), anvil, or an http(s) RPC URL (loopback unless --allow-remote-rpc)",
    )
    parser.add_argument(
        "--network",
        choices=[n.name for n in NETWORKS],
        help="the network of the ledger or of a started Anvil (default base)",
    )
    parser.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, help="port (default: a free one)")
    parser.add_argument(
        "--allow-remote-rpc",
        action="store_true",
        help="let the facilitator sign transactions for a node that is not on loopback",
    )
    parser.add_argument(
        "--journal", type=Path, help="also append the journal (GET /journal) to this JSON-lines"
    )
    parser.add_argument(
        "--state",
        type=Path,
        help="SQLite file of the settlement records (and the whole ledger on --chain ledger; "
        "Anvil keeps its own state next to it): a restart never settles anything twice",
    )
    parser.add_argument(
        "--settle-timeout",
        type=float,
        help="seconds a settle waits for its receipt before answering settlement_pending "
        "(default 20)",
    )
    parser.add_argument(
        "--selftest",
        action="store_true",
        help="pay once through /verify and /settle over HTTP, print the outcome, and exit",
    )


def settings_from(args: argparse.Namespace) -> FacilitatorSettings:
    """Environment (`X402H_FACILITATOR_*`) first, then the flags given on the command line;
    its port checked."""
    from facilitator_sim.config import ENV_PREFIX, FacilitatorSettings

    changes = {
        "chain": args.chain,
        "network": args.network,
        "host": args.host,
        "port": args.port,
        "allow_remote_rpc": args.allow_remote_rpc or None,
        "journal_path": args.journal,
        "state_path": args.state,
        "settle_timeout": args.settle_timeout,
    }
    settings = FacilitatorSettings.from_env(
        overrides={k: v for k, v in changes.items() if v is not None}
    )
    named = "--port" if args.port is not None else f"{ENV_PREFIX}PORT"
    check_port(settings.host, settings.port, named)
    require_folder_of(settings.state_path, "--state")
    require_folder_of(settings.journal_path, "--journal")
    return settings


def run(args: argparse.Namespace) -> int:
    from facilitator_sim.app import create_app
    from facilitator_sim.chains.factory import open_chain
    from x402_harness.console import console, print_disagreements, warn_if_exposed
    from x402_service.serving import ServerThread, wait_for_interrupt

    settings = settings_from(args)
    chain_state = chain_state_path(settings.chain, settings.state_path)
    opened = open_chain(
        settings.chain,
        allow_remote_rpc=settings.allow_remote_rpc,
        state_path=chain_state,
        signer_key=settings.signer_private_key(),
        network=settings.network_of_chain(),
    )
    with opened:
        app = create_app(opened.chain, settings)
        warn_if_exposed(settings.host)
        with ServerThread(app, settings.host, settings.port) as server:
            print_summary(server.url, opened, settings)
            if settings.state_path is not None:
                console.print(f"state        {settings.state_path}")
            print_disagreements([r.tx_hash for r in app.state.facilitator.disagreements()])
            if args.selftest:
                return selftest(server.url, opened)
            wait_for_interrupt()
    return 0


def chain_state_path(chain: str, state_path: Path | None) -> Path | None:
    """Where the chain keeps its state beside the facilitator's records: the ledger shares their
    SQLite file; an Anvil started here keeps its own state file next to it; a node given by URL
    keeps its own."""
    if state_path is None or chain not in ("ledger", "anvil"):
        return None
    return (
        state_path if chain == "ledger" else state_path.with_name(state_path.name + ".anvil.json")
    )


def print_summary(url: str, opened: OpenedChain, settings: FacilitatorSettings) -> None:
    import httpx

    from x402_core.wallets import payer_wallets
    from x402_harness.console import console, print_wallets

    chain = opened.chain
    console.print(f"[bold]Facilitator[/bold]  {url}  (/verify /settle /supported /health)")
    console.print(f"chain        {chain.kind}, chain id {chain.chain_id}")
    if chain.rpc_url:
        console.print(f"RPC          {chain.rpc_url}")
    console.print(f"token        USDC at {opened.token}")
    signer = httpx.get(f"{url}/health", timeout=10).json()["signer"]
    console.print(f"signer       {signer} ({settings.signer_source()})")
    print_wallets(payer_wallets(), lambda address: chain.balance_of(opened.token, address))


def selftest(url: str, opened: OpenedChain) -> int:
    """One real payment through the facilitator's HTTP API: verify, settle, balances."""
    import httpx

    from x402_core.models import PaymentRequirementsV2
    from x402_core.networks import network_by_chain_id
    from x402_core.payments import pay_v2
    from x402_core.wallets import test_wallet
    from x402_harness.console import console, usdc

    payer = test_wallet(1)
    pay_to = test_wallet(SELFTEST_PAYEE_INDEX).address
    token = opened.token
    requirements = PaymentRequirementsV2(
        scheme="exact",
        network=f"eip155:{opened.chain.chain_id}",
        amount=str(SELFTEST_AMOUNT),
        asset=token,
        pay_to=pay_to,
        max_timeout_seconds=300,
        extra=network_by_chain_id(opened.chain.chain_id).usdc.extra(),
    )
    payload = pay_v2(requirements, payer.private_key, payer.address)
    body = {
        "x402Version": 2,
        "paymentPayload": payload.wire(),
        "paymentRequirements": requirements.wire(),
    }
    before = opened.chain.balance_of(token, pay_to)
    with httpx.Client(base_url=url, timeout=60) as http:
        verified = http.post("/verify", json=body).json()
        console.print(f"/verify  {verified}")
        settled = http.post("/settle", json=body).json()
        console.print(f"/settle  {settled}")
        repeat = http.post("/settle", json=body).json()
        console.print(f"repeat   {repeat}")
        replay = http.post("/verify", json=body).json()
        console.print(f"replay   {replay.get('invalidReason')}")
    gained = opened.chain.balance_of(token, pay_to) - before
    console.print(f"payee {pay_to} received {usdc(gained)}")
    ok = verified["isValid"] and settled["success"] and repeat == settled
    ok = ok and not replay["isValid"]
    ok = ok and gained == SELFTEST_AMOUNT
    console.print("[green]selftest passed[/green]" if ok else "[red]selftest FAILED[/red]")
    return 0 if ok else 1
