"""pytest fixtures for testing x402 clients against the harness (registered as a pytest11 plugin).

    def test_my_client_pays(xgen_url, funded_wallet):
        result = my_client.generate(xgen_url, key=funded_wallet.private_key_hex)
        assert result.status == "completed"

Options: `--x402-chain ledger|anvil|URL` and `--x402-scenario NAME` (or the ini keys `x402_chain`
and `x402_scenario`), and per test `@pytest.mark.x402_stack(chain=..., scenario=..., clock=...)`.
One stack per chain and clock is started per session (per xdist worker), reset before every test
that uses it, and stopped when the session ends, also after a crash in its teardown.
Heavy imports happen inside the fixtures: loading the plugin costs nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conformance.report import Report
    from conformance.respx_router import XgenRouter
    from x402_harness.journal_reader import JournalReader
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
        "markers",
        "x402_stack(chain=None, scenario=None, clock=None): the stack a test's fixtures use "
        "(clock 'test' moves only with x402_stack.advance_clock)",
    )


@dataclass
class _Stacks:
    """One running stack per (chain, clock), started on first use, stopped at the end of the
    session; closing twice stops nothing twice."""

    running: dict[tuple[str, str], Stack] = field(default_factory=dict)

    def get(self, chain: str, clock: str) -> Stack:
        if (chain, clock) not in self.running:
            from mock_server.clock import ClockKind
            from mock_server.config import ServerSettings
            from x402_harness.stack import Stack, StackConfig

            settings = ServerSettings(clock=ClockKind(clock))
            config = StackConfig(chain=chain, server=settings)
            self.running[(chain, clock)] = Stack(config).start()
        return self.running[(chain, clock)]

    def close(self) -> None:
        while self.running:
            _, stack = self.running.popitem()
            stack.stop()


_STACKS = pytest.StashKey[_Stacks]()


@pytest.fixture(scope="session")
def _x402_stacks(pytestconfig: pytest.Config) -> Iterator[_Stacks]:
    stacks = pytestconfig.stash.setdefault(_STACKS, _Stacks())
    yield stacks
    stacks.close()


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None, object, object]:
    """Stops every stack after the session's teardown, also when that teardown crashed before
    reaching the stacks' own."""
    try:
        return (yield)
    finally:
        stacks = session.config.stash.get(_STACKS, None)
        if stacks is not None:
            stacks.close()


def _setting(request: pytest.FixtureRequest, name: str) -> str:
    marker = request.node.get_closest_marker("x402_stack")
    if marker is not None and marker.kwargs.get(name):
        return str(marker.kwargs[name])
    return request.config.getoption(f"--x402-{name}") or request.config.getini(f"x402_{name}")


def _clock(request: pytest.FixtureRequest) -> str:
    from mock_server.clock import ClockKind

    marker = request.node.get_closest_marker("x402_stack")
    clock = str((marker.kwargs.get("clock") if marker else None) or ClockKind.REAL.value)
    known = [kind.value for kind in ClockKind]
    if clock not in known:
        pytest.fail(
            f"@pytest.mark.x402_stack(clock={clock!r}): expected one of {', '.join(known)}",
            pytrace=False,
        )
    return clock


@pytest.fixture
def x402_stack(request: pytest.FixtureRequest, _x402_stacks: _Stacks) -> Stack:
    """The running stack (chain, facilitator, mock xGen server), reset for this test: no jobs, no
    journal, its scenario set. `.endpoint_url`, `.server_url`, `.facilitator_url`, `.admin_url`,
    `.chain`, `.token`, `.pay_to`; `.queue(*scenarios)`, `.set_scenario(name)`,
    `.advance_clock(seconds)` (with `clock="test"`) and `.reset()`."""
    from x402_harness.mock_admin import MockAdminError

    stack = _x402_stacks.get(_setting(request, "chain"), _clock(request))
    stack.reset()
    scenario = _setting(request, "scenario")
    try:
        stack.set_scenario(scenario)
    except MockAdminError as exc:
        pytest.fail(f"x402_stack: scenario {scenario!r} refused: {exc}", pytrace=False)
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


@dataclass(frozen=True)
class FundedWallet:
    """A funded test wallet; its key as every other key here, a 0x-hex string."""

    __test__ = False  # not a pytest test class

    index: int
    address: str
    private_key: str
    """0x followed by 64 hex digits."""
    private_key_bytes: bytes


@pytest.fixture
def funded_wallet(x402_stack: Stack) -> FundedWallet:
    """A test wallet no other test used, holding 1,000 USDC on the stack's chain. Test keys only."""
    from x402_core.wallets import test_wallet

    wallet = test_wallet(next(_fresh_indexes))
    x402_stack.chain.set_balance(x402_stack.token, wallet.address, FUNDED_USDC_ATOMIC)
    return FundedWallet(wallet.index, wallet.address, wallet.private_key_hex, wallet.private_key)


@pytest.fixture
def x402_journal(x402_stack: Stack) -> JournalReader:
    """What the mock saw during this test: `.entries()`, `.requests`, `.called`, `.call_count`,
    `.paid_requests`, `.paid`, `.payments()`, `.assert_paid_once()`, `.assert_not_paid()`."""
    from x402_harness.journal_reader import JournalReader

    return JournalReader(x402_stack.admin_url, x402_stack.listing.path, x402_stack.admin_headers)


@pytest.fixture
def xgen_respx(request: pytest.FixtureRequest) -> Iterator[XgenRouter]:
    """A respx router answering like the mock at https://xgen.test, for unit tests with no
    server: 402 with both offers, real payment checks, every scenario of the mock (the marker's
    or option's as its default, `X-Mock-Scenario`, `.queue(...)`), job statuses, PNGs."""
    from conformance.respx_router import xgen_router
    from conformance.respx_scenarios import UnknownScenarioError
    from x402_core.xgen import xgen_listing

    scenario = _setting(request, "scenario")
    try:
        router = xgen_router(xgen_listing(), scenario=scenario)
    except UnknownScenarioError as exc:
        pytest.fail(f"xgen_respx: {exc}", pytrace=False)
    with router:
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
