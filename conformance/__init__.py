"""Graded conformance checks for x402 clients, servers and facilitators.

The catalog is data (`catalog.py`); each role's checks live in their own package and register
themselves; grading runs checks against a role's context and gives a `Report` (`report.py`) that
renders as a console table, JSON or JUnit XML (`render.py`), SARIF (`sarif.py`) or one HTML page
(`html_report.py`). Nothing here starts a server: it is handed the URLs (and, for clients, the
journal) of a running stack.
"""
