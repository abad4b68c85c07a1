"""The catalog, grading, reports and their renderings, on a small catalog of their own."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from conformance.catalog import (
    Catalog,
    CatalogError,
    Level,
    Outcome,
    Profile,
    Role,
    SourceKind,
    error,
    failed,
    grade,
    listing_rule,
    load_all,
    not_applicable,
    passed,
    policy,
    spec_must,
    spec_should,
    verdict_of,
)
from conformance.docs import checks_markdown
from conformance.render import junit_xml, print_report, report_json
from conformance.report import Report
from conformance.selection import chosen_checks


def small_catalog() -> Catalog:
    catalog = Catalog()

    @catalog.check("SRV-001", "answers 402", spec_must("spec: 402"))
    def _answers(context: dict[str, Any]) -> Any:
        return verdict_of(context["status"] == 402, "status", received=context["status"])

    @catalog.check("SRV-002", "sends Retry-After", spec_should("spec: | pipes"))
    def _retry(context: dict[str, Any]) -> Any:
        return failed("no Retry-After", expected="Retry-After", received=None)

    @catalog.check("SRV-003", "crashes", spec_must("spec"))
    def _crash(context: dict[str, Any]) -> Any:
        raise KeyError("nope")

    @catalog.check("FAC-001", "supported", spec_must("spec"))
    def _na(context: dict[str, Any]) -> Any:
        return not_applicable("no RPC URL")

    @catalog.check("CLI-001", "pays", spec_must("spec"))
    def _pays(context: dict[str, Any]) -> Any:
        return passed("paid once", sent={"n": 1})

    return catalog


def graded(status: int) -> Report:
    return Report("http://127.0.0.1:1", grade(small_catalog().checks(), {"status": status}), 0.5)


def test_ids_must_follow_the_scheme_and_be_unique() -> None:
    catalog = small_catalog()
    with pytest.raises(CatalogError, match="not CLI-nnn"):
        catalog.check("SRV-1", "t", spec_must("s"))
    with pytest.raises(CatalogError, match="declared twice"):
        catalog.check("SRV-001", "t", spec_must("s"))(lambda context: passed())
    with pytest.raises(CatalogError, match="no check"):
        catalog.get("FAC-999")
    assert [c.id for c in catalog.checks(Role.SERVER)] == ["SRV-001", "SRV-002", "SRV-003"]
    assert catalog.get("CLI-001").role is Role.CLIENT


def test_a_check_that_raises_fails_with_the_error_as_evidence() -> None:
    result = graded(402).result("SRV-003")
    assert result.outcome is Outcome.FAIL
    assert "KeyError" in result.verdict.evidence.note


def test_exit_code_counts_musts_and_with_strict_shoulds() -> None:
    good, bad = graded(402), graded(500)
    assert good.failed_ids() == {"SRV-002", "SRV-003"}
    assert bad.failed_ids(Level.MUST) == {"SRV-001", "SRV-003"}
    assert good.exit_code() == 1  # SRV-003 crashes
    assert {r.check.id for r in good.failures()} == {"SRV-003"}
    assert {r.check.id for r in good.failures(strict=True)} == {"SRV-002", "SRV-003"}
    counts = good.counts()
    assert counts["MUST pass"] == 2
    assert counts["MUST n/a"] == 1
    assert counts["SHOULD fail"] == 1


def test_json_report_carries_every_result_with_evidence() -> None:
    data = json.loads(json.dumps(report_json(graded(500))))
    by_id = {r["id"]: r for r in data["results"]}
    assert by_id["SRV-001"]["outcome"] == "fail"
    assert by_id["SRV-001"]["evidence"] == {"received": 500, "note": "status"}
    assert by_id["FAC-001"]["outcome"] == "n/a"
    assert by_id["CLI-001"]["role"] == "client"


def test_junit_has_a_suite_per_role_failures_and_skips() -> None:
    root = ET.fromstring(junit_xml(graded(500)))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {
        "x402-conformance.client",
        "x402-conformance.server",
        "x402-conformance.facilitator",
    }
    server = suites["x402-conformance.server"]
    assert (server.get("tests"), server.get("failures")) == ("3", "3")
    assert suites["x402-conformance.facilitator"].get("skipped") == "1"
    failure = server.find("testcase/failure")
    assert failure is not None
    assert failure.get("type") == "MUST"
    assert "spec: spec: 402" in (failure.text or "")


def test_console_report_shows_failures_with_their_evidence() -> None:
    console = Console(record=True, width=200)
    print_report(graded(500), console)
    text = console.export_text()
    assert "SRV-001" in text
    assert "received: 500" in text
    assert "MUST: 1 passed, 2 failed, 1 n/a" in text


def test_docs_table_escapes_pipes_and_lists_every_check() -> None:
    text = checks_markdown(small_catalog())
    assert "## Server (3 checks)" in text
    assert "| sends Retry-After | spec | spec: \\| pipes |" in text
    assert text.count("| SRV-") == 3


def test_committed_checks_page_is_generated_from_the_catalog() -> None:
    page = Path(__file__).parents[2] / "docs" / "checks.md"
    assert page.read_text() == checks_markdown(load_all()), (
        "docs/checks.md is stale: run `x402-harness conformance docs --write docs/checks.md`"
    )


def test_a_check_without_evidence_is_an_error_that_fails_the_run() -> None:
    catalog = Catalog()
    catalog.check("CLI-001", "pays", spec_must("e2e"))(lambda context: passed("paid"))
    catalog.check("CLI-002", "polls", policy("jobs are polled"))(
        lambda context: error("the client sent nothing")
    )
    report = Report("client", grade(catalog.checks(), None), 0.1)
    assert [r.check.id for r in report.errors()] == ["CLI-002"]
    assert report.failures(strict=True) == []
    assert report.exit_code() == 1
    assert report.counts()["SHOULD error"] == 1
    assert report_json(report)["results"][1]["outcome"] == "error"
    case = ET.fromstring(junit_xml(report)).find(".//testcase[error]")
    assert case is not None
    assert case.get("name", "").startswith("CLI-002")
    console = Console(record=True, width=200)
    print_report(report, console)
    assert "1 without evidence (error)" in console.export_text()


def test_a_level_is_must_only_where_its_source_says_must() -> None:
    checks = load_all().checks()
    assert checks
    for check in checks:
        assert check.source.reference, check.id
        assert (check.level is Level.MUST) is check.source.binding, check.id
        if check.source.kind is SourceKind.POLICY:
            assert check.level is Level.SHOULD, check.id
    assert policy("why").level is Level.SHOULD
    assert listing_rule("price").level is Level.MUST
    assert spec_should("§7.3").level is Level.SHOULD


def test_the_x402_profile_grades_the_spec_alone() -> None:
    everything = load_all().checks()
    spec_only = load_all().checks(profile=Profile.X402)
    assert {c.source.kind for c in spec_only} == {SourceKind.SPEC}
    assert {c.source.kind for c in everything} == set(SourceKind)
    assert len(spec_only) < len(everything)
    assert [c.id for c in chosen_checks(Role.SERVER, ["SRV-001"], Profile.X402)] == ["SRV-001"]
    with pytest.raises(CatalogError, match="not graded in profile x402"):
        chosen_checks(Role.SERVER, ["SRV-011"], Profile.X402)
    with pytest.raises(CatalogError, match="are not client checks"):
        chosen_checks(Role.CLIENT, ["SRV-001"])
