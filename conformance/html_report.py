"""A report as one self-contained HTML page: inline CSS, no script, nothing fetched.

Counts per level and outcome at the top, then every check with a link anchor (`#SRV-012`) and
its evidence in a `<details>` block, open for the checks that did not pass.
"""

from __future__ import annotations

from html import escape

from conformance.catalog import Level, Outcome, Result
from conformance.render import evidence_json, evidence_sections, is_problem, ordered
from conformance.report import Report

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #1d1d1f;
       padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
code, pre { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: #f5f5f7; padding: .6rem .8rem; overflow-x: auto; white-space: pre-wrap;
      word-break: break-word; margin: .2rem 0 .6rem; }
table.summary { border-collapse: collapse; margin: 1rem 0; }
table.summary th, table.summary td { border: 1px solid #d2d2d7; padding: .3rem .8rem;
                                     text-align: right; }
.verdict { font-weight: 600; }
.pass { color: #1a7f37; } .fail { color: #cf222e; } .na { color: #6e6e73; }
.problem { color: #cf222e; font-weight: 600; }
details.check { border: 1px solid #d2d2d7; border-radius: 6px; margin: .4rem 0;
                padding: .3rem .7rem; }
details.check[open] { padding-bottom: .6rem; }
details.check:target { outline: 2px solid #0969da; }
summary { cursor: pointer; }
summary .id { font-weight: 600; text-decoration: none; color: inherit; }
.level { font-size: .8rem; border: 1px solid currentColor; border-radius: 3px; padding: 0 .3rem; }
.seconds { color: #6e6e73; font-size: .85rem; }
dl { display: grid; grid-template-columns: max-content auto; gap: .1rem 1rem; margin: .5rem 0; }
dt { color: #6e6e73; } dd { margin: 0; }
nav a { margin-right: .6rem; }
"""
OUTCOME_CLASSES = {Outcome.PASS: "pass", Outcome.FAIL: "fail", Outcome.NOT_APPLICABLE: "na"}


def report_html(report: Report) -> str:
    failed_musts = [r for r in report.results if is_problem(r) and r.check.level is Level.MUST]
    verdict = (
        f'<span class="fail">{len(failed_musts)} MUST check(s) failed</span>'
        if failed_musts
        else '<span class="pass">every MUST check passed</span>'
    )
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>x402 conformance: {escape(report.target)}</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>x402 conformance</h1>",
        f"<p>target <code>{escape(report.target)}</code> · {report.seconds:.1f} s · "
        f'<span class="verdict">{verdict}</span></p>',
        _summary_table(report),
        _problem_links(report),
    ]
    for role in report.roles():
        parts.append(f'<section id="{role.value}"><h2>{role.value} checks</h2>')
        parts += [_check(r) for r in ordered([r for r in report.results if r.check.role is role])]
        parts.append("</section>")
    if report.details:
        parts.append(
            "<section><h2>run details</h2><details><summary>what the runner observed"
            f"</summary><pre>{escape(evidence_json(report.details))}</pre></details></section>"
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _summary_table(report: Report) -> str:
    counts = report.counts()
    head = "".join(f'<th class="{_class(o)}">{escape(o.value)}</th>' for o in Outcome)
    rows = [f"<tr><th></th>{head}</tr>"]
    for level in Level:
        cells = "".join(f"<td>{counts[f'{level.value} {o.value}']}</td>" for o in Outcome)
        rows.append(f"<tr><th>{level.value}</th>{cells}</tr>")
    return f'<table class="summary">{"".join(rows)}</table>'


def _problem_links(report: Report) -> str:
    problems = [r for r in ordered(report.results) if is_problem(r)]
    if not problems:
        return ""
    links = " ".join(f'<a href="#{escape(r.check.id)}">{escape(r.check.id)}</a>' for r in problems)
    return f"<nav>did not pass: {links}</nav>"


def _check(result: Result) -> str:
    check = result.check
    outcome = result.outcome
    anchor = escape(check.id)
    fields = "".join(
        f"<dt>{escape(key)}</dt><dd>{escape(str(value))}</dd>"
        for key, value in check.as_dict().items()
        if key not in ("id", "title")
    )
    evidence = "".join(
        f"<dt>{escape(name)}</dt><dd><pre>{escape(text)}</pre></dd>"
        for name, text in evidence_sections(result)
    )
    return (
        f'<details class="check" id="{anchor}"{" open" if is_problem(result) else ""}>'
        f'<summary><a class="id" href="#{anchor}">{anchor}</a> '
        f'<span class="level">{escape(check.level.value)}</span> '
        f'<span class="{_class(outcome)}">{escape(outcome.value)}</span> '
        f'{escape(check.title)} <span class="seconds">{result.seconds:.2f} s</span></summary>'
        f"<dl>{fields}<dt>seconds</dt><dd>{result.seconds:.3f}</dd>{evidence}</dl></details>"
    )


def _class(outcome: Outcome) -> str:
    return OUTCOME_CLASSES.get(outcome, "problem")


def write_html(report: Report, path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(report_html(report))
