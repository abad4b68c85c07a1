"""Chain backends: the embedded ledger and EVM JSON-RPC (Anvil or any node)."""
