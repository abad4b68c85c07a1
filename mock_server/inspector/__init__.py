"""The inspector: `GET /__mock__/`, the page a developer opens when a client misbehaves. Every
purchase as a timeline, pending purchases, balances, conformance runs, the journal; live over
server-sent events; controls that use the admin API."""
