"""Open a chain backend by name (`ledger`, `anvil` or an RPC URL), with its token and funds."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType

from facilitator_sim.chains.anvil import AnvilProcess
from facilitator_sim.chains.base import Chain
from facilitator_sim.chains.evm import EvmChain
from facilitator_sim.chains.ledger import LedgerChain
from facilitator_sim.chains.multicall import install_multicall
from facilitator_sim.chains.rpc_guard import check_rpc_url
from x402_core.networks import BASE, Network, network_by_chain_id
from x402_core.wallets import STARTING_USDC_ATOMIC, TestWallet, payer_wallets

SPECS = ("ledger", "anvil", "http(s)://host:port")


class ChainSpecError(ValueError):
    """A chain name, or a combination of chain options, that cannot be opened."""


class OpenedChain:
    """A chain opened by `open_chain`, and the Anvil process it started, if any."""

    def __init__(self, chain: Chain, anvil: AnvilProcess | None = None) -> None:
        self.chain = chain
        self.anvil = anvil
        self.token: str = network_by_chain_id(chain.chain_id).usdc.address

    def close(self) -> None:
        """Close the chain, then stop the Anvil this opened (if any)."""
        try:
            self.chain.close()
        finally:
            if self.anvil is not None:
                self.anvil.stop()

    def __enter__(self) -> OpenedChain:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_chain(
    spec: str = "ledger",
    *,
    allow_remote_rpc: bool = False,
    anvil_bin: str | os.PathLike[str] | None = None,
    state_path: str | os.PathLike[str] | None = None,
    fork_url: str | None = None,
    signer_key: bytes | None = None,
    network: Network = BASE,
) -> OpenedChain:
    """Open the backend `spec` names, with USDC and Multicall3 in place and the test payers
    funded; an Anvil it starts gets a first block, so that calls on `latest` see the present. On
    EVM, settlements are sent from `signer_key` (default: Anvil's account 0). The ledger and a
    started Anvil run `network`'s chain id; a node given by URL has its own.

    `state_path` keeps the chain's state across restarts: the ledger's SQLite file, or the state
    file of the Anvil this starts. A node given by URL keeps its own state.
    """
    is_url = spec not in ("ledger", "anvil")
    if is_url:
        if "://" not in spec:
            raise ChainSpecError(f"unknown chain {spec!r}; expected one of: {', '.join(SPECS)}")
        check_rpc_url(spec, allow_remote_rpc=allow_remote_rpc)
    if is_url and state_path is not None:
        raise ChainSpecError("a node given by URL keeps its own state: drop the state path")
    if spec != "anvil" and fork_url is not None:
        raise ChainSpecError("fork_url configures a started Anvil: the chain must be 'anvil'")
    with contextlib.ExitStack() as undo:
        anvil = None
        if spec == "anvil":
            if fork_url is not None:
                # Anvil would fetch from there: the same refusal as for a direct RPC URL.
                check_rpc_url(fork_url, allow_remote_rpc=allow_remote_rpc)
            anvil = AnvilProcess.start(
                binary=anvil_bin,
                chain_id=network.chain_id,
                state_path=state_path,
                fork_url=fork_url,
            )
            undo.callback(anvil.stop)
        chain: Chain
        evm: EvmChain | None = None
        if spec == "ledger":
            path = None if state_path is None else Path(state_path)
            chain = LedgerChain(network.chain_id, state_path=path)
        else:
            url = anvil.rpc_url if anvil is not None else spec
            chain = evm = EvmChain(url, signer_key, allow_remote_rpc=allow_remote_rpc)
            undo.callback(evm.close)
            evm.install_token()
            install_multicall(evm)
        opened = OpenedChain(chain, anvil)
        fund_test_wallets(chain)
        if anvil is not None and evm is not None:
            # Until a block is mined, an eth_call on `latest` runs at block.timestamp 1: official
            # facilitators simulate there and would refuse every valid payment as not yet valid.
            evm.rpc("evm_mine", [])
        undo.pop_all()
        return opened


def fund_test_wallets(chain: Chain) -> list[TestWallet]:
    """Give each of Anvil accounts 1–9 that holds no USDC yet STARTING_USDC_ATOMIC of it.

    Wallets that hold some are left alone: reconnecting to a running node, or restarting Anvil
    from its state file, keeps the balances the payments left.
    """
    usdc = network_by_chain_id(chain.chain_id).usdc.address
    wallets = payer_wallets()
    for wallet in wallets:
        if chain.balance_of(usdc, wallet.address) == 0:
            chain.set_balance(usdc, wallet.address, STARTING_USDC_ATOMIC)
    return wallets
