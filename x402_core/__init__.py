"""The x402 protocol, pure: networks, wire models, headers, EIP-3009, reasons, wallets."""
