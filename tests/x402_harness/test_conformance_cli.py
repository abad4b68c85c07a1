"""`x402-harness conformance ... --json/--junit/--sarif/--html`, as a CI job runs it: a child
process with a narrow log and no terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from x402_harness.cli import main

HARNESS = str(Path(sys.executable).with_name("x402-harness"))
ASKS_AND_GIVES_UP = [
    sys.executable,
    "-c",
    "import json, os, httpx; "
    "httpx.post(os.environ['RESOURCE_SERVER_URL'] + os.environ['ENDPOINT_PATH'], "
    "json=json.loads(os.environ['X402_REQUEST_BODY'])); "
    'print(\'{"success": false, "error": "gave up"}\'); raise SystemExit(1)',
]
"""Asks for the image once, never pays, reports a failure: the MUST checks fail."""


def test_a_narrow_ci_log_shows_failed_evidence_whole(tmp_path: Path) -> None:
    reports = tmp_path / "reports"  # made by the command
    done = subprocess.run(
        [
            HARNESS,
            "conformance",
            "client",
            "--scenario",
            "quick",
            *("--json", str(reports / "client.json")),
            *("--junit", str(reports / "client.xml")),
            *("--sarif", str(reports / "client.sarif")),
            *("--html", str(reports / "client.html")),
            "--",
            *ASKS_AND_GIVES_UP,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "80", "TERM": "dumb"},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    log = done.stdout[done.stdout.index("client checks:") :]  # after the progress lines
    assert "\\u2192" not in log
    assert "…" not in log
    table = [line for line in log.splitlines() if line[:1] in "┏┃┡│└"]
    assert len(table) > 20
    assert max(len(line) for line in table) <= 80
    evidence = log[log.index("\nCLI-001 MUST fail") :]
    assert '"POST /v1/images/generate → 402"' in evidence
    assert '"error": "gave up"' in evidence
    assert '"exit_code": 1' in evidence

    data = json.loads((reports / "client.json").read_text(encoding="utf-8"))
    assert "POST /v1/images/generate → 402" in (reports / "client.json").read_text()
    assert data["counts"]["MUST fail"] >= 1
    junit = ET.parse(reports / "client.xml").getroot()
    assert float(junit.get("time", "0")) == pytest.approx(data["seconds"], abs=0.002)
    sarif = json.loads((reports / "client.sarif").read_text())
    assert "CLI-001" in {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert 'id="CLI-001"' in (reports / "client.html").read_text()


def test_a_report_path_that_cannot_be_written_is_one_line_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    never_run = tmp_path / "ran"
    client = [sys.executable, "-c", f"open({str(never_run)!r}, 'w')"]
    code = main(["conformance", "client", "--html", str(blocker / "report.html"), "--", *client])
    out = capsys.readouterr().out
    assert code == 2
    assert out.count("\n") == 1
    assert "report.html" in out
    assert not never_run.exists()
