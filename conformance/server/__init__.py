"""Server conformance checks."""
