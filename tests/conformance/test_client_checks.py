"""The client checks pass on the reference payer and catch every broken client."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.catalog import Level, Outcome
from conformance.client import CommandClient, grade_client
from conformance.target import StackUrls
from mock_server.config import ServerSettings
from tests.conformance.broken_clients import flawed
from x402_harness.cli import main
from x402_harness.stack import Stack, StackConfig

EXAMPLES = Path(__file__).parents[2] / "examples" / "clients"
REFERENCE = [sys.executable, str(EXAMPLES / "reference_payer.py")]

NO_FLAW = "no flaw"
PENDING = ["settle_pending", "facilitator_timeout"]
REFUSED = {"CLI-001", "CLI-009", "CLI-011", "CLI-017", "CLI-018"}
"""What a client whose payment the server refuses fails besides: it buys, polls, downloads and
reports nothing."""
# flaws (joined by +) -> (scenarios it is run through, the checks it must fail)
BROKEN: dict[str, tuple[list[str], set[str]]] = {
    "wrong_domain": (["quick"], {*REFUSED, "CLI-005"}),
    "fixed_nonce": (["quick", "settle_fails"], {"CLI-007"}),
    # one honest re-send must not hide the nonce reused for another payment
    "fixed_nonce+resends_payment": (["quick", "settle_fails"], {"CLI-007", "CLI-009"}),
    "resends_payment": (["quick"], {"CLI-009"}),
    "long_window": (["quick"], {*REFUSED, "CLI-026"}),
    "not_yet_valid": (["quick"], {*REFUSED, "CLI-006"}),
    "pays_twice": (["quick"], {"CLI-009", "CLI-018"}),  # it reports only one of the two
    "ignores_retry_after": (["quick", "rate_limited"], {"CLI-012", "CLI-013"}),
    "polls_after_terminal": (["quick"], {"CLI-011"}),
    "changes_body": (["quick"], {"CLI-008"}),
    "success_on_failed_job": (["fail"], {"CLI-015"}),
    "ignores_timeout": (["stuck"], {"CLI-016"}),
    "retries_failed_settlement": (["settle_fails", "facilitator_down"], {"CLI-010", "CLI-023"}),
    "gives_up_on_503": (["status_errors"], {"CLI-014"}),
    "alters_accepted": (["quick"], {*REFUSED, "CLI-003"}),
    "pays_more": (["quick"], {*REFUSED, "CLI-004"}),
    "garbage_header": (["quick"], {*REFUSED, "CLI-002"}),
    "pays_unknown_offers": (
        ["offer_unknown_network", "offer_unknown_asset"],
        {"CLI-019", "CLI-020"},  # it pays exactly what it was offered: 003 to 006 pass
    ),
    "pays_unreadable_offer": (["offer_malformed"], {"CLI-022"}),
    "both_headers": (["quick"], {*REFUSED, "CLI-002", "CLI-024"}),
    "skips_download": (["quick"], {"CLI-017"}),
    "hides_transaction": (["quick"], {"CLI-018"}),
    "polls_other_job": (["quick"], {"CLI-025"}),
    NO_FLAW: (["offer_overpriced"], {"CLI-021"}),  # the small client has no price limit
    "bad_payment_id": (["quick"], {*REFUSED, "CLI-050"}),
    # a settled payment's id sent with the next payment: 409, which settle_fails reports anyway
    "fixed_payment_id": (["quick", "settle_fails"], {"CLI-051"}),
    # the re-send differs in its extensions: another payload with the same nonce (CLI-007)
    "resends_payment+new_id_on_resend": (["quick"], {"CLI-007", "CLI-009", "CLI-051"}),
    "omits_payment_id": (["identifier_required"], {"CLI-052"}),
    "gives_up_on_pending": (PENDING, {"CLI-028"}),  # a SHOULD: it paid once, it just left
    "signs_anew_on_pending": (["facilitator_timeout"], {"CLI-027", "CLI-028"}),
}


def _flaws(name: str) -> dict[str, bool]:
    return {} if name == NO_FLAW else dict.fromkeys(name.split("+"), True)


@pytest.fixture(scope="module")
def urls() -> Iterator[StackUrls]:
    with Stack() as stack:
        yield StackUrls(
            stack.server_url, stack.listing.path, stack.admin_url, stack.facilitator_url
        )


@pytest.mark.slow
def test_the_reference_payer_passes_every_client_check(urls: StackUrls) -> None:
    report = grade_client(CommandClient(REFERENCE), urls)
    assert report.failed_ids() == set()
    assert all(r.outcome is Outcome.PASS for r in report.results)
    assert report.details["did_not_run"] is None


@pytest.mark.parametrize("flaw", sorted(BROKEN))
def test_each_broken_client_fails_exactly_its_checks(flaw: str, urls: StackUrls) -> None:
    scenarios, expected = BROKEN[flaw]
    report = grade_client(flawed(**_flaws(flaw)), urls, scenarios=scenarios)
    assert report.failed_ids() == expected
    assert report.errors() == []


@pytest.mark.parametrize(
    "command",
    [["/nonexistent/x402-client"], [sys.executable, "-c", "pass"]],
    ids=["no such command", "exits at once"],
)
def test_a_client_that_never_runs_passes_nothing(command: list[str], urls: StackUrls) -> None:
    scenarios = ["quick", "fail", "settle_fails", "offer_overpriced"]
    report = grade_client(CommandClient(command), urls, scenarios=scenarios)
    assert {r.outcome for r in report.results} <= {
        Outcome.FAIL,
        Outcome.ERROR,
        Outcome.NOT_APPLICABLE,
    }
    assert {"CLI-010", "CLI-015", "CLI-021", "CLI-002", "CLI-007"} <= {
        r.check.id for r in report.errors()
    }
    assert report.exit_code() == 1
    assert "the client did not run" in report.details["did_not_run"]


def test_command_line_refuses_a_client_that_cannot_start(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A program that does not exist is a usage error, said before the stack starts."""
    code = main(["conformance", "client", "--scenario", "fail", "--", "/nonexistent/x402-client"])
    out = capsys.readouterr().out
    assert code == 2
    assert out.count("\n") == 1
    assert "error: cannot run the client command: /nonexistent/x402-client is not a program" in out


def test_command_line_grades_an_external_client(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["conformance", "client", "--scenario", "quick", "--", *REFERENCE])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "CLI-001" in out


PAYMENT_SCENARIOS = ["quick", "settle_fails", "offer_unknown_network", "offer_overpriced"]
"""Where the official clients' payments are judged: one bought, one refused, two unpayable."""


@pytest.mark.parametrize(
    ("example", "versions"),
    [("sdk_httpx.py", {1, 2}), ("sdk_requests.py", {1, 2}), ("sdk_v1.py", {1})],
)
def test_the_official_sdk_example_clients_pass(example: str, versions: set[int]) -> None:
    """Each pays the offer it answered (the v1 one under the v1 offer's domain); the v1 client
    is graded against a server offering v1 only (see the next test)."""
    server = ServerSettings(versions=frozenset(versions))
    with Stack(StackConfig(server=server)) as stack:
        urls = StackUrls(
            stack.server_url, stack.listing.path, stack.admin_url, stack.facilitator_url
        )
        command = CommandClient([sys.executable, str(EXAMPLES / example)])
        report = grade_client(command, urls, scenarios=PAYMENT_SCENARIOS)
    assert report.failed_ids() == set()
    assert report.errors() == []
    assert report.result("CLI-005").outcome is Outcome.PASS


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


def test_the_sdk_clients_send_no_payment_identifier_unless_told(urls: StackUrls) -> None:
    """The SDK echoes the declaration but adds no id by itself (it has a helper,
    `append_payment_identifier_to_extensions`, and no client extension that calls it): a server
    that requires one refuses its payment (docs/conformance-results.md)."""
    command = CommandClient([sys.executable, str(EXAMPLES / "sdk_httpx.py")])
    report = grade_client(command, urls, scenarios=["identifier_required"])
    assert report.failed_ids() == {"CLI-052"}
    assert "invalid_payment_identifier" in str(report.details["runs"]["identifier_required"])


@pytest.mark.parametrize("example", ["sdk_httpx.py", "sdk_requests.py"])
def test_the_official_sdk_clients_give_up_on_a_pending_settlement(
    example: str, urls: StackUrls
) -> None:
    """A departure docs/conformance-results.md records: the SDK's clients hand the 503
    settlement_pending to the caller and never send the payment again (a SHOULD, CLI-028);
    they sign no second authorization (CLI-027 passes)."""
    command = CommandClient([sys.executable, str(EXAMPLES / example)])
    report = grade_client(command, urls, scenarios=PENDING)
    assert report.failed_ids() == {"CLI-028"}
    assert report.errors() == []
    assert report.result("CLI-027").outcome is Outcome.PASS
    assert "was never sent again" in report.result("CLI-028").verdict.evidence.note
