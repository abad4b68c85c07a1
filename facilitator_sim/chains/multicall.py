"""Multicall3 where official facilitators look for it: at its canonical address.

Both official x402 facilitators batch their diagnostic reads (balance, name, version, nonce
state) through Multicall3 to say why a payment would fail; without it their reasons degrade to
`..._simulation_failed`. On a chain the harness starts, the project's own Multicall3-compatible
contract is placed there; a fork keeps the real one.
"""

from __future__ import annotations

from facilitator_sim.chains.evm import EvmChain
from facilitator_sim.contracts import load_multicall_artifact

MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"
_NO_CODE = ("0x", "0x0", "", None)


def install_multicall(chain: EvmChain) -> bool:
    """Place the batcher at MULTICALL3_ADDRESS unless code is there already; whether it did."""
    if chain.rpc("eth_getCode", [MULTICALL3_ADDRESS, "latest"]) not in _NO_CODE:
        return False
    code = "0x" + load_multicall_artifact().deployed_bytecode.hex()
    chain.rpc("anvil_setCode", [MULTICALL3_ADDRESS, code])
    return True
