"""`x402-harness up`: chain, facilitator and mock server together, until Ctrl-C."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from x402_harness.commands.options import add_server_arguments, server_settings_from
from x402_harness.commands.ports import check_port, port_number
from x402_harness.usage import UsageError

if TYPE_CHECKING:
    from x402_harness.stack import Stack


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "up",
        help="run the whole stack until Ctrl-C",
        description="Start the chain (embedded ledger by default, or Anvil, or a node's RPC URL), "
        "the facilitator and the mock xGen server on loopback, print where everything is and "
        "which test wallets can pay, and keep running until Ctrl-C. Host and ports also come "
        "from X402H_SERVER_HOST, X402H_SERVER_PORT and X402H_FACILITATOR_PORT.",
    )
    parser.add_argument("--chain", default="ledger", help="ledger (default), anvil, or an RPC URL")
    parser.add_argument(
        "--facilitator-port", type=port_number, help="the facilitator's port (default: a free one)"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print where everything is as one JSON object on the first line, for scripts",
    )
    parser.add_argument(
        "--state",
        type=Path,
        metavar="DIR",
        help="keep every component's state in DIR (the chain, the facilitator's settlement "
        "records, the mock's purchases and jobs): a restart forgets nothing and settles nothing "
        "twice",
    )
    parser.add_argument("--allow-remote-rpc", action="store_true", help="sign for a remote node")
    add_server_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from facilitator_sim.config import ENV_PREFIX, FacilitatorSettings
    from x402_harness.console import warn_if_exposed
    from x402_harness.stack import Stack, StackConfig
    from x402_service.serving import wait_for_interrupt

    server = server_settings_from(args)
    facilitator = FacilitatorSettings.from_env()
    facilitator_port = facilitator.port if args.facilitator_port is None else args.facilitator_port
    named = "--facilitator-port" if args.facilitator_port is not None else f"{ENV_PREFIX}PORT"
    check_port(server.host, facilitator_port, named)
    config = StackConfig(
        chain=args.chain,
        host=server.host,
        server_port=server.port,
        facilitator_port=facilitator_port,
        allow_remote_rpc=args.allow_remote_rpc,
        state_dir=_state_dir(args.state),
        server=server,
        facilitator=facilitator,
    )
    warn_if_exposed(config.host)
    with Stack(config) as stack:
        if args.json:
            print(json.dumps(summary_json(stack)), flush=True)
        else:
            print_summary(stack)
        wait_for_interrupt()
    return 0


def _state_dir(path: Path | None) -> Path | None:
    if path is None:
        return None
    if path.exists() and not path.is_dir():
        raise UsageError(f"--state {path}: expected a directory, and this is a file")
    path.mkdir(parents=True, exist_ok=True)
    return path


def summary_json(stack: Stack) -> dict[str, Any]:
    """What `print_summary` says, for scripts; wallet keys are Anvil's public test keys."""
    from x402_core.tools import MCP_PATH
    from x402_core.wallets import payer_wallets

    chain, listing = stack.chain, stack.listing
    return {
        "endpoint": stack.endpoint_url,
        "mcp": stack.server_url + MCP_PATH,
        "facilitator": stack.facilitator_url,
        "admin": stack.admin_url,
        "inspector": stack.admin_url + "/",
        "chain": chain.kind,
        "chainId": chain.chain_id,
        "rpcUrl": chain.rpc_url,
        "network": listing.network.caip2,
        "token": stack.token,
        "amount": str(listing.amount),
        "payTo": stack.pay_to,
        "wallets": [
            {"index": w.index, "address": w.address, "privateKey": w.private_key_hex}
            for w in payer_wallets()
        ],
    }


def print_summary(stack: Stack) -> None:
    from x402_core.tools import MCP_PATH, STATUS_TOOL, paid_tool_name
    from x402_core.wallets import payer_wallets
    from x402_harness.console import console, print_disagreements, print_wallets, usdc

    chain, listing = stack.chain, stack.listing
    console.print(f"[bold]xGen mock[/bold]    POST {stack.endpoint_url}")
    console.print(
        f"             {usdc(listing.amount)} on {listing.network.name} "
        f"({listing.network.caip2}), x402 v1 and v2"
    )
    console.print(f"status       GET  {stack.endpoint_url}/{{id}}")
    tools = paid_tool_name(listing) + (f" (paid), {STATUS_TOOL}" if listing.is_job else " (paid)")
    console.print(f"mcp          {stack.server_url}{MCP_PATH}  (tools: {tools})")
    console.print(f"inspector    {stack.admin_url}/  (purchases, journal, controls; admin API)")
    console.print(
        f"facilitator  {stack.facilitator_url}  (/verify /settle /supported /discovery/resources)"
    )
    rpc = f", RPC {chain.rpc_url}" if chain.rpc_url else " (embedded, no RPC)"
    console.print(f"chain        {chain.kind}, chain id {chain.chain_id}{rpc}")
    console.print(f"token        USDC at {stack.token}")
    console.print(f"payTo        {stack.pay_to}")
    if stack.config.state_dir is not None:
        console.print(f"state        {stack.config.state_dir}/")
    print_wallets(payer_wallets(), lambda address: chain.balance_of(stack.token, address))
    print_disagreements(stack.disagreements())
