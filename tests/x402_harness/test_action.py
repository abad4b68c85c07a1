"""action.yml and the example workflow: valid for GitHub's schemas (check-jsonschema's built-in
copies, offline), consistent with each other and with the Dockerfile, and the action's own
script run here as a runner would run it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.x402_harness.dockerfile import read_dockerfile
from x402_core.wallets import test_wallet

ROOT = Path(__file__).parents[2]
ACTION = ROOT / "action.yml"
WORKFLOW = ROOT / "examples" / "github-workflow.yml"
CI_DOC = ROOT / "docs" / "ci.md"
BIN = Path(sys.executable).parent
REFERENCE_CLIENT = f"{sys.executable} {ROOT / 'examples' / 'clients' / 'reference_payer.py'}"


def schema_check(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", f"vendor.{schema}", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def load(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=yaml.BaseLoader)  # `on:` stays a string


def test_action_is_a_valid_composite_action() -> None:
    done = schema_check("github-actions", ACTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert load(ACTION)["runs"]["using"] == "composite"


def test_example_workflow_and_the_docs_workflows_are_valid(tmp_path: Path) -> None:
    done = schema_check("github-workflows", WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr
    workflows = [b for b in yaml_blocks(CI_DOC.read_text()) if "jobs:" in b]
    assert len(workflows) >= 2  # the action, the service container
    for index, block in enumerate(workflows):
        path = tmp_path / f"doc-{index}.yml"
        path.write_text(block)
        done = schema_check("github-workflows", path)
        assert done.returncode == 0, block + done.stdout


def yaml_blocks(markdown: str) -> list[str]:
    blocks = re.findall(r"```yaml\n(.*?)```", markdown, flags=re.DOTALL)
    return [textwrap.dedent(block) for block in blocks]


def test_the_schemas_refuse_a_broken_copy(tmp_path: Path) -> None:
    """The validation is not a rubber stamp."""
    broken = tmp_path / "workflow.yml"
    broken.write_text(WORKFLOW.read_text().replace("image: ghcr.io", "imaeg: ghcr.io"))
    assert schema_check("github-workflows", broken).returncode == 1
    broken = tmp_path / "action.yml"
    broken.write_text(ACTION.read_text().replace("shell: bash", "", 1))
    assert schema_check("github-actions", broken).returncode == 1


def action_steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    steps = [s for job in workflow["jobs"].values() for s in job.get("steps", [])]
    return [s for s in steps if s.get("uses", "").split("@")[0].endswith("/x402-harness")]


def test_workflows_give_the_action_only_inputs_it_declares() -> None:
    inputs = load(ACTION)["inputs"]
    required = {name for name, spec in inputs.items() if spec.get("required") == "true"}
    workflows = [load(WORKFLOW), *map(yaml.safe_load, yaml_blocks(CI_DOC.read_text()))]
    steps = [step for workflow in workflows for step in action_steps(workflow)]
    assert len(steps) >= 2
    for step in steps:
        given = set(step["with"])
        assert given <= set(inputs), given - set(inputs)
        assert required <= given


def test_the_service_container_example_matches_the_image() -> None:
    dockerfile = read_dockerfile()
    services = [
        service
        for workflow in (load(WORKFLOW), *map(yaml.safe_load, yaml_blocks(CI_DOC.read_text())))
        for job in workflow.get("jobs", {}).values()
        for service in job.get("services", {}).values()
    ]
    assert len(services) >= 2
    for service in services:
        mapped = {str(port).split(":")[-1] for port in service["ports"]}
        assert mapped == set(dockerfile.exposed)
        # The image binds 0.0.0.0, where the mock refuses to start without an admin token.
        assert service["env"]["X402H_SERVER_ADMIN_TOKEN"]
    integration = load(WORKFLOW)["jobs"]["integration"]
    env = integration["steps"][-1]["env"]
    assert env["EVM_PRIVATE_KEY"] == test_wallet(1).private_key_hex
    assert env["RESOURCE_SERVER_URL"] == f"http://127.0.0.1:{dockerfile.env['X402H_SERVER_PORT']}"


def test_the_action_installs_from_its_own_checkout_and_uploads_whatever_happened() -> None:
    steps = {s.get("name", s.get("uses")): s for s in load(ACTION)["runs"]["steps"]}
    assert '"$ACTION_PATH"' in steps["Install x402-harness"]["run"]
    assert steps["Install x402-harness"]["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert steps["Install Anvil"]["if"] == "inputs.chain == 'anvil'"
    upload = steps["Upload the reports"]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["if"] == "always()"
    for step in steps.values():  # inputs reach scripts through env only, never spliced in
        assert "${{" not in step.get("run", ""), step


def run_step(name: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A run step of the action, with the shell a runner uses for `shell: bash`."""
    (step,) = [s for s in load(ACTION)["runs"]["steps"] if s.get("name") == name]
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.parametrize(
    ("command", "status"),
    [(REFERENCE_CLIENT, "0"), ("echo '{\"success\": false}'; exit 1", "1")],
    ids=["conformant", "failing"],
)
def test_the_grading_step_writes_every_report_and_the_status(
    tmp_path: Path, command: str, status: str
) -> None:
    outputs = tmp_path / "github-output"
    done = run_step(
        "Grade the client",
        {
            "ACTION_PATH": str(ROOT),
            "GITHUB_OUTPUT": str(outputs),
            "X402_COMMAND": command,
            "X402_CHAIN": "ledger",
            "X402_PROFILE": "",
            "X402_STRICT": "false",
            "X402_ARGS": "--scenario quick",
            "X402_REPORTS": "reports",
            "X402_SARIF_ARTIFACT": "clients/pay.py",
        },
        tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr  # the upload still runs
    assert outputs.read_text() == f"exit-code={status}\n"
    written = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert written == [f"conformance.{ext}" for ext in ("html", "json", "sarif", "xml")]
    assert "clients/pay.py" in (tmp_path / "reports" / "conformance.sarif").read_text()
    failing = run_step("Fail on a failed MUST", {"STATUS": status}, tmp_path)
    assert failing.returncode == int(status)
