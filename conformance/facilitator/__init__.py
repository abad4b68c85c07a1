"""Facilitator conformance checks."""
