"""The xGen mock: `POST /v1/images/generate` behind an x402 paywall, with jobs and scenarios."""
