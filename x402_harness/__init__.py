"""Entry points: the `x402-harness` CLI, the Stack that starts everything, the pytest plugin."""
