"""docker-compose.yml: valid for docker-compose, and its services' own commands, run on loopback
wired the way compose wires them, sell an image and settle it on Anvil."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from conformance.facilitator.onchain import OnChain
from facilitator_sim.chains.anvil import find_anvil
from x402_core.wallets import test_wallet
from x402_payer import Payer
from x402_service.serving import free_port

ROOT = Path(__file__).parents[2]
COMPOSE = ROOT / "docker-compose.yml"
HARNESS = str(Path(sys.executable).with_name("x402-harness"))
PRICE = 50_000


def compose_config() -> dict[str, Any]:
    if shutil.which("docker-compose") is None:
        pytest.fail(
            "docker-compose is missing: `make test` installs it (apt-get install docker-compose)"
        )
    done = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_compose_file_is_valid_and_wired() -> None:
    services = compose_config()["services"]
    assert set(services) == {
        "anvil",
        "anvil-fork",
        "facilitator",
        "mock-server",
        "locust-master",
        "locust-worker",
    }
    assert services["anvil-fork"]["profiles"] == ["fork"]
    assert "--chain-id" in services["anvil"]["command"]
    assert (
        services["anvil"]["command"][services["anvil"]["command"].index("--chain-id") + 1] == "8453"
    )
    for name in ("anvil", "facilitator", "mock-server"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    assert services["facilitator"]["depends_on"]["anvil"]["condition"] == "service_healthy"
    assert services["mock-server"]["depends_on"]["facilitator"]["condition"] == "service_healthy"
    assert "container_name" not in services["locust-worker"]
    assert "ports" not in services["locust-worker"]  # so that --scale works
    for service in services.values():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), port


def test_the_fork_profile_needs_its_url() -> None:
    done = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "--profile", "fork", "config"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "BASE_RPC_URL": ""},
    )
    assert done.returncode == 0, done.stderr
    fork = yaml.safe_load(done.stdout)["services"]["anvil-fork"]
    assert "--fork-url" in fork["command"][0]
    assert "set BASE_RPC_URL" in fork["command"][0]


class Wiring:
    """Compose's service names and ports, replaced by loopback and free ports."""

    def __init__(self) -> None:
        self.ports = {"8545": free_port(), "4021": free_port(), "8402": free_port()}
        self.urls = {
            "http://anvil:8545": f"http://127.0.0.1:{self.ports['8545']}",
            "http://facilitator:4021": f"http://127.0.0.1:{self.ports['4021']}",
            "http://mock-server:8402": f"http://127.0.0.1:{self.ports['8402']}",
            "http://127.0.0.1:8402": f"http://127.0.0.1:{self.ports['8402']}",
            "http://127.0.0.1:4021": f"http://127.0.0.1:{self.ports['4021']}",
        }

    def __call__(self, value: str) -> str:
        if value in self.ports:
            return str(self.ports[value])
        if value in ("0.0.0.0", "locust-master"):
            return "127.0.0.1"
        if value == "/app/loadtests/locustfile.py":
            return str(ROOT / "loadtests" / "locustfile.py")
        for url, local in self.urls.items():
            value = value.replace(url, local)
        return value


def _wait(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer within {seconds} s")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.kill()
        process.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.anvil
def test_services_run_their_compose_commands_and_sell_an_image(
    processes: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    services = compose_config()["services"]
    wire = Wiring()

    def start(argv: list[str], env: dict[str, str] | None = None) -> None:
        processes.append(
            subprocess.Popen(
                argv,
                env={**os.environ, **(env or {})},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    start([str(find_anvil()), *map(wire, services["anvil"]["command"])])
    rpc = wire.urls["http://anvil:8545"]
    _wait(rpc)
    facilitator = services["facilitator"]
    start(
        [HARNESS, *facilitator["command"]],
        {k: wire(v) for k, v in facilitator["environment"].items()},
    )
    _wait(wire.urls["http://facilitator:4021"] + "/health")
    mock = services["mock-server"]
    start([HARNESS, *map(wire, mock["command"])], mock["environment"])
    server = wire.urls["http://mock-server:8402"]
    _wait(server + "/health")
    for name in ("facilitator", "mock-server"):
        check = [
            sys.executable if part == "python" else wire(part)
            for part in services[name]["healthcheck"]["test"][1:]
        ]
        check = [
            part.replace(":4021/", f":{wire.ports['4021']}/").replace(
                ":8402/", f":{wire.ports['8402']}/"
            )
            for part in check
        ]
        assert subprocess.run(check, timeout=30).returncode == 0, name

    chain = OnChain(rpc)
    payee = "0x8fd70c7f86454273fc2df8379dbf08a95ab103d3"
    before = chain.balance_of(payee)
    body = {"model": "nano-banana-2", "prompt": "a compose smoke test"}
    with Payer(test_wallet(1).private_key) as payer:
        result = payer.generate_image(server, body, tmp_path)
    assert result.job["status"] == "completed"
    assert chain.balance_of(payee) - before == PRICE

    locust = [sys.executable, "-m", "locust"]
    master_port = str(free_port())
    worker = services["locust-worker"]["command"]
    start([*locust, *map(wire, worker), "--master-port", master_port])
    master = subprocess.run(
        [
            *locust,
            *map(wire, services["locust-master"]["command"]),
            "--headless",
            "-u",
            "2",
            "-r",
            "2",
            "-t",
            "4s",
            "--expect-workers",
            "1",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            master_port,
            "--only-summary",
            "--exit-code-on-error",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert master.returncode == 0, master.stdout[-2000:] + master.stderr[-2000:]
    assert "1 workers connected" in master.stdout + master.stderr
    token = mock["environment"]["X402H_SERVER_ADMIN_TOKEN"]
    assert httpx.get(server + "/__mock__/jobs").status_code == 401
    admin = {"Authorization": f"Bearer {token}"}
    jobs = httpx.get(server + "/__mock__/jobs", headers=admin).json()["jobs"]
    assert len(jobs) > 1, master.stdout[-3000:] + master.stderr[-3000:]
