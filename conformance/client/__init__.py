"""Client conformance checks."""
