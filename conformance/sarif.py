"""A report as SARIF 2.1.0, for code-scanning views: one rule per graded check, one result per
check that did not pass, with its evidence as the message.

Conformance findings belong to no line of source. Every result names the graded target as a
logical location; code scanning (GitHub's upload-sarif) also wants a file of the repository, so
`artifact` (e.g. the client's main module) adds that as the physical location.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from typing import Any

from conformance.catalog import Check, Level, Result
from conformance.render import evidence_json, is_problem
from conformance.report import Report

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SARIF_LEVELS = {Level.MUST: "error", Level.SHOULD: "warning"}
TOOL_NAME = "x402-harness conformance"


def report_sarif(report: Report, *, artifact: str | None = None) -> dict[str, Any]:
    checks = sorted({r.check.id: r.check for r in report.results}.values(), key=lambda c: c.id)
    rule_index = {check.id: index for index, check in enumerate(checks)}
    results = [
        _result(r, rule_index[r.check.id], report.target, artifact)
        for r in report.results
        if is_problem(r)
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": version("x402-harness"),
                "rules": [_rule(check) for check in checks],
            }
        },
        "invocations": [
            {
                "executionSuccessful": True,
                "properties": {"target": report.target, "seconds": report.seconds},
            }
        ],
        "results": results,
        "properties": {"counts": report.counts()},
    }
    if artifact:
        run["artifacts"] = [{"location": {"uri": artifact}}]
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _rule(check: Check) -> dict[str, Any]:
    described = check.as_dict()
    return {
        "id": check.id,
        "shortDescription": {"text": check.title},
        "fullDescription": {"text": f"{check.level.value}: {check.title} (spec: {check.spec})"},
        "help": {"text": f"Spec reference: {check.spec}"},
        "defaultConfiguration": {"level": SARIF_LEVELS[check.level]},
        "properties": {
            **{k: v for k, v in described.items() if k not in ("id", "title")},
            "tags": ["x402", check.role.value, check.level.value],
        },
    }


def _result(result: Result, rule_index: int, target: str, artifact: str | None) -> dict[str, Any]:
    check = result.check
    evidence = result.verdict.evidence.as_dict()
    note = evidence.pop("note", "") or check.title
    text = f"[{check.level.value}] {check.id} {note}\nspec: {check.spec}"
    if evidence:
        text += "\n" + evidence_json(evidence)
    location: dict[str, Any] = {
        "logicalLocations": [{"name": check.id, "fullyQualifiedName": target, "kind": "resource"}]
    }
    if artifact:
        location["physicalLocation"] = {"artifactLocation": {"uri": artifact, "index": 0}}
    return {
        "ruleId": check.id,
        "ruleIndex": rule_index,
        "level": SARIF_LEVELS[check.level],
        "kind": "fail",
        "message": {"text": text},
        "locations": [location],
        "properties": {"outcome": result.outcome.value, "seconds": result.seconds},
    }


def write_sarif(report: Report, path: str, *, artifact: str | None = None) -> None:
    with open(path, "w", encoding="utf-8") as out:
        json.dump(report_sarif(report, artifact=artifact), out, indent=2, ensure_ascii=False)
        out.write("\n")
