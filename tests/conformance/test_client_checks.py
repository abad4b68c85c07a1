"""The client checks pass on the reference payer and catch every broken client."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.catalog import Level, Outcome, Role, load_all
from conformance.client import CommandClient, grade_client
from conformance.target import StackUrls
from tests.conformance.broken_clients import flawed
from x402_harness.cli import main
from x402_harness.stack import Stack

EXAMPLES = Path(__file__).parents[2] / "examples" / "clients"
REFERENCE = [sys.executable, str(EXAMPLES / "reference_payer.py")]

# flaw -> (scenarios it is run through, the MUST checks it must fail)
BROKEN: dict[str, tuple[list[str], set[str]]] = {
    "wrong_domain": (["quick"], {"CLI-001", "CLI-005", "CLI-009", "CLI-011"}),
    "fixed_nonce": (["quick", "fail"], {"CLI-007"}),
    "long_window": (["quick"], {"CLI-001", "CLI-006", "CLI-009", "CLI-011"}),
    "pays_twice": (["quick"], {"CLI-009"}),
    "ignores_retry_after": (["quick", "rate_limited"], {"CLI-013"}),
    "polls_after_terminal": (["quick"], {"CLI-011"}),
    "changes_body": (["quick"], {"CLI-008"}),
    "success_on_failed_job": (["fail"], {"CLI-015"}),
    "ignores_timeout": (["stuck"], {"CLI-016"}),
    "retries_failed_settlement": (["settle_fails"], {"CLI-010"}),
    "gives_up_on_503": (["status_errors"], {"CLI-014"}),
    "alters_accepted": (["quick"], {"CLI-001", "CLI-003", "CLI-006", "CLI-009", "CLI-011"}),
    "pays_more": (["quick"], {"CLI-001", "CLI-004", "CLI-009", "CLI-011"}),
    "garbage_header": (["quick"], {"CLI-001", "CLI-002", "CLI-009", "CLI-011"}),
    "pays_unknown_offers": (
        ["offer_unknown_network", "offer_unknown_asset"],
        {"CLI-003", "CLI-019", "CLI-020"},
    ),
    "pays_unreadable_offer": (["offer_malformed"], {"CLI-003", "CLI-022"}),
    "both_headers": (["quick"], {"CLI-001", "CLI-002", "CLI-009", "CLI-011", "CLI-024"}),
}
# The small client has no price limit: in the overpriced scenario it pays.
OVERPRICED = ("skips_download", (["offer_overpriced"], {"CLI-021"}))
BROKEN[OVERPRICED[0]] = OVERPRICED[1]
BROKEN["retries_failed_settlement"] = (["settle_fails", "facilitator_down"], {"CLI-010", "CLI-023"})


@pytest.fixture(scope="module")
def urls() -> Iterator[StackUrls]:
    with Stack() as stack:
        yield StackUrls(
            stack.server_url, stack.listing.path, stack.admin_url, stack.facilitator_url
        )


def test_the_reference_payer_passes_every_client_check(urls: StackUrls) -> None:
    report = grade_client(CommandClient(REFERENCE), urls)
    assert report.failed_ids() == set()
    assert all(r.outcome is Outcome.PASS for r in report.results)


@pytest.mark.parametrize("flaw", sorted(BROKEN))
def test_each_broken_client_fails_exactly_its_checks(flaw: str, urls: StackUrls) -> None:
    scenarios, expected = BROKEN[flaw]
    report = grade_client(flawed(**{flaw: True}), urls, scenarios=scenarios)
    assert report.failed_ids(Level.MUST) == expected


def test_every_must_check_is_caught_by_some_broken_client() -> None:
    caught = set().union(*(fails for _, fails in BROKEN.values()))
    musts = {c.id for c in load_all().checks(Role.CLIENT) if c.level is Level.MUST}
    assert musts <= caught


def test_command_line_grades_an_external_client(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["conformance", "client", "--scenario", "quick", "--", *REFERENCE])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "CLI-001" in out


@pytest.mark.parametrize(
    ("example", "versions"),
    [("sdk_httpx.py", "v1,v2"), ("sdk_requests.py", "v1,v2"), ("sdk_v1.py", "v1")],
)
def test_the_official_sdk_example_clients_pass(
    example: str, versions: str, capsys: pytest.CaptureFixture[str]
) -> None:
    command = [sys.executable, str(EXAMPLES / example)]
    scenarios = ["--scenario", "quick", "--scenario", "offer_overpriced"]
    code = main(["conformance", "client", "--versions", versions, *scenarios, "--", *command])
    assert code == 0, capsys.readouterr().out


def test_the_sdk_v1_client_cannot_pay_a_server_offering_both_versions() -> None:
    with Stack() as stack:
        urls = StackUrls(
            stack.server_url, stack.listing.path, stack.admin_url, stack.facilitator_url
        )
        report = grade_client(
            CommandClient([sys.executable, str(EXAMPLES / "sdk_v1.py")]), urls, scenarios=["quick"]
        )
    assert "CLI-001" in report.failed_ids(Level.MUST)
    assert "No payment requirements match" in str(report.details["runs"]["quick"]["result"])
