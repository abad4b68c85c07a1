"""The Dockerfile as a CI service container. No container engine runs here: the file is read as
Docker reads it, and its command, environment and healthcheck are run on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest

from tests.x402_harness.dockerfile import read_dockerfile
from x402_core.wallets import test_wallet
from x402_payer import Payer
from x402_service.serving import free_port

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent


def test_every_copied_source_exists_and_the_packages_are_pyprojects() -> None:
    dockerfile = read_dockerfile()
    sources = [source for group, _ in dockerfile.copies for source in group]
    for source in sources:
        assert (ROOT / source).exists(), source
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    includes = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in includes}
    assert {s for s in sources if (ROOT / s).is_dir()} == packages
    assert {"pyproject.toml", "README.md"} <= set(sources)  # what pip install . reads


def test_the_image_runs_up_on_fixed_ports_with_a_healthcheck() -> None:
    dockerfile = read_dockerfile()
    assert (dockerfile.entrypoint, dockerfile.cmd) == (["x402-harness"], ["up"])
    assert dockerfile.env == {
        "X402H_SERVER_HOST": "0.0.0.0",
        "X402H_SERVER_PORT": "8402",
        "X402H_FACILITATOR_PORT": "4021",
    }
    assert sorted(dockerfile.exposed) == ["4021", "8402"]
    assert dockerfile.healthcheck


def test_the_containers_command_serves_and_its_healthcheck_tells(tmp_path: Path) -> None:
    """The image's command and healthcheck, with its environment on loopback and free ports."""
    dockerfile = read_dockerfile()
    ports = {"8402": str(free_port()), "4021": str(free_port())}
    wired = {
        name: "127.0.0.1" if value == "0.0.0.0" else ports.get(value, value)
        for name, value in dockerfile.env.items()
    }
    env = {**os.environ, **wired, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}

    def healthy() -> bool:
        check = subprocess.run(
            ["sh", "-c", dockerfile.healthcheck], env=env, capture_output=True, timeout=30
        )
        return check.returncode == 0

    assert not healthy()  # nothing runs yet: the check must be able to say so
    argv = [str(BIN / dockerfile.entrypoint[0]), *dockerfile.cmd]
    container = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not healthy():
            assert container.poll() is None, container.stdout.read() if container.stdout else ""
            assert time.monotonic() < deadline, "not healthy after 30 s"
            time.sleep(0.2)
        server = f"http://127.0.0.1:{ports['8402']}"
        assert httpx.get(f"http://127.0.0.1:{ports['4021']}/supported").status_code == 200
        body = {"model": "nano-banana-2", "prompt": "a service container smoke test"}
        with Payer(test_wallet(1).private_key) as payer:
            result = payer.generate_image(server, body, tmp_path)
        assert result.job["status"] == "completed"
    finally:
        container.send_signal(signal.SIGTERM)
        output, _ = container.communicate(timeout=30)
    assert container.returncode == 0, output.decode()
    assert f"127.0.0.1:{ports['8402']}" in output.decode()


@pytest.mark.parametrize("value", ["eighty", "-"])
def test_a_bad_port_in_the_environment_is_named(value: str) -> None:
    done = subprocess.run(
        [str(BIN / "x402-harness"), "up"],
        env={**os.environ, "X402H_SERVER_PORT": value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "X402H_SERVER_PORT" in done.stdout
    assert len(done.stdout.strip().splitlines()) == 1
