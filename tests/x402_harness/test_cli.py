"""The `x402-harness` command line, run in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from x402_harness.cli import build_parser, main


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
