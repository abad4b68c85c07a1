"""Facilitator simulator: verifies and settles x402 exact-EVM payments."""
