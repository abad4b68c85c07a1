"""Every user error at the command line is one line saying what was wrong, exit 2, no traceback."""

from __future__ import annotations

import importlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from x402_harness.cli import main
from x402_harness.usage import USAGE_ERRORS, usage_error_class


@dataclass(frozen=True)
class Case:
    argv: list[str]
    says: str
    """A piece of the one line printed (after `{busy}` and `{tmp}` are filled in)."""
    env: dict[str, str] = field(default_factory=dict)


BAD_LISTING = "{tmp}/listing.json"
ENDPOINT = "http://127.0.0.1:1/v1/images/generate"
CASES = {
    "up: port in use": Case(["up", "--port", "{busy}"], "--port {busy}: something already listens"),
    "up: facilitator port in use": Case(
        ["up", "--facilitator-port", "{busy}"], "--facilitator-port {busy}: something already"
    ),
    "up: facilitator port in use, from the environment": Case(
        ["up"], "X402H_FACILITATOR_PORT {busy}: something", {"X402H_FACILITATOR_PORT": "{busy}"}
    ),
    "server: port in use": Case(
        ["server", "--port", "{busy}", "--facilitator-url", "http://127.0.0.1:1"],
        "--port {busy}: something already listens on 127.0.0.1:{busy}",
    ),
    "facilitator: port in use": Case(
        ["facilitator", "--port", "{busy}"], "--port {busy}: something already listens"
    ),
    "up: unknown chain": Case(["up", "--chain", "foo"], "unknown chain 'foo'; expected one of"),
    "facilitator: unknown chain": Case(["facilitator", "--chain", "foo"], "unknown chain 'foo'"),
    "up: negative port": Case(["up", "--port", "-1"], "-1 is not a port: expected 1-65535"),
    "up: port too large": Case(["up", "--port", "99999"], "99999 is not a port"),
    "facilitator: port too large": Case(["facilitator", "--port", "99999"], "99999 is not a port"),
    "facilitator: port too large, from the environment": Case(
        ["facilitator"],
        "X402H_FACILITATOR_PORT 99999: 99999 is not a port",
        {"X402H_FACILITATOR_PORT": "99999"},
    ),
    "up: port not a number": Case(["up", "--port", "http"], "'http' is not a port"),
    "up: unknown store": Case(["up", "--store", "foo"], "store is 'foo'; expected 'memory'"),
    "up: store in a missing folder": Case(
        ["up", "--store", "sqlite:/no/such/dir/x.db"], "the directory /no/such/dir does not exist"
    ),
    "up: unknown default scenario": Case(
        ["up"],
        "X402H_SERVER_DEFAULT_SCENARIO='nope': no such scenario; expected one of happy",
        {"X402H_SERVER_DEFAULT_SCENARIO": "nope"},
    ),
    "load: missing SLO file": Case(
        ["load", "--slo", "/no/such/slo.toml"], "cannot read SLO file /no/such/slo.toml"
    ),
    "conformance client: no such program": Case(
        ["conformance", "client", "--", "/no/such/binary"], "/no/such/binary is not a program"
    ),
    "conformance client: no command": Case(
        ["conformance", "client"], "give the client command after --"
    ),
    "conformance client: unknown scenario": Case(
        ["conformance", "client", "--scenario", "nope", "--", "python"], "--scenario nope: not a"
    ),
    "up: missing listing": Case(["up", "--listing", "/no/such.json"], "cannot read listing"),
    "up: listing that does not parse": Case(["up", "--listing", BAD_LISTING], "is not JSON"),
    "server: listing that does not parse": Case(
        ["server", "--listing", BAD_LISTING, "--facilitator-url", "http://127.0.0.1:1"],
        "is not JSON",
    ),
    "conformance server: listing that does not parse": Case(
        ["conformance", "server", "--listing", BAD_LISTING, ENDPOINT], "is not JSON"
    ),
    "load: listing that does not parse": Case(["load", "--listing", BAD_LISTING], "is not JSON"),
    "server: no facilitator": Case(["server"], "server needs --facilitator-url URL"),
    "server: a facilitator that does not answer": Case(
        ["server", "--facilitator-url", "http://127.0.0.1:1"],
        "no facilitator answers GET http://127.0.0.1:1/supported",
    ),
    "conformance server: URL without http://": Case(
        ["conformance", "server", "127.0.0.1:8402/v1/images/generate"], "is missing http://"
    ),
    "conformance server: no URL": Case(
        ["conformance", "server", "--only", "SRV-001"], "conformance server needs the URL"
    ),
    "conformance server: not a check id": Case(
        ["conformance", "server", "--only", "nope", ENDPOINT], "'nope' is not a check id"
    ),
    "conformance facilitator: unknown reason table": Case(
        ["conformance", "facilitator", "--reasons", "nope", "http://127.0.0.1:1"],
        "reasons is 'nope'",
    ),
    "facilitator: state in a missing folder": Case(
        ["facilitator", "--state", "/no/such/dir/f.sqlite"], "no folder /no/such/dir"
    ),
    "up: journal in a missing folder": Case(
        ["up", "--journal", "/no/such/dir/j.jsonl"], "no folder /no/such/dir"
    ),
    "up: state is a file": Case(["up", "--state", BAD_LISTING], "expected a directory"),
    "argparse: unknown flag": Case(["up", "--nope"], "unrecognized arguments: --nope"),
    "argparse: no command": Case([], "the following arguments are required: COMMAND"),
    "argparse: bad choice": Case(["up", "--clock", "sometimes"], "invalid choice: 'sometimes'"),
}


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port something listens on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_user_error_is_one_line_and_exit_2(
    case: Case,
    busy_port: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "listing.json").write_text("{ not json")

    def fill(text: str) -> str:
        return text.format(busy=busy_port, tmp=tmp_path)

    for name, value in case.env.items():
        monkeypatch.setenv(name, fill(value))
    try:
        code = main([fill(arg) for arg in case.argv])
    except SystemExit as exited:  # argparse's own errors
        code = exited.code
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert code == 2, output
    assert output.count("\n") == 1, output
    assert fill(case.says) in output
    assert "Traceback" not in output


@pytest.mark.parametrize("name", USAGE_ERRORS)
def test_every_usage_error_named_is_an_exception_class(name: str) -> None:
    importlib.import_module(name.rpartition(".")[0])
    found = usage_error_class(name)
    assert found is not None, f"{name} names no exception class"
    assert issubclass(found, Exception)


def test_an_error_of_a_module_not_loaded_is_not_looked_up() -> None:
    assert usage_error_class("x402h_no_such_module.SomeError") is None
