"""Documentation that runs: every shell command in README.md and docs/*.md (its ```sh blocks) runs
and succeeds, as written or as the table below says (a shorter run time, a running stack's URLs in
place of fixed ports, a real client in place of `my_client.py`); every example file loads.

A command the docs gain that the table does not know fails the test, and so does a table entry
the docs lost: each documented command is run, and is run the way the table says.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from facilitator_sim.chains.anvil import AnvilProcess
from loadtests.slo import load_thresholds
from mock_server.config import ServerSettings
from x402_core.listing import parse_listing
from x402_harness.stack import Stack, StackConfig
from x402_service.serving import free_port

ROOT = Path(__file__).parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def fenced_blocks(language: str) -> re.Pattern[str]:
    """Markdown code blocks whose fence names `language` (a regex), indented or not."""
    return re.compile(
        rf"^(?P<indent> *)```{language}\n(?P<body>.*?)^(?P=indent)```", re.MULTILINE | re.DOTALL
    )


SH_BLOCK = fenced_blocks("sh")
LINKED = (".venv", "examples", "loadtests")
"""What the commands name relative to the project root, linked into each command's folder."""
PARALLEL = 4
COMMAND_TIMEOUT = 120.0
READY_TIMEOUT = 60.0
READY = "Press Ctrl-C to stop."
"""What a long-running command prints once it serves."""
WEATHER = "examples/listings/weather-base-sepolia.json"
SUMMARIZE = "examples/listings/summarize-base.json"
QUICK_CLIENT = "--scenario quick --"
GATE_FAILED = re.compile(r"^load gate failed: (.*)$", re.MULTILINE)
LATENCY_SLO = re.compile(r"SLO broken: .+: p\d\d < [\d.]+ — was [\d.]+$")


@dataclass(frozen=True)
class How:
    """How one documented command is run."""

    mode: str
    """run: it must exit 0; serve: it must print READY, then stop cleanly on SIGTERM;
    script: the block it opens runs as one bash script and must exit 0; skip: not run."""
    command: str = ""
    """What runs instead of the documented text ("": the text itself). Placeholders: {server}
    and {facilitator} (a stack started for this command, see STACKS), {rpc} (an Anvil started
    for it), {port} and {port2} (free ports), {root}, and in a script {block}: the doc's block,
    its fixed URLs (FIXED_URLS) pointing at the stack."""
    why: str = ""
    stack: str = ""
    """A key of STACKS: the stack this command is pointed at."""
    expect: str = ""
    """Something the output must also contain."""


STACKS = {
    "xgen": ServerSettings(),
    "weather": ServerSettings(listing_path=ROOT / WEATHER),
    "short facilitator timeout": ServerSettings(facilitator_timeout=2),
}
"""Stacks a command may be pointed at, by their mock's settings."""
FIXED_URLS = {"http://127.0.0.1:8402": "{server}", "http://127.0.0.1:4021": "{facilitator}"}
PLACEHOLDER = re.compile(r"\{(server|facilitator|rpc|port|port2|root|block)\}")
FAIL_ON_HTTP_ERRORS = 'curl() { command curl --fail-with-body "$@"; }\n'
"""Prepended to scripts that call curl: an HTTP error answer fails the script."""


RUN = How("run")
SERVE = How("serve")
X = ".venv/bin/x402-harness"
SLO_RUN = "--slo examples/slo.toml --replays 0.2 --json load-verdict.json"
TARGET = "--target http://127.0.0.1:8402 --facilitator-url http://127.0.0.1:4021"
CLIENTS = [
    ("", "reference_payer"),
    ("", "sdk_httpx"),
    ("", "sdk_requests"),
    ("--versions v1 ", "sdk_v1"),
    ("--transport mcp ", "sdk_mcp"),
]
"""The clients docs/conformance-results.md grades, with the flags before their `--`."""
NO_DOCKER = "no Docker engine here; tests/x402_harness/test_compose.py checks docker-compose.yml"
HOW: dict[str, How] = {
    # README.md
    "make demo": How(
        "run", "make -n -C {root} demo", "dry run: its `x402-harness demo` runs below"
    ),
    "make test": How("run", "make -n -C {root} test", "dry run: running it is running this suite"),
    f"{X} up": SERVE,
    f"{X} up --chain anvil --state state/": SERVE,
    f"{X} demo": RUN,
    f"{X} conformance list": RUN,
    f"{X} conformance client -- python my_client.py": How(
        "run",
        f"{X} conformance client {QUICK_CLIENT} python examples/clients/reference_payer.py",
        "my_client.py is the reader's client: the reference payer stands in, in one scenario",
    ),
    f"{X} conformance facilitator http://127.0.0.1:4021 --junit fac.xml": How(
        "run", f"{X} conformance facilitator {{facilitator}} --junit fac.xml", stack="xgen"
    ),
    f"{X} conformance server http://127.0.0.1:8402/v1/images/generate --json srv.json": How(
        "run", f"{X} conformance server {{server}}/v1/images/generate --json srv.json", stack="xgen"
    ),
    f'{X} load --users 50 --run-time 1m --threshold "p95<500"': How(
        "run", f'{X} load --users 50 --run-time 2s --threshold "p95<500"'
    ),
    f"{X} load --chain anvil --processes 2 {SLO_RUN}": How(
        "run", f"{X} load --chain anvil --processes 2 {SLO_RUN} --run-time 2s"
    ),
    f"{X} load {TARGET}": How(
        "run",
        f"{X} load --target {{server}} --facilitator-url {{facilitator}} --run-time 2s",
        stack="xgen",
    ),
    f"{X} facilitator": SERVE,
    f"{X} facilitator --chain anvil --port 4021": How(
        "serve", f"{X} facilitator --chain anvil --port {{port}}"
    ),
    f"{X} facilitator --chain http://127.0.0.1:8545": How(
        "serve", f"{X} facilitator --chain {{rpc}}"
    ),
    f"{X} facilitator --selftest": RUN,
    # docs/ci.md
    "x402-harness conformance client --chain CHAIN --json DIR/conformance.json --junit "
    "DIR/conformance.xml --sarif DIR/conformance.sarif --html DIR/conformance.html [--profile "
    'PROFILE] [--strict] [--sarif-artifact FILE] [ARGS] -- bash -c "COMMAND"': How(
        "run",
        "x402-harness conformance client --chain ledger --json out/conformance.json "
        "--junit out/conformance.xml --sarif out/conformance.sarif --html out/conformance.html "
        "--profile xgen --strict --sarif-artifact examples/clients/reference_payer.py "
        f'{QUICK_CLIENT} bash -c "python examples/clients/reference_payer.py"',
        "the action's command with its inputs filled in",
    ),
    "x402-harness up --json > stack.log &": How(
        "script",
        "set -e\n{block}\necho RESOURCE_SERVER_URL=$RESOURCE_SERVER_URL\nkill %1\nwait %1 || true",
        "one script: the stack in the background, its URL read from its first line",
        expect="RESOURCE_SERVER_URL=http://127.0.0.1:",
    ),
    # docs/conformance-results.md
    **{
        f"{X} conformance client {flags}-- .venv/bin/python examples/clients/{client}.py": How(
            "run",
            f"{X} conformance client {flags}{QUICK_CLIENT} .venv/bin/python "
            f"examples/clients/{client}.py",
            "one scenario of the client's run",
        )
        for flags, client in CLIENTS
    },
    # docs/facilitator.md
    "F=http://127.0.0.1:4021/__facilitator__": How(
        "script",
        "set -e\n" + FAIL_ON_HTTP_ERRORS + "{block}",
        "one script against a running facilitator; an HTTP error fails it",
        stack="xgen",
        expect='"armed":[]',
    ),
    f"{X} facilitator --port 4021 &": How("serve", f"{X} facilitator --port {{port}}"),
    "my-server --facilitator-url http://127.0.0.1:4021 &": How(
        "skip", why="the reader's server; the mock stands in for it in the next command"
    ),
    f"{X} conformance server http://127.0.0.1:8000/v1/images/generate --facilitator-admin "
    "http://127.0.0.1:4021 --fault-hold 30 --fault-slow 2": How(
        "run",
        f"{X} conformance server {{server}}/v1/images/generate --facilitator-admin "
        "{facilitator} --fault-hold 2 --fault-slow 1",
        "the mock stands in for my-server, with a 2 s facilitator timeout to keep the run short",
        stack="short facilitator timeout",
    ),
    # docs/docker.md
    "docker-compose up -d mock-server": How("skip", why=NO_DOCKER),
    "docker-compose up -d --scale locust-worker=4": How("skip", why=NO_DOCKER),
    "BASE_RPC_URL=https://… FACILITATOR_CHAIN=http://anvil-fork:8545 docker-compose --profile "
    "fork up -d mock-server": How("skip", why=NO_DOCKER),
    # docs/listings.md
    f"{X} up --listing {WEATHER}": SERVE,
    f"{X} conformance server http://127.0.0.1:8402/v1/forecast --listing {WEATHER}": How(
        "run",
        f"{X} conformance server {{server}}/v1/forecast --listing {WEATHER}",
        stack="weather",
    ),
    f"{X} load --listing {SUMMARIZE} --run-time 10s": How(
        "run", f"{X} load --listing {SUMMARIZE} --run-time 2s"
    ),
    # docs/load.md
    f'{X} load --users 20 --run-time 30s --threshold "p95<500"': How(
        "run", f'{X} load --users 20 --run-time 2s --threshold "p95<500"'
    ),
    f"{X} load {SLO_RUN}": How("run", f"{X} load {SLO_RUN} --run-time 2s"),
    f"{X} load --chain anvil --processes 2 --users 40 --run-time 1m": How(
        "run", f"{X} load --chain anvil --processes 2 --users 40 --run-time 2s"
    ),
    f'{X} load --threshold "p95<500" --threshold "time to completed job [default]:p95<8000"': How(
        "run",
        f'{X} load --threshold "p95<500" --threshold "time to completed job [default]:p95<8000" '
        "--run-time 6s",
        "long enough for jobs to complete (4 s each), so that the milestone has values",
    ),
    f"{X} up --port 8402 --facilitator-port 4021 &": How(
        "serve", f"{X} up --port {{port}} --facilitator-port {{port2}}"
    ),
    ".venv/bin/locust -f loadtests/locustfile.py --host http://127.0.0.1:8402 --headless -u 20 "
    "-r 5 -t 30s --x402-first-wallet 1 --x402-wallets 9": How(
        "run",
        ".venv/bin/locust -f loadtests/locustfile.py --host {server} --headless -u 20 -r 5 -t 2s "
        "--x402-first-wallet 1 --x402-wallets 9",
        stack="xgen",
    ),
}
"""Every shell command of the docs, exactly as written there (continued lines joined, comments
dropped), and how it is run."""


@dataclass(frozen=True)
class Documented:
    command: str
    where: str
    """doc:line"""
    block: str
    """The whole ```sh block it is in."""


def _without_comment(line: str) -> str:
    """The line up to a `#` that starts a shell comment (unquoted, after a blank)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip()
    return line.rstrip()


def documented_commands() -> list[Documented]:
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for block in SH_BLOCK.finditer(text):
            first_line = text.count("\n", 0, block.start()) + 2
            body = block["body"]
            logical = re.sub(r"\\\n\s*", "", body)  # continued lines joined
            for line in logical.splitlines():
                command = _without_comment(line.strip())
                if command:
                    found.append(Documented(command, f"{doc.name}:{first_line}", body))
    return found


def test_every_documented_command_is_in_the_table() -> None:
    commands = {d.command: d.where for d in documented_commands()}
    unknown = {c: w for c, w in commands.items() if c not in HOW and not _in_a_script(c)}
    assert not unknown, f"documented commands the docs test does not know how to run: {unknown}"
    lost = [c for c in HOW if c not in commands]
    assert not lost, f"table entries no doc has any more: {lost}"


def _in_a_script(command: str) -> bool:
    """Whether `command` follows a script's first line in the same block."""
    for documented in documented_commands():
        if HOW.get(documented.command, RUN).mode == "script" and command in documented.block:
            return True
    return False


@dataclass
class Outcome:
    where: str
    command: str
    ok: bool
    output: str


@contextlib.contextmanager
def _needed(how: How) -> Iterator[dict[str, str]]:
    """The placeholders of `how`, with what they name running."""
    values = {"root": str(ROOT), "port": str(free_port()), "port2": str(free_port())}
    with contextlib.ExitStack() as running:
        if how.stack:
            stack = running.enter_context(Stack(StackConfig(server=STACKS[how.stack])))
            values |= {"server": stack.server_url, "facilitator": stack.facilitator_url}
        if "{rpc}" in how.command:
            values["rpc"] = running.enter_context(AnvilProcess.start()).rpc_url
        yield values


def _fill(template: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[m[1]], template)


def _environment() -> dict[str, str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, "COLUMNS": "100", "TERM": "dumb"}


def _run(documented: Documented, cwd: Path) -> Outcome:
    """Runs one command in its own folder (`cwd`), where the project's files it names are."""
    how = HOW[documented.command]
    cwd.mkdir()
    for name in LINKED:
        (cwd / name).symlink_to(ROOT / name)
    with _needed(how) as values:
        if how.mode == "script":
            block = documented.block
            for url, placeholder in FIXED_URLS.items():
                block = block.replace(url, _fill(placeholder, values) if how.stack else url)
            command = _fill(how.command, values | {"block": block})
        else:
            command = _fill(how.command or documented.command, values)
        if how.mode == "serve":
            ok, output = _serve(command.removesuffix("&").strip(), cwd)
        else:
            done = subprocess.run(
                ["bash", "-c", command],
                cwd=cwd,
                env=_environment(),
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
            )
            output = f"exit {done.returncode}\n{done.stdout}{done.stderr}"
            ok = done.returncode == 0 or (done.returncode == 1 and _only_latency_broke(output))
    return Outcome(documented.where, command, ok and how.expect in output, output)


def _only_latency_broke(output: str) -> bool:
    """A load gate that failed on latency thresholds alone: on a machine shared by parallel
    tests a p95 says how busy it was, and timing is never asserted. Everything else the gate
    judges (purchases, failures, failure-ratio SLOs, invariants) still fails the command."""
    reasons = GATE_FAILED.findall(output)
    return bool(reasons) and all(LATENCY_SLO.match(reason) for reason in reasons)


def _serve(command: str, cwd: Path) -> tuple[bool, str]:
    """Start `command`, wait until it prints READY, stop it with SIGTERM: it must exit 0."""
    with subprocess.Popen(
        ["bash", "-c", f"exec {command}"],
        cwd=cwd,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as served:
        assert served.stdout is not None
        lines = []
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            line = served.stdout.readline()
            lines.append(line)
            if not line or READY in line:
                break
        served.send_signal(signal.SIGTERM)
        rest, _ = served.communicate(timeout=30)
    output = f"exit {served.returncode}\n" + "".join(lines) + rest
    return any(READY in line for line in lines) and served.returncode == 0, output


def _slow_first(documented: Documented) -> int:
    """Load runs take longest: started first, the short commands fill the gaps beside them."""
    command = HOW[documented.command].command or documented.command
    return 0 if " load " in command or "locust" in command else 1


@pytest.mark.anvil
@pytest.mark.slow
def test_every_documented_command_runs(tmp_path: Path) -> None:
    runnable = [d for d in documented_commands() if HOW.get(d.command, How("skip")).mode != "skip"]
    unique = sorted({d.command: d for d in runnable}.values(), key=_slow_first)
    with ThreadPoolExecutor(PARALLEL) as pool:
        outcomes = list(pool.map(_run, unique, [tmp_path / str(n) for n in range(len(unique))]))
    failed = [o for o in outcomes if not o.ok]
    assert not failed, "\n\n".join(f"{o.where}: {o.command}\n{o.output[-1500:]}" for o in failed)


# ------------------------------------------------------------------------------ example files


EXAMPLES = ROOT / "examples"
LOADED = ("listings/*.json", "slo.toml", "github-workflow.yml", "clients/*.py")
"""The example files the tests below load, by pattern; any other example fails the first."""


def test_every_example_file_is_loaded_below() -> None:
    files = {p for p in EXAMPLES.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    covered = {p for pattern in LOADED for p in EXAMPLES.glob(pattern)}
    assert files - covered == set(), "example files no test loads"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("listings/*.json")), ids=lambda p: p.name)
def test_every_example_listing_parses(path: Path) -> None:
    listing = parse_listing(path.read_text(), str(path))
    assert listing.amount > 0


def test_the_example_slo_file_loads() -> None:
    thresholds = load_thresholds(EXAMPLES / "slo.toml")
    assert len(thresholds) == sum(
        len(t) for t in tomllib.loads((EXAMPLES / "slo.toml").read_text()).values()
    )


def test_the_example_workflow_is_yaml_with_jobs() -> None:
    workflow = yaml.safe_load((EXAMPLES / "github-workflow.yml").read_text())
    assert workflow["jobs"]


def test_every_example_client_imports() -> None:
    """Loaded as modules (their `main` guarded), in a fresh interpreter, from their folder."""
    clients = sorted((EXAMPLES / "clients").glob("*.py"))
    loader = (
        "import runpy, sys\nfor path in sys.argv[1:]:\n    runpy.run_path(path, run_name='example')"
    )
    done = subprocess.run(
        [sys.executable, "-c", loader, *map(str, clients)],
        cwd=EXAMPLES / "clients",
        env={**os.environ, "PYTHONPATH": str(EXAMPLES / "clients")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert clients
    assert done.returncode == 0, done.stderr


YAML_BLOCK = fenced_blocks("ya?ml")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_yaml_block_in_the_docs_parses(doc: Path) -> None:
    for block in YAML_BLOCK.finditer(doc.read_text()):
        body = textwrap.dedent(block["body"])
        assert isinstance(yaml.safe_load(body), (dict, list)), f"{doc.name}:\n{body}"
