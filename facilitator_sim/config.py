"""The facilitator's settings: one typed object, from CLI flags or `X402H_FACILITATOR_*`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from facilitator_sim.rules import Policy
from x402_core.eip3009 import SECP256K1_N
from x402_core.networks import Network, UnknownNetworkError, network_by_v1_name
from x402_core.wallets import FACILITATOR_INDEX, facilitator_wallet
from x402_service.envconfig import from_env

ENV_PREFIX = "X402H_FACILITATOR_"
_PRIVATE_KEY = re.compile(r"(?:0x)?[0-9a-fA-F]{64}", re.ASCII)


class FacilitatorSettingsError(ValueError):
    """Settings the facilitator cannot run with; the message names the setting."""


@dataclass(frozen=True, slots=True)
class FacilitatorSettings:
    host: str = "127.0.0.1"
    port: int = 0
    """0 picks a free port."""
    chain: str = "ledger"
    """`ledger`, `anvil`, or the URL of a JSON-RPC node."""
    network: str = "base"
    """The network the ledger or a started Anvil runs (`base`, `base-sepolia`): its chain id
    and its USDC (a node given by URL has its own chain id)."""
    allow_remote_rpc: bool = False
    """Sign for a node that is not on loopback (never needed for tests)."""
    v1_value_at_least: bool = False
    max_body_bytes: int = 64 * 1024
    journal_path: Path | None = None
    """Also append the journal to this JSON-lines file."""
    signer_key: str = field(default="", repr=False)
    """Hex private key of the settlement signer; empty: Anvil's account 0."""
    state_path: Path | None = None
    """SQLite file for the settlement records (and, on the ledger, the whole chain state), so a
    restarted facilitator never settles an authorization twice; None: kept in memory only."""
    settle_timeout: float = 20.0
    """Seconds a settle waits for its receipt before answering `settlement_pending`."""

    def __post_init__(self) -> None:
        self.network_of_chain()
        if not 0 < self.settle_timeout <= 3600:
            raise FacilitatorSettingsError(
                f"settle_timeout is {self.settle_timeout}; expected seconds above 0, at most 3600"
            )
        key = self.signer_key
        if key and not (_PRIVATE_KEY.fullmatch(key) and 0 < int(key, 16) < SECP256K1_N):
            raise FacilitatorSettingsError(
                f"signer_key ({ENV_PREFIX}SIGNER_KEY) is not a secp256k1 private key: expected "
                f"64 hex digits, 0x optional, not zero and below the curve order (got "
                f"{len(key)} characters)"
            )

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
    ) -> FacilitatorSettings:
        return from_env(cls, ENV_PREFIX, environ, overrides)

    def policy(self) -> Policy:
        return Policy(
            v1_value_at_least=self.v1_value_at_least, receipt_timeout_seconds=self.settle_timeout
        )

    def network_of_chain(self) -> Network:
        try:
            return network_by_v1_name(self.network)
        except UnknownNetworkError as exc:
            raise FacilitatorSettingsError(f"network ({ENV_PREFIX}NETWORK): {exc}") from exc

    def signer_private_key(self) -> bytes:
        if not self.signer_key:
            return facilitator_wallet().private_key
        return bytes.fromhex(self.signer_key.removeprefix("0x"))

    def signer_source(self) -> str:
        """Where the signer's key comes from, as the banner says it."""
        if self.signer_key:
            return f"key from {ENV_PREFIX}SIGNER_KEY"
        return f"Anvil account {FACILITATOR_INDEX}"
