"""Graded and loaded targets: the same loopback judgement as the RPC guard, one line on refusal."""

from __future__ import annotations

import pytest

from tests.x402_core.test_loopback import AMBIGUOUS_URLS, LOOPBACK_URLS, REMOTE_URLS
from x402_harness.cli import main
from x402_harness.commands.conformance.targets import RemoteTargetError, refuse_remote

TRICK = "http://remote.invalid\\@127.0.0.1:{port}"


BARE_HOSTS = ["127.0.0.1:{port}", "localhost:{port}/v1/images/generate", "example.com/x"]


@pytest.mark.parametrize("template", [u for u in AMBIGUOUS_URLS if u not in BARE_HOSTS])
def test_ambiguous_targets_are_refused_even_with_allow_remote(template: str) -> None:
    with pytest.raises(RemoteTargetError, match="ambiguous"):
        refuse_remote([template.format(port=8402)], allowed=True)


@pytest.mark.parametrize("template", BARE_HOSTS)
def test_a_url_without_its_scheme_is_told_so(template: str) -> None:
    url = template.format(port=8402)
    with pytest.raises(RemoteTargetError, match=f"^{url} is missing http://.*e.g. http://{url}$"):
        refuse_remote([url], allowed=True)


@pytest.mark.parametrize("template", REMOTE_URLS)
def test_remote_targets_need_allow_remote(template: str) -> None:
    url = template.format(port=8402)
    with pytest.raises(RemoteTargetError, match="--allow-remote"):
        refuse_remote([None, url], allowed=False)
    refuse_remote([url], allowed=True)


@pytest.mark.parametrize("url", LOOPBACK_URLS)
def test_loopback_targets_pass(url: str) -> None:
    refuse_remote([url], allowed=False)


@pytest.mark.parametrize(
    "argv",
    [
        ["facilitator", "--chain", TRICK.format(port=8545)],
        ["conformance", "server", TRICK.format(port=8402) + "/v1/images/generate"],
        ["conformance", "facilitator", TRICK.format(port=4021)],
        ["conformance", "facilitator", "http://127.0.0.1:4021", "--rpc-url", TRICK.format(port=1)],
        ["load", "--target", TRICK.format(port=8402), "--out", "{tmp}"],
    ],
)
def test_the_cli_refuses_the_backslash_trick_in_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    assert main([part.format(tmp=tmp_path) for part in argv]) == 2
    captured = capsys.readouterr()
    assert captured.out.count("\n") == 1
    assert "backslash" in captured.out
    assert "Traceback" not in captured.err
