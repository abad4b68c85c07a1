"""What the mock server and the facilitator share as services: the journal of what crossed the
wire, settings read from `X402H_*` environment variables, and serving an ASGI app on loopback."""
