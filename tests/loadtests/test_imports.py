"""loadtests imports only the protocol and the paying client of ours (ARCHITECTURE.md's layout),
and Locust only where it runs: in the locustfile and the module it reports through."""

from __future__ import annotations

from tests.imports import ROOT, imported_packages

OURS = {
    "x402_core",
    "x402_payer",
    "x402_service",
    "facilitator_sim",
    "mock_server",
    "conformance",
    "loadtests",
    "x402_harness",
    "tests",
    "bench",
}
ALLOWED = {"x402_core", "x402_payer", "loadtests"}
LOCUST_SIDE = {"locustfile.py", "reporting.py"}


def test_loadtests_imports_only_the_protocol_and_the_payer() -> None:
    for path in sorted((ROOT / "loadtests").glob("*.py")):
        assert imported_packages(path) & OURS <= ALLOWED, path


def test_locust_and_gevent_are_imported_only_where_locust_runs() -> None:
    for path in sorted((ROOT / "loadtests").glob("*.py")):
        if path.name not in LOCUST_SIDE:
            assert not imported_packages(path) & {"locust", "gevent"}, path
