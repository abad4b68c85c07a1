"""The project's contracts and their compiled artifacts, built by scripts/build_contract.js: the
EIP-3009 token and a Multicall3-compatible call batcher."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ARTIFACT_PATH: Path = Path(__file__).parent / "EIP3009Token.json"
SOURCE_PATH: Path = Path(__file__).parent / "EIP3009Token.sol"
MULTICALL_ARTIFACT_PATH: Path = Path(__file__).parent / "Multicall3.json"
MULTICALL_SOURCE_PATH: Path = Path(__file__).parent / "Multicall3.sol"


@dataclass(frozen=True)
class ContractArtifact:
    """A compiled contract: ABI, creation code and runtime code (for `anvil_setCode`)."""

    contract_name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes
    source_sha256: str


@functools.cache
def _load(path: Path) -> ContractArtifact:
    data = json.loads(path.read_text(encoding="utf-8"))
    return ContractArtifact(
        contract_name=data["contractName"],
        abi=data["abi"],
        bytecode=bytes.fromhex(data["bytecode"].removeprefix("0x")),
        deployed_bytecode=bytes.fromhex(data["deployedBytecode"].removeprefix("0x")),
        source_sha256=data["sourceSha256"],
    )


def load_token_artifact() -> ContractArtifact:
    """The token's committed artifact, read once per process."""
    return _load(ARTIFACT_PATH)


def load_multicall_artifact() -> ContractArtifact:
    """The Multicall3-compatible batcher's committed artifact, read once per process."""
    return _load(MULTICALL_ARTIFACT_PATH)
