"""A report as a console table (rich), as JSON, and as JUnit XML for CI systems.

Evidence is always written whole and readable: JSON with its own characters (no `\\u2192`
escapes), never cut short. The HTML and SARIF renderings live in `html_report.py` and `sarif.py`.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from conformance.catalog import Level, Outcome, Result
from conformance.report import Report

OUTCOME_STYLES = {
    Outcome.PASS: "green",
    Outcome.FAIL: "red",
    Outcome.NOT_APPLICABLE: "dim",
    Outcome.ERROR: "magenta",
}
PROBLEM_STYLE = "bold red"
"""An outcome that is neither a pass nor not applicable."""
XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 cannot carry, escaped or not."""


def is_problem(result: Result) -> bool:
    """The check did not pass and was applicable: it failed (or could not be graded)."""
    return result.outcome not in (Outcome.PASS, Outcome.NOT_APPLICABLE)


def ordered(results: list[Result]) -> list[Result]:
    """MUSTs first, then by id: the order every rendering shows checks in."""
    return sorted(results, key=lambda r: (r.check.level is not Level.MUST, r.check.id))


def evidence_json(value: Any) -> str:
    """A piece of evidence as a person reads it: text as is, anything else as indented JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def evidence_sections(result: Result) -> list[tuple[str, str]]:
    """(name, text) of each part of a result's evidence: the note first, then sent, received…"""
    return [(key, evidence_json(value)) for key, value in _evidence(result).items()]


def _evidence(result: Result) -> dict[str, Any]:
    evidence = result.verdict.evidence.as_dict()
    note = evidence.pop("note", None)
    return {"note": note, **evidence} if note else evidence


def print_report(report: Report, console: Console, *, verbose: bool = False) -> None:
    """One table per role, MUSTs first; below the tables the evidence of every check that did
    not pass (of every check, when verbose), whole; then a summary line."""
    for role in report.roles():
        table = Table(title=f"{role.value} checks: {report.target}", title_justify="left")
        for column in ("id", "level", "result", "check"):
            table.add_column(column, no_wrap=column != "check")
        for result in ordered([r for r in report.results if r.check.role is role]):
            outcome = result.outcome
            table.add_row(
                result.check.id,
                result.check.level.value,
                Text(outcome.value, style=OUTCOME_STYLES.get(outcome, PROBLEM_STYLE)),
                Text(result.check.title),
            )
        console.print(table)
    shown = [r for r in ordered(report.results) if verbose or is_problem(r)]
    for result in shown:
        _print_evidence(result, console)
    if shown:
        console.print()
    counts = report.counts()
    errors = len(report.errors())
    console.print(
        f"MUST: {counts['MUST pass']} passed, {counts['MUST fail']} failed, "
        f"{counts['MUST n/a']} n/a · SHOULD: {counts['SHOULD pass']} passed, "
        f"{counts['SHOULD fail']} failed, {counts['SHOULD n/a']} n/a"
        + (f" · [magenta]{errors} without evidence (error)[/magenta]" if errors else "")
        + f" · {report.seconds:.1f} s"
    )


def _print_evidence(result: Result, console: Console) -> None:
    """Unwrapped lines (soft wrap): a narrow CI log folds them without cutting any."""
    check = result.check
    heading = Text(f"\n{check.id} {check.level.value} ", style="bold")
    heading.append(result.outcome.value, style=OUTCOME_STYLES.get(result.outcome, PROBLEM_STYLE))
    heading.append(f"  {check.title}")
    console.print(heading, soft_wrap=True)
    console.print(Text(f"  spec: {check.spec}", style="dim"), soft_wrap=True)
    for name, text in evidence_sections(result):
        body = text.replace("\n", "\n    ")
        separator = " " if "\n" not in text else "\n    "
        console.print(Text(f"  {name}:{separator}{body}"), soft_wrap=True)


def report_json(report: Report) -> dict[str, Any]:
    return {
        "target": report.target,
        "seconds": round(report.seconds, 3),
        "counts": report.counts(),
        "details": report.details,
        "results": [
            {
                **result.check.as_dict(),
                "outcome": result.outcome.value,
                "evidence": result.verdict.evidence.as_dict(),
                "seconds": round(result.seconds, 4),
            }
            for result in report.results
        ],
    }


def write_json(report: Report, path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        json.dump(report_json(report), out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")


def junit_xml(report: Report) -> str:
    """One testsuite per role, one testcase per check; a failed SHOULD is a failure too, marked
    with its level, so CI shows it; n/a is a skip. A testcase's time is the time its evidence
    took to gather; a suite's is the whole run's wall time (the run gathered all of it)."""
    wall = f"{report.seconds:.3f}"
    suites = ET.Element(
        "testsuites",
        {
            "name": _xml_safe(f"x402 conformance: {report.target}"),
            "time": wall,
            **_tally(report.results),
        },
    )
    for role in report.roles():
        results = [r for r in report.results if r.check.role is role]
        suite = ET.SubElement(
            suites,
            "testsuite",
            {"name": f"x402-conformance.{role.value}", "time": wall, **_tally(results)},
        )
        for result in results:
            _testcase(suite, role.value, result)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _tally(results: list[Result]) -> dict[str, str]:
    outcomes = [r.outcome for r in results]
    failures = outcomes.count(Outcome.FAIL)
    skipped = outcomes.count(Outcome.NOT_APPLICABLE)
    errors = sum(is_problem(r) for r in results) - failures
    return {
        "tests": str(len(results)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": str(skipped),
    }


def _testcase(suite: ET.Element, role: str, result: Result) -> None:
    check = result.check
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"x402-conformance.{role}.{check.level.value}",
        name=f"{check.id} {check.title}",
        time=f"{result.seconds:.4f}",
    )
    note = _xml_safe(result.verdict.evidence.note)
    if result.outcome is Outcome.NOT_APPLICABLE:
        ET.SubElement(case, "skipped", message=note)
    elif is_problem(result):
        tag = "failure" if result.outcome is Outcome.FAIL else "error"
        problem = ET.SubElement(
            case, tag, message=f"[{check.level.value}] {note}", type=check.level.value
        )
        evidence = evidence_json(result.verdict.evidence.as_dict())
        problem.text = _xml_safe(f"spec: {check.spec}\n{evidence}")


def _xml_safe(text: str) -> str:
    """Evidence may hold control characters (a garbled answer): written as `\\xNN` instead."""
    return XML_UNSAFE.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def write_junit(report: Report, path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(junit_xml(report))
