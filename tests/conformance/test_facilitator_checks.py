"""The facilitator checks pass on the simulator (ledger and Anvil) and catch every broken one."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.catalog import Level, Outcome, Role, load_all
from conformance.facilitator import grade_facilitator
from conformance.facilitator.reasons import ReasonTableError, reason_table
from conformance.report import Report
from facilitator_sim.app import create_app
from facilitator_sim.chains.base import Chain
from facilitator_sim.chains.evm import EvmChain
from facilitator_sim.chains.factory import fund_test_wallets, open_chain
from facilitator_sim.service import Facilitator
from tests.conformance.broken_facilitators import (
    ANVIL_VARIANTS,
    LEDGER_VARIANTS,
    _app,
    fund_signer,
)
from tests.conformance.sdk_facilitator import create_sdk_facilitator_app
from x402_core.wallets import facilitator_wallet
from x402_harness.cli import main
from x402_harness.stack import Stack
from x402_service.serving import ServerThread

SIGNATURE_VECTORS = {f"FAC-{n:03d}" for n in (20, 24, 25, 26, 27, 28, 29, 31, 32, 33, 34)}
REASONED = {
    "FAC-008", "FAC-020", "FAC-021", "FAC-022", "FAC-023", "FAC-024", "FAC-025", "FAC-026",
    "FAC-027", "FAC-028", "FAC-029", "FAC-031", "FAC-032", "FAC-033", "FAC-034", "FAC-035",
    "FAC-036", "FAC-037", "FAC-038", "FAC-039", "FAC-040", "FAC-041", "FAC-042", "FAC-043",
    "FAC-044", "FAC-045", "FAC-046", "FAC-047", "FAC-048", "FAC-049", "FAC-050", "FAC-051",
    "FAC-059",
}  # fmt: skip

EXPECTED_FAILURES: dict[str, set[str]] = {
    "nonce tracking off": {"FAC-008", "FAC-010", "FAC-044", "FAC-059"},
    "settles twice under concurrency": {"FAC-010"},
    "reports another transaction for a repeat": {"FAC-008", "FAC-010", "FAC-059"},
    "remembers settlements by nonce alone": {"FAC-059"},
    "remembers its settlements (not broken)": set(),
    "no signature check": SIGNATURE_VECTORS,
    "accepts high-s": {"FAC-028"},
    "no time window": {"FAC-041", "FAC-042", "FAC-043"},
    "refuses windows as long as maxTimeoutSeconds": {"FAC-012"},
    "no value check": {"FAC-022", "FAC-023", "FAC-050"},
    "no recipient check": {"FAC-021"},
    "no accepted check": {"FAC-036", "FAC-037", "FAC-049"},
    "no balance check": {"FAC-045"},
    "no asset check": {"FAC-035"},
    "no EIP-712 domain check": {"FAC-038", "FAC-039", "FAC-040"},
    "reads any version as v2": {"FAC-048"},
    "no network check": {"FAC-047", "FAC-051"},
    "no scheme or version check": {"FAC-046"},
    "verify spends": {"FAC-009"},
    "verify refuses valid payments": {"FAC-004", "FAC-005", "FAC-009", "FAC-012"},
    "5xx on malformed input": {"FAC-030", "FAC-053", "FAC-054", "FAC-055", "FAC-056"},
    "empty /supported": {"FAC-001", "FAC-002", "FAC-003", "FAC-057", "FAC-058"},
    "lists no v1": {"FAC-002"},  # and its v1 checks are not applicable
    "no signers": {"FAC-003"},
    "a kind that is not CAIP-2": {"FAC-057"},
    "lists a network it cannot serve": {"FAC-058"},
    "generic reasons": REASONED - {"FAC-008"},  # its repeat reports the same transaction
    "no payer in /verify": {"FAC-013"},
    "no transaction in /settle": {"FAC-006", "FAC-007"},
    "v2 only": {"FAC-005", "FAC-007", "FAC-050", "FAC-051"},  # it lists v1, then refuses it
    "forgets payment ids": {"FAC-070"},
    "a discovery list without pagination": {"FAC-071"},
    "catalogues info its schema refuses": {"FAC-072"},
}
EXPECTED_ON_ANVIL: dict[str, set[str]] = {
    # it never settles, so it never binds a payment-identifier either
    "reports an unrelated transaction": {
        "FAC-008",
        "FAC-010",
        "FAC-011",
        "FAC-044",
        "FAC-059",
        "FAC-070",
    },
    "pays the payee again on a repeat": {"FAC-008", "FAC-010"},
}
PYTHON_SDK_DEPARTURES = {"FAC-043", "FAC-049", "FAC-070"}
"""SHOULDs of this harness's policy the official Python SDK does not follow (no MUST fails)."""


def _grade(chain: Chain, app: object, reasons: str = "ours") -> Report:
    fund_test_wallets(chain)
    with ServerThread(app) as server:  # type: ignore[arg-type]
        return grade_facilitator(server.url, reasons=reasons, rpc_url=chain.rpc_url)


def test_there_are_at_least_thirty_facilitator_checks() -> None:
    assert len(load_all().checks(Role.FACILITATOR)) >= 30


def test_the_simulator_passes_every_check_on_the_ledger() -> None:
    with open_chain("ledger") as opened:
        report = _grade(opened.chain, create_app(opened.chain))
    assert report.failed_ids() == set()
    assert report.errors() == []
    not_applicable = {r.check.id for r in report.results if r.outcome is Outcome.NOT_APPLICABLE}
    assert not_applicable == {"FAC-011", "FAC-052"}  # both need an RPC URL


@pytest.mark.anvil
def test_the_simulator_passes_every_check_on_anvil() -> None:
    with open_chain("anvil") as opened:
        report = _grade(opened.chain, create_app(opened.chain))
    assert report.failed_ids() == set()
    assert all(r.outcome is Outcome.PASS for r in report.results)


@pytest.mark.anvil
def test_a_facilitator_that_trusts_its_own_records_misses_cancelled_authorizations() -> None:
    """Without asking the chain, its records still refuse what it settled itself (FAC-044,
    FAC-059 hold) but not an authorization cancelled on chain."""
    with open_chain("anvil") as opened:
        chain = opened.chain
        rules = tuple(
            r
            for r in Facilitator(chain, "0x" + "00" * 20).rules
            if r.__name__ not in ("nonce_unused", "simulation_succeeds")
        )
        broken = Facilitator(chain, facilitator_wallet().address, rules=rules)
        report = _grade(chain, _app(chain, broken))
    assert report.failed_ids(Level.MUST) == {"FAC-052"}


@pytest.fixture(params=sorted(LEDGER_VARIANTS))
def broken_report(request: pytest.FixtureRequest) -> tuple[str, Report]:
    chain_class, build = LEDGER_VARIANTS[request.param]
    chain = chain_class()
    return request.param, _grade(chain, build(chain))


def test_each_broken_facilitator_fails_exactly_its_checks(
    broken_report: tuple[str, Report],
) -> None:
    name, report = broken_report
    assert report.failed_ids() == EXPECTED_FAILURES[name]
    assert report.errors() == []


@pytest.mark.anvil
@pytest.mark.parametrize("name", sorted(ANVIL_VARIANTS))
def test_what_only_the_chain_shows_is_caught_on_anvil(name: str) -> None:
    with open_chain("anvil") as opened:
        assert isinstance(opened.chain, EvmChain)
        fund_signer(opened.chain)
        report = _grade(opened.chain, ANVIL_VARIANTS[name](opened.chain))
    assert report.failed_ids() == EXPECTED_ON_ANVIL[name]


def test_every_check_is_caught_by_some_broken_facilitator() -> None:
    caught = set().union(*EXPECTED_FAILURES.values(), *EXPECTED_ON_ANVIL.values(), {"FAC-052"})
    assert {c.id for c in load_all().checks(Role.FACILITATOR)} <= caught


@pytest.mark.anvil
def test_the_official_python_sdk_facilitator_fails_no_must() -> None:
    """The SDK's facilitator on our Anvil, graded with its own reasons: every MUST passes; it
    departs only from this harness's policy (windows and `accepted` it does not compare)."""
    with open_chain("anvil") as opened:
        assert opened.chain.rpc_url is not None
        app = create_sdk_facilitator_app(opened.chain.rpc_url)
        report = _grade(opened.chain, app, reasons="python-sdk")
    assert report.failed_ids(Level.MUST) == set()
    assert report.failed_ids() == PYTHON_SDK_DEPARTURES
    assert report.errors() == []
    assert report.result("FAC-008").verdict.evidence.note.startswith("1 refused")


def test_generic_reasons_pass_when_any_refusal_is_accepted() -> None:
    chain_class, build = LEDGER_VARIANTS["generic reasons"]
    chain = chain_class()
    assert _grade(chain, build(chain), reasons="any").failed_ids() == set()


def test_command_line_grades_and_writes_junit(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = f"{tmp_path}/facilitator.xml"
    with open_chain("ledger") as opened:
        fund_test_wallets(opened.chain)
        with ServerThread(create_app(opened.chain)) as server:
            code = main(
                [
                    "conformance",
                    "facilitator",
                    server.url,
                    "--junit",
                    junit,
                    "--only",
                    "FAC-001",
                    "FAC-020",
                ]
            )
    assert code == 0
    assert "MUST: 2 passed, 0 failed" in capsys.readouterr().out
    assert 'tests="2"' in Path(junit).read_text()


def test_command_line_refuses_a_remote_target(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "facilitator", "http://192.0.2.1:4021"]) == 2
    assert "not on loopback" in capsys.readouterr().out


def test_a_url_that_is_no_facilitator_is_one_error(capsys: pytest.CaptureFixture[str]) -> None:
    with Stack() as stack:
        code = main(["conformance", "facilitator", stack.server_url])
    out = capsys.readouterr().out
    assert code == 2
    assert "no /supported here" in out
    assert "is this a facilitator?" in out
    assert "FAC-" not in out


def test_reason_tables_come_from_each_implementation() -> None:
    from x402.mechanisms.evm import constants

    sdk_strings = {v for k, v in vars(constants).items() if k.startswith("ERR_")}
    python_sdk = reason_table("python-sdk")
    assert set(python_sdk.values()) <= sdk_strings
    assert reason_table("x402-sdk") == python_sdk
    assert python_sdk["FAC-008"] == constants.ERR_TRANSACTION_FAILED
    assert python_sdk["FAC-038"] == constants.ERR_INVALID_SIGNATURE
    ts_sdk = reason_table("ts-sdk")
    assert ts_sdk["FAC-021"] == "invalid_exact_evm_signature"
    assert ts_sdk["FAC-050"] == "invalid_exact_evm_authorization_value"
    assert reason_table("any") == {}
    with pytest.raises(ReasonTableError, match="expected one of"):
        reason_table("go-sdk")


def test_every_reasoned_check_has_a_reason_in_our_table() -> None:
    ours = reason_table("ours")
    assert {c for c, r in ours.items() if r is not None} == REASONED | {"FAC-052"}
