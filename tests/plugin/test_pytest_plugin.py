"""The pytest plugin as a user meets it: a test file of theirs, run by pytest in a subprocess."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

pytest_plugins = ["pytester"]
USER_TESTS = """
import httpx
import pytest

from x402_core.wallets import test_wallet
from x402_payer import Payer, PriceTooHighError
from x402_harness.pytest_plugin import assert_conformant

BODY = {"model": "nano-banana-2", "prompt": "a kite over the sea"}


def test_my_client_buys_an_image(x402_stack, xgen_url, funded_wallet, x402_journal, tmp_path):
    assert xgen_url.endswith("/v1/images/generate")
    assert httpx.post(xgen_url, json=BODY).status_code == 402
    assert x402_journal.called and x402_journal.call_count == 1
    x402_journal.assert_not_paid()
    with Payer(funded_wallet.private_key) as payer:
        result = payer.generate_image(x402_stack.server_url, BODY, tmp_path)
    assert result.job["status"] == "completed"
    payment = x402_journal.assert_paid_once()
    assert payment["payload"]["authorization"]["from"] == funded_wallet.address
    assert x402_journal.paid and len(x402_journal.paid_requests) == 1
    assert x402_stack.chain.balance_of(x402_stack.token, funded_wallet.address) == 10**9 - 50_000


def test_keys_are_hex_strings_like_every_other_key(funded_wallet):
    assert isinstance(funded_wallet.private_key, str)
    assert funded_wallet.private_key == "0x" + funded_wallet.private_key_bytes.hex()
    assert len(funded_wallet.private_key) == 66


def test_two_payments_are_not_one(x402_stack, funded_wallet, x402_journal):
    with Payer(funded_wallet.private_key) as payer:
        payer.request_paid("POST", x402_stack.endpoint_url, json=BODY)
        payer.request_paid("POST", x402_stack.endpoint_url, json=BODY)
    with pytest.raises(AssertionError, match="2 authorization"):
        x402_journal.assert_paid_once()


def test_queued_scenarios_go_to_the_next_jobs(x402_stack, funded_wallet, tmp_path):
    x402_stack.queue("fail", "instant")
    with Payer(funded_wallet.private_key) as payer:
        with pytest.raises(Exception, match="generation_failed"):
            payer.generate_image(x402_stack.server_url, BODY, tmp_path)
        paid = payer.request_paid("POST", x402_stack.endpoint_url, json=BODY)
    assert paid.response.json()["status"] == "completed"


@pytest.mark.x402_stack(clock="test", scenario="happy")
def test_the_test_clock_moves_only_when_told(x402_stack, funded_wallet):
    with Payer(funded_wallet.private_key) as payer:
        job = payer.request_paid("POST", x402_stack.endpoint_url, json=BODY).response.json()
    status = x402_stack.endpoint_url + "/" + job["id"]
    assert httpx.get(status).json()["status"] == "pending"
    x402_stack.advance_clock(60)
    assert httpx.get(status).json()["status"] == "completed"


def test_reset_forgets_the_queue(x402_stack, funded_wallet):
    x402_stack.queue("fail")
    x402_stack.reset()
    with Payer(funded_wallet.private_key) as payer:
        job = payer.request_paid("POST", x402_stack.endpoint_url, json=BODY).response.json()
    assert job["status"] == "pending"


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


@pytest.mark.x402_stack(scenario="offer_overpriced")
def test_the_respx_router_plays_the_scenarios(xgen_respx, tmp_path):
    with Payer(test_wallet(5).private_key_hex) as payer:
        with pytest.raises(PriceTooHighError):
            payer.generate_image("https://xgen.test", BODY, tmp_path)
        xgen_respx.set_scenario("happy").queue("fail")
        with pytest.raises(Exception, match="generation_failed"):
            payer.generate_image("https://xgen.test", BODY, tmp_path)


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


@pytest.mark.slow
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
    assert "12 passed" in done.stdout


def test_the_options_are_listed_in_pytest_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "--x402-chain" in done.stdout
    assert "--x402-scenario" in done.stdout


def _run_user_tests(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_user.py").write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


UNKNOWN_SCENARIOS = """
import pytest

@pytest.mark.x402_stack(scenario="nope")
def test_stack(x402_stack):
    pass

@pytest.mark.x402_stack(scenario="nope")
def test_router(xgen_respx):
    pass

@pytest.mark.x402_stack(clock="sometimes")
def test_clock(x402_stack):
    pass
"""


def test_an_unknown_scenario_or_clock_is_a_clear_error(tmp_path: Path) -> None:
    done = _run_user_tests(tmp_path, UNKNOWN_SCENARIOS)
    assert done.returncode == 1, done.stdout
    assert "3 errors" in done.stdout
    assert "x402_stack: scenario 'nope' refused: " in done.stdout
    assert "unknown scenario 'nope'; known: happy, instant" in done.stdout
    assert "xgen_respx: unknown scenario 'nope'; known: happy" in done.stdout
    assert "x402_stack(clock='sometimes'): expected one of real, test" in done.stdout
    assert "HTTPStatusError" not in done.stdout


CRASHING_TEARDOWN = """
import pathlib
import pytest

@pytest.fixture(scope="session")
def fragile():
    yield
    raise KeyboardInterrupt  # a crash while the session is torn down

def test_uses_the_stack(x402_stack, fragile):
    pathlib.Path("server_url").write_text(x402_stack.server_url)
"""


def test_stacks_stop_at_session_end_even_after_a_crashed_teardown(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_user=CRASHING_TEARDOWN)
    with pytest.raises(KeyboardInterrupt):
        pytester.inline_run("-p", "no:cacheprovider")
    server_url = (pytester.path / "server_url").read_text()
    with pytest.raises(httpx.TransportError):
        httpx.get(server_url + "/health", timeout=5)
