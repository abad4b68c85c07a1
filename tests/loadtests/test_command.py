"""`x402-harness load` checks every flag before it starts anything: a mistake is one line on the
console and exit 2, never a traceback, an argparse puzzle or a run that never ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from x402_harness.cli import main
from x402_harness.commands import load_run as load


@pytest.fixture(autouse=True)
def nothing_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    def started(*args: object, **kwargs: object) -> None:
        raise AssertionError("the flags were not all checked before the run started")

    monkeypatch.setattr(load, "Stack", started)
    monkeypatch.setattr(load, "run_locust", started)
    monkeypatch.setattr(load, "fund_wallets", started)


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--users", "0"], "--users 0: expected at least 1"),
        (["--spawn-rate", "0"], "--spawn-rate 0: expected users per second > 0"),
        (["--run-time", "0s"], "--run-time '0s': expected a duration above 0"),
        (["--run-time", "-5s"], "--run-time '-5s': expected a duration like 30s"),
        (["--run-time", "soon"], "--run-time 'soon'"),
        (["--processes", "0"], "--processes 0: expected at least 1"),
        (["--replays", "2"], "--replays 2: expected a share within 0-1"),
        (["--replays", "-0.5"], "--replays -0.5"),
        (["--wallets", "0"], "--wallets 0"),
        (["--presign", "-1"], "--presign -1"),
        (["--think-time", "2-1"], "--think-time 2-1"),
        (["--think-time", "fast"], "--think-time 'fast'"),
        (["--weights", "0,0,0"], "--weights 0,0,0"),
        (["--weights", "3,1"], "--weights '3,1'"),
        (["--max-failure-ratio", "1.5"], "--max-failure-ratio 1.5"),
        (["--scenario", "nope"], "--scenario 'nope': expected one of"),
        (["--slo", "/no/such/slo.toml"], "cannot read SLO file /no/such/slo.toml"),
        (["--threshold", "p95>500"], "threshold 'p95>500'"),
        (["--target", "127.0.0.1:8402"], "--target '127.0.0.1:8402': expected a base URL"),
        (["--target", "http://example.com"], "refusing http://example.com"),
        (["--admin-url", "http://127.0.0.1:1/__mock__"], "go with --target"),
        (["--json", "/no/such/dir/verdict.json"], "no directory /no/such/dir"),
    ],
)
def test_a_wrong_flag_is_one_line_and_exit_2(
    flags: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["load", *flags]) == 2
    out = capsys.readouterr().out
    assert out.startswith("error: ")
    assert says in out
    assert out.count("\n") == 1, out


def test_a_malformed_slo_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slo = tmp_path / "slo.toml"
    slo.write_text("[Aggregated]\np95 = 'soon'\n")
    assert main(["load", "--slo", str(slo)]) == 2
    out = capsys.readouterr().out
    assert f"SLO file {slo}" in out
    assert out.count("\n") == 1
