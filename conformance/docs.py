"""`docs/checks.md`, generated from the catalog so that the page never drifts from the code."""

from __future__ import annotations

from conformance.catalog import Catalog, Role

ROLE_INTROS = {
    Role.CLIENT: "Graded from the mock server's journal while the client runs through scenarios "
    "(`x402-harness conformance client -- <command>`).",
    Role.SERVER: "Black-box against a server URL (`x402-harness conformance server URL`).",
    Role.FACILITATOR: "Black-box against a facilitator URL "
    "(`x402-harness conformance facilitator URL`).",
}


def checks_markdown(catalog: Catalog) -> str:
    lines = [
        "# Conformance checks",
        "",
        "Generated from the catalog by `x402-harness conformance docs`; do not edit by hand.",
        "A failed MUST fails the run; `--strict` makes a failed SHOULD fail it too.",
    ]
    for role in Role:
        checks = catalog.checks(role)
        lines += [
            "",
            f"## {role.value.capitalize()} ({len(checks)} checks)",
            "",
            ROLE_INTROS[role],
            "",
            "| id | level | check | spec |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| {c.id} | {c.level.value} | {_cell(c.title)} | {_cell(c.spec)} |" for c in checks
        ]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
