"""The project's EIP-3009 token contract: its compiled artifact, built by scripts/build_token.js."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ARTIFACT_PATH: Path = Path(__file__).parent / "EIP3009Token.json"
SOURCE_PATH: Path = Path(__file__).parent / "EIP3009Token.sol"


@dataclass(frozen=True)
class TokenArtifact:
    """The compiled token: ABI, creation code and runtime code (for `anvil_setCode`)."""

    contract_name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes
    source_sha256: str


@functools.cache
def load_token_artifact() -> TokenArtifact:
    """Read the committed artifact once per process."""
    data = json.loads(ARTIFACT_PATH.read_text(encoding="utf-8"))
    return TokenArtifact(
        contract_name=data["contractName"],
        abi=data["abi"],
        bytecode=bytes.fromhex(data["bytecode"].removeprefix("0x")),
        deployed_bytecode=bytes.fromhex(data["deployedBytecode"].removeprefix("0x")),
        source_sha256=data["sourceSha256"],
    )
