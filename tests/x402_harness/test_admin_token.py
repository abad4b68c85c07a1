"""With an admin token set, every admin client in the repo sends it: Stack, conformance runner,
load invariants, the pytest plugin's journal reader; in both stack modes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from conformance.client import CallableClient
from conformance.client.runner import ClientEnv
from conformance.client.session import observe
from loadtests.invariants import check_invariants
from mock_server.config import ServerSettings
from x402_harness.journal_reader import JournalReader
from x402_harness.stack import Stack, StackConfig
from x402_payer import Payer

TOKEN = "s3cret-admin-token"
SERVER = ServerSettings(admin_token=TOKEN, default_scenario="instant")


def _paying(folder: Path) -> CallableClient:
    def pay(env: ClientEnv) -> dict[str, object]:
        with Payer(bytes.fromhex(env.private_key[2:])) as payer:
            job = payer.generate_image(env.server_url, env.body, folder).job
        return {"success": job["status"] == "completed"}

    return CallableClient(pay)


@pytest.mark.parametrize("mode", ["threads", "processes"])
def test_admin_clients_send_the_token(mode: str, tmp_path: Path) -> None:
    with Stack(StackConfig(mode=mode, server=SERVER)) as stack:
        assert stack.admin_headers == {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.get(stack.admin_url + "/jobs").status_code == 401
        with pytest.raises(httpx.HTTPStatusError):
            check_invariants(stack.admin_url, price=50_000)

        session = observe(_paying(tmp_path), stack.urls(), scenarios=["quick"])
        [purchase] = session.run("quick").paid
        assert purchase["status"] == 200
        assert JournalReader(stack.admin_url, stack.listing.path, stack.admin_headers).payments()
        invariants = check_invariants(stack.admin_url, price=50_000, headers=stack.admin_headers)
        assert all(i.holds for i in invariants), invariants
