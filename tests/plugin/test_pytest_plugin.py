"""The pytest plugin as a user meets it: a test file of theirs, run by pytest in a subprocess."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

USER_TESTS = """
import httpx
import pytest

from x402_payer import Payer
from x402_harness.pytest_plugin import assert_conformant

BODY = {"model": "nano-banana-2", "prompt": "a kite over the sea"}


def test_my_client_buys_an_image(x402_stack, xgen_url, funded_wallet, x402_journal, tmp_path):
    assert xgen_url.endswith("/v1/images/generate")
    assert httpx.post(xgen_url, json=BODY).status_code == 402
    with Payer(funded_wallet.private_key) as payer:
        result = payer.generate_image(x402_stack.server_url, BODY, tmp_path)
    assert result.job["status"] == "completed"
    assert [p["payload"]["authorization"]["from"] for p in x402_journal.payments()] == [
        funded_wallet.address
    ]
    assert x402_stack.chain.balance_of(x402_stack.token, funded_wallet.address) == 10**9 - 50_000


def test_each_test_starts_from_a_clean_journal(x402_journal, facilitator_url):
    assert x402_journal.entries() == []
    assert httpx.get(facilitator_url + "/supported").status_code == 200


@pytest.mark.x402_stack(scenario="fail")
def test_a_marker_picks_the_scenario(xgen_url, funded_wallet, tmp_path, x402_stack):
    with Payer(funded_wallet.private_key) as payer, pytest.raises(Exception, match="failed"):
        payer.generate_image(x402_stack.server_url, BODY, tmp_path)


def test_unit_tests_use_the_respx_router(xgen_respx):
    assert httpx.post("https://xgen.test/v1/images/generate", json=BODY).status_code == 402
    assert httpx.post("https://xgen.test/v1/images/generate", json={}).status_code == 400


def _reference_client(env):
    with Payer(env.private_key) as payer:
        result = payer.generate_image(env.server_url, env.body, "images")
    return {"success": True, "transaction": result.settlement.transaction}


def test_my_client_is_conformant(x402_conformance):
    assert_conformant(x402_conformance(_reference_client, scenarios=["quick", "offer_overpriced"]))


def _greedy_client(env):
    import httpx as client
    answer = client.post(env.server_url + env.endpoint_path, json=env.body)
    return {"success": answer.status_code == 200}


def test_a_client_that_never_pays_is_not(x402_conformance):
    report = x402_conformance(_greedy_client, scenarios=["quick"])
    assert "CLI-001" in report.failed_ids()
    with pytest.raises(pytest.fail.Exception, match="CLI-001"):
        assert_conformant(report)
"""


def test_a_users_tests_run_with_the_fixtures(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TESTS))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--x402-scenario",
            "quick",
            "-W",
            "error",
            "test_user.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "6 passed" in done.stdout


def test_the_options_are_listed_in_pytest_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "--x402-chain" in done.stdout
    assert "--x402-scenario" in done.stdout
