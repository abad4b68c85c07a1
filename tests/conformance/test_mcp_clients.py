"""MCP clients graded with `--transport mcp`: the official SDK's MCP client passes the money checks
and the tool's own; each broken MCP client fails exactly its checks."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.catalog import Role, load_all
from conformance.client import CommandClient, Transport, grade_client
from conformance.client.mcp_checks import MCP_ONLY
from conformance.target import StackUrls
from tests.conformance.broken_mcp_clients import flawed_mcp
from tests.conformance.test_client_checks import BROKEN, PAYMENT_SCENARIOS, REFUSED
from x402_harness.cli import main
from x402_harness.stack import Stack

SDK_MCP = [sys.executable, str(Path(__file__).parents[2] / "examples" / "clients" / "sdk_mcp.py")]
BROKEN_MCP: dict[str, tuple[list[str], set[str]]] = {
    "payment_as_text": (["quick"], {*REFUSED, "CLI-002", "CLI-053"}),
    "payment_in_arguments": (["quick"], {*REFUSED, "CLI-053"}),
    "changes_arguments": (["quick"], {"CLI-008", "CLI-054"}),
    "pays_twice": (["quick"], {"CLI-009", "CLI-018"}),  # it reports only one of the two
}


@pytest.fixture(scope="module")
def urls() -> Iterator[StackUrls]:
    with Stack() as stack:
        yield stack.urls()


def test_the_official_sdk_mcp_client_passes(urls: StackUrls) -> None:
    report = grade_client(
        CommandClient(SDK_MCP), urls, scenarios=PAYMENT_SCENARIOS, transport=Transport.MCP
    )
    assert report.failed_ids() == set()
    assert report.errors() == []
    graded = {r.check.id for r in report.results}
    assert graded >= MCP_ONLY
    assert report.details["transport"] == "mcp"


@pytest.mark.parametrize("flaw", sorted(BROKEN_MCP))
def test_each_broken_mcp_client_fails_exactly_its_checks(flaw: str, urls: StackUrls) -> None:
    scenarios, expected = BROKEN_MCP[flaw]
    client = flawed_mcp(**{flaw: True})
    report = grade_client(client, urls, scenarios=scenarios, transport=Transport.MCP)
    assert report.failed_ids() == expected
    assert report.errors() == []


def test_every_client_check_is_caught_by_some_broken_client() -> None:
    caught = set().union(*(fails for _, fails in [*BROKEN.values(), *BROKEN_MCP.values()]))
    assert {c.id for c in load_all().checks(Role.CLIENT)} <= caught


def test_command_line_grades_an_mcp_client(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["conformance", "client", "--transport", "mcp", "--scenario", "quick", "--", *SDK_MCP]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "CLI-053" in out
