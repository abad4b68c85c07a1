"""A report as a console table (rich), as JSON, and as JUnit XML for CI systems."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from rich.console import Console
from rich.table import Table

from conformance.catalog import Level, Outcome, Result
from conformance.report import Report

OUTCOME_STYLES = {
    Outcome.PASS: "green",
    Outcome.FAIL: "red",
    Outcome.NOT_APPLICABLE: "dim",
    Outcome.ERROR: "magenta",
}


def print_report(report: Report, console: Console, *, verbose: bool = False) -> None:
    """One table per role, MUSTs first; failures show their evidence; then a summary line."""
    for role in report.roles():
        table = Table(title=f"{role.value} checks: {report.target}", title_justify="left")
        for column in ("id", "level", "result", "check"):
            table.add_column(column, no_wrap=column != "check")
        rows = [r for r in report.results if r.check.role is role]
        for result in sorted(rows, key=lambda r: (r.check.level is not Level.MUST, r.check.id)):
            outcome = result.outcome
            text = result.check.title
            if outcome in (Outcome.FAIL, Outcome.ERROR) or verbose:
                text += _evidence_text(result)
            table.add_row(
                result.check.id,
                result.check.level.value,
                f"[{OUTCOME_STYLES[outcome]}]{outcome.value}[/]",
                text,
            )
        console.print(table)
    counts = report.counts()
    errors = len(report.errors())
    console.print(
        f"MUST: {counts['MUST pass']} passed, {counts['MUST fail']} failed, "
        f"{counts['MUST n/a']} n/a · SHOULD: {counts['SHOULD pass']} passed, "
        f"{counts['SHOULD fail']} failed, {counts['SHOULD n/a']} n/a"
        + (f" · [magenta]{errors} without evidence (error)[/magenta]" if errors else "")
        + f" · {report.seconds:.1f} s"
    )


def _evidence_text(result: Result) -> str:
    evidence = result.verdict.evidence.as_dict()
    if not evidence:
        return ""
    note = evidence.pop("note", "")
    lines = [f"\n  [dim]{note}[/dim]"] if note else []
    lines += [f"\n  [dim]{key}: {_short(value)}[/dim]" for key, value in evidence.items()]
    return "".join(lines)


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


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
    with open(path, "w") as out:
        json.dump(report_json(report), out, indent=2, default=str)
        out.write("\n")


def junit_xml(report: Report) -> str:
    """One testsuite per role, one testcase per check; a failed SHOULD is a failure too, marked
    with its level, so CI shows it; n/a is a skip."""
    suites = ET.Element("testsuites", name=f"x402 conformance: {report.target}")
    for role in report.roles():
        results = [r for r in report.results if r.check.role is role]
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"x402-conformance.{role.value}",
            tests=str(len(results)),
            failures=str(sum(r.outcome is Outcome.FAIL for r in results)),
            errors=str(sum(r.outcome is Outcome.ERROR for r in results)),
            skipped=str(sum(r.outcome is Outcome.NOT_APPLICABLE for r in results)),
            time=f"{sum(r.seconds for r in results):.3f}",
        )
        for result in results:
            check = result.check
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"x402-conformance.{role.value}.{check.level.value}",
                name=f"{check.id} {check.title}",
                time=f"{result.seconds:.4f}",
            )
            evidence = json.dumps(result.verdict.evidence.as_dict(), indent=2, default=str)
            if result.outcome is Outcome.FAIL:
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=f"[{check.level.value}] {result.verdict.evidence.note}",
                    type=check.level.value,
                )
                failure.text = f"spec: {check.spec}\n{evidence}"
            elif result.outcome is Outcome.ERROR:
                ET.SubElement(case, "error", message=result.verdict.evidence.note).text = evidence
            elif result.outcome is Outcome.NOT_APPLICABLE:
                ET.SubElement(case, "skipped", message=result.verdict.evidence.note)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(report: Report, path: str) -> None:
    with open(path, "w") as out:
        out.write(junit_xml(report))
