"""`docs/checks.md`, generated from the catalog so that the page never drifts from the code."""

from __future__ import annotations

from conformance.catalog import Catalog, Role

ROLE_INTROS = {
    Role.CLIENT: "Graded from the mock server's journal while the client runs through scenarios "
    "(`x402-harness conformance client -- <command>`).",
    Role.SERVER: "Black-box against a server URL (`x402-harness conformance server URL`). "
    "SRV-032 to SRV-034 pay under each fault of this harness's facilitator and apply only with "
    "`--facilitator-admin URL` (a server that uses that facilitator).",
    Role.FACILITATOR: "Black-box against a facilitator URL "
    "(`x402-harness conformance facilitator URL`).",
}


def checks_markdown(catalog: Catalog) -> str:
    lines = [
        "# Conformance checks",
        "",
        "Generated from the catalog by `x402-harness conformance docs`; do not edit by hand.",
        "",
        "Every check names its source: the x402 specification (`spec`), the endpoint's listing",
        "(`listing`), or this harness's own policy (`policy`). A check is a MUST only where its",
        "source says must; policy is never more than a SHOULD. `--profile x402` grades the",
        "`spec` checks alone; `--profile xgen` (the default) adds the listing's and the policy's.",
        "A failed MUST fails the run, and so does a check that found no evidence either way",
        "(`error`: the counterpart never did what it observes); `--strict` makes a failed SHOULD",
        "fail it too.",
    ]
    for role in Role:
        checks = catalog.checks(role)
        lines += [
            "",
            f"## {role.value.capitalize()} ({len(checks)} checks)",
            "",
            ROLE_INTROS[role],
            "",
            "| id | level | check | source | reference |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {c.id} | {c.level.value} | {_cell(c.title)} | {c.source.kind.value} "
            f"| {_cell(c.spec)} |"
            for c in checks
        ]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
