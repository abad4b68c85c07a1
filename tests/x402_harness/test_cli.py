"""The `x402-harness` command line, run in-process."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from loadtests.gate import DEFAULT_MAX_FAILURE_RATIO
from x402_harness.cli import build_parser, main
from x402_harness.commands import load
from x402_harness.stack import Stack


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for name in ("up", "demo", "facilitator", "server", "conformance"):
        assert name in out


def test_facilitator_selftest_pays_once_on_the_ledger(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    journal = tmp_path / "facilitator.jsonl"
    assert main(["facilitator", "--selftest", "--journal", str(journal)]) == 0
    out = capsys.readouterr().out
    recorded = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [(e["path"], e["status"]) for e in recorded][:2] == [("/verify", 200), ("/settle", 200)]
    assert "selftest passed" in out
    assert "invalid_exact_evm_nonce_already_used" in out
    assert "TEST KEYS ONLY" in out
    assert "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" in out


@pytest.mark.anvil
def test_facilitator_selftest_on_anvil(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["facilitator", "--selftest", "--chain", "anvil"]) == 0
    out = capsys.readouterr().out
    assert "chain        evm, chain id 8453" in out
    assert "selftest passed" in out


def test_remote_rpc_is_refused_with_the_flag_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["facilitator", "--chain", "http://10.1.2.3:8545"]) == 2
    assert "--allow-remote-rpc" in capsys.readouterr().out


def test_bad_environment_setting_is_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("X402H_FACILITATOR_PORT", "eighty")
    assert main(["facilitator", "--selftest"]) == 2
    assert "X402H_FACILITATOR_PORT" in capsys.readouterr().out


def test_parser_defaults_leave_settings_to_the_environment() -> None:
    args = build_parser().parse_args(["facilitator"])
    assert (args.chain, args.host, args.port) == (None, None, None)


HEAVY_MODULES = (
    "web3",
    "eth_account",
    "coincurve",
    "pydantic",
    "starlette",
    "uvicorn",
    "httpx",
    "locust",
    "gevent",
    "rich",
    "PIL",
)
HELPS = [
    [],
    ["up"],
    ["demo"],
    ["facilitator"],
    ["server"],
    ["load"],
    ["conformance"],
    ["conformance", "client"],
    ["conformance", "server"],
    ["conformance", "facilitator"],
]
LOADED_BY_HELP = f"""
import contextlib, io, json, sys
from x402_harness.cli import main
for argv in {HELPS!r}:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        main([*argv, "--help"])
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}})))
"""


def test_help_imports_nothing_heavy() -> None:
    """`--help` answers at once because no command imports what it runs before it runs."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED_BY_HELP], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout))
    assert "x402_harness" in loaded
    assert loaded.isdisjoint(HEAVY_MODULES), sorted(loaded & set(HEAVY_MODULES))


def test_version_is_the_installed_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"x402-harness {version('x402-harness')}\n"


def test_the_load_help_states_the_gate_default() -> None:
    assert load.MAX_FAILURE_RATIO == DEFAULT_MAX_FAILURE_RATIO


@pytest.mark.parametrize(
    ("argv", "url", "only"),
    [
        (["--only", "SRV-001", "http://h/p"], "http://h/p", ["SRV-001"]),
        (["--only", "SRV-001", "SRV-018", "http://h/p"], "http://h/p", ["SRV-001", "SRV-018"]),
        (["http://h/p", "--only", "SRV-001", "SRV-018"], "http://h/p", ["SRV-001", "SRV-018"]),
        (
            ["--only", "SRV-001", "http://h/p", "--only", "SRV-002"],
            "http://h/p",
            ["SRV-001", "SRV-002"],
        ),
        (["http://h/p"], "http://h/p", None),
    ],
)
def test_only_takes_check_ids_and_leaves_the_url(
    argv: list[str], url: str, only: list[str] | None
) -> None:
    for role in ("server", "facilitator"):
        args = build_parser().parse_args(["conformance", role, *argv])
        assert (args.url, args.only) == (url, only)


def test_only_before_the_url_grades_that_check_of_that_url(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with Stack() as stack:
        code = main(["conformance", "server", "--only", "SRV-001", stack.endpoint_url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "MUST: 1 passed, 0 failed" in out
