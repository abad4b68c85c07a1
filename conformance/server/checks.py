"""The server checks; each registers itself in the catalog."""
