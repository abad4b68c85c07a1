"""pytest fixtures for testing x402 clients against the harness (registered as a pytest11 plugin).

    def test_my_client_pays(xgen_url, funded_wallet):
        result = my_client.generate(xgen_url, key=funded_wallet.private_key_hex)
        assert result.status == "completed"

Options: `--x402-chain ledger|anvil|URL` and `--x402-scenario NAME` (or the ini keys `x402_chain`
and `x402_scenario`), and per test `@pytest.mark.x402_stack(chain=..., scenario=...)`. One stack
per chain is started per session (per xdist worker) and reset before every test that uses it.
Heavy imports happen inside the fixtures: loading the plugin costs nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import respx

    from conformance.report import Report
    from x402_core.wallets import TestWallet
    from x402_harness.stack import Stack

FUNDED_USDC_ATOMIC = 1_000 * 10**6
FIRST_FRESH_WALLET = 10_000
"""Fresh wallets come from here on: above the accounts the harness funds at start."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("x402-harness", "x402-harness: the offline x402 stack")
    group.addoption("--x402-chain", help="chain of the x402_stack fixture: ledger, anvil or a URL")
    group.addoption("--x402-scenario", help="default mock scenario of the x402_stack fixture")
    parser.addini("x402_chain", "chain of the x402_stack fixture", default="ledger")
    parser.addini(
        "x402_scenario", "default mock scenario of the x402_stack fixture", default="happy"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "x402_stack(chain=None, scenario=None): the stack a test's fixtures use"
    )


class _Stacks:
    """One running stack per chain, started on first use, stopped at the end of the session."""

    def __init__(self) -> None:
        self._running: dict[str, Stack] = {}

    def get(self, chain: str) -> Stack:
        if chain not in self._running:
            from x402_harness.stack import Stack, StackConfig

            self._running[chain] = Stack(StackConfig(chain=chain)).start()
        return self._running[chain]

    def close(self) -> None:
        for stack in self._running.values():
            stack.stop()


@pytest.fixture(scope="session")
def _x402_stacks() -> Iterator[_Stacks]:
    stacks = _Stacks()
    yield stacks
    stacks.close()


def _setting(request: pytest.FixtureRequest, name: str) -> str:
    marker = request.node.get_closest_marker("x402_stack")
    if marker is not None and marker.kwargs.get(name):
        return str(marker.kwargs[name])
    return request.config.getoption(f"--x402-{name}") or request.config.getini(f"x402_{name}")


@pytest.fixture
def x402_stack(request: pytest.FixtureRequest, _x402_stacks: _Stacks) -> Stack:
    """The running stack (chain, facilitator, mock xGen server), reset for this test: no jobs, no
    journal, its scenario set. `.endpoint_url`, `.facilitator_url`, `.admin_url`, `.chain`."""
    import httpx

    stack = _x402_stacks.get(_setting(request, "chain"))
    with httpx.Client(base_url=stack.admin_url, headers=stack.admin_headers, timeout=10) as admin:
        admin.post("/reset", json={"purchases": True}).raise_for_status()
        admin.post("/scenario", json={"name": _setting(request, "scenario")}).raise_for_status()
    return stack


@pytest.fixture
def xgen_url(x402_stack: Stack) -> str:
    """The paid endpoint: `POST {xgen_url}` answers 402, pay it to get a job."""
    return x402_stack.endpoint_url


@pytest.fixture
def facilitator_url(x402_stack: Stack) -> str:
    """The facilitator the mock settles with (`/verify`, `/settle`, `/supported`)."""
    return x402_stack.facilitator_url


_fresh_indexes = itertools.count(FIRST_FRESH_WALLET)


@pytest.fixture
def funded_wallet(x402_stack: Stack) -> TestWallet:
    """A test wallet no other test used, holding 1,000 USDC on the stack's chain. Test keys only."""
    from x402_core.wallets import test_wallet

    wallet = test_wallet(next(_fresh_indexes))
    x402_stack.chain.set_balance(x402_stack.token, wallet.address, FUNDED_USDC_ATOMIC)
    return wallet


class JournalReader:
    """The mock's journal of this test: every request and answer, decoded payments included."""

    def __init__(self, admin_url: str, headers: dict[str, str] | None = None) -> None:
        self.admin_url = admin_url
        self.headers = headers or {}

    def entries(self) -> list[dict[str, Any]]:
        import httpx

        from conformance.journal import read_journal

        with httpx.Client(base_url=self.admin_url, headers=self.headers, timeout=10) as admin:
            return read_journal(admin)

    def payments(self) -> list[dict[str, Any]]:
        return [e["payment"] for e in self.entries() if e["payment"] is not None]


@pytest.fixture
def x402_journal(x402_stack: Stack) -> JournalReader:
    return JournalReader(x402_stack.admin_url, x402_stack.admin_headers)


@pytest.fixture
def xgen_respx() -> Iterator[respx.MockRouter]:
    """A respx router answering like the mock at https://xgen.test, for unit tests with no
    server: 402 with both offers, real payment checks, scripted job statuses, PNGs."""
    from conformance.respx_router import xgen_router
    from x402_core.xgen import xgen_listing

    with xgen_router(xgen_listing()) as router:
        yield router


ClientFunction = Callable[[Any], dict[str, Any]]


@pytest.fixture
def x402_conformance(x402_stack: Stack) -> Callable[..., Report]:
    """`x402_conformance(func, scenarios=None)` grades your client function against the catalog's
    client checks: `func(env)` gets a ClientEnv (private_key, server_url, endpoint_path, body,
    timeout_seconds, max_amount) and returns the e2e JSON result (`{"success": ...}`) or raises.
    Pass the report to `assert_conformant`."""
    from conformance.client import CallableClient, grade_client

    urls = x402_stack.urls()

    def run(func: ClientFunction, scenarios: list[str] | None = None) -> Report:
        return grade_client(CallableClient(func), urls, scenarios=scenarios)

    return run


def assert_conformant(report: Report, *, strict: bool = False) -> None:
    """Fail the test with every failed MUST (and SHOULD, when strict), every check that found no
    evidence, and their evidence."""
    failures = report.failures(strict=strict) + report.errors()
    if failures:
        lines = [
            f"{r.check.id} [{r.check.level.value}] {r.check.title}: {r.verdict.evidence.note}"
            for r in failures
        ]
        pytest.fail("x402 conformance failures:\n" + "\n".join(lines), pytrace=False)
