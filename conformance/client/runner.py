"""Running a client under test once per scenario, by the x402 end-to-end client contract.

The contract (the official x402 e2e suite's): the client reads EVM_PRIVATE_KEY,
RESOURCE_SERVER_URL, ENDPOINT_PATH and EVM_RPC_URL, makes its paid request, prints a JSON result
on its last stdout line and exits 0 on success, 1 on failure. For this POST endpoint it also reads
X402_REQUEST_METHOD and X402_REQUEST_BODY (JSON), polls the job it bought, and gives up after
X402_TIMEOUT_SECONDS; X402_MAX_AMOUNT is the most it may pay, in atomic units. An MCP client
(`--transport mcp`) also reads MCP_SERVER_URL, MCP_TOOL (the paid tool, called with the request
body as its arguments) and MCP_STATUS_TOOL (the free tool that answers the job).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from x402_core.tools import STATUS_TOOL

GRACE_SECONDS = 5.0
"""How long past its own timeout a client may take before it is killed."""


@dataclass(frozen=True, slots=True)
class ClientEnv:
    private_key: str
    server_url: str
    endpoint_path: str
    rpc_url: str | None
    body: dict[str, Any]
    method: str = "POST"
    timeout_seconds: float = 10.0
    max_amount: int = 100_000
    mcp_url: str | None = None
    """Set for an MCP client: where the tools are served (MCP_SERVER_URL)."""
    paid_tool: str = ""

    def environ(self) -> dict[str, str]:
        mcp = (
            {}
            if self.mcp_url is None
            else {
                "MCP_SERVER_URL": self.mcp_url,
                "MCP_TOOL": self.paid_tool,
                "MCP_STATUS_TOOL": STATUS_TOOL,
            }
        )
        return mcp | {
            "EVM_PRIVATE_KEY": self.private_key,
            "RESOURCE_SERVER_URL": self.server_url,
            "ENDPOINT_PATH": self.endpoint_path,
            "EVM_RPC_URL": self.rpc_url or "",
            "X402_REQUEST_METHOD": self.method,
            "X402_REQUEST_BODY": json.dumps(self.body),
            "X402_TIMEOUT_SECONDS": str(self.timeout_seconds),
            "X402_MAX_AMOUNT": str(self.max_amount),
        }


@dataclass(frozen=True, slots=True)
class ClientRun:
    """What one run of the client reported."""

    success: bool
    result: dict[str, Any] | None
    exit_code: int | None
    timed_out: bool
    seconds: float
    output_tail: str = ""

    def summary(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "exit_code": self.exit_code,
            "timed_out": self.timed_out,
            "seconds": round(self.seconds, 2),
            "result": self.result,
            "output": self.output_tail,
        }


class ClientUnderTest(Protocol):
    def run(self, env: ClientEnv) -> ClientRun: ...


@dataclass(frozen=True)
class CommandClient:
    """A client run as a command; killed (its whole process group) when it overstays."""

    argv: Sequence[str]
    cwd: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def run(self, env: ClientEnv) -> ClientRun:
        started = time.monotonic()
        try:
            process = subprocess.Popen(
                list(self.argv),
                cwd=self.cwd,
                env={**os.environ, **self.extra_env, **env.environ()},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        except OSError as exc:  # no such command, not executable: the client never ran
            seconds = time.monotonic() - started
            return ClientRun(False, None, None, False, seconds, f"could not start: {exc}")
        try:
            output, _ = process.communicate(timeout=env.timeout_seconds + GRACE_SECONDS)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            timed_out = True
        result = _last_json_line(output)
        success = process.returncode == 0 and not timed_out and (result or {}).get("success", True)
        return ClientRun(
            bool(success),
            result,
            process.returncode,
            timed_out,
            time.monotonic() - started,
            output[-800:],
        )


@dataclass(frozen=True)
class CallableClient:
    """A client given as a Python function: it returns the contract's JSON result, or raises."""

    func: Callable[[ClientEnv], dict[str, Any]]

    def run(self, env: ClientEnv) -> ClientRun:
        started = time.monotonic()
        try:
            result = self.func(env)
        except Exception as exc:
            return ClientRun(
                False,
                {"success": False, "error": f"{type(exc).__name__}: {exc}"},
                1,
                False,
                time.monotonic() - started,
            )
        success = bool(result.get("success", True))
        return ClientRun(success, result, 0 if success else 1, False, time.monotonic() - started)


def _last_json_line(output: str) -> dict[str, Any] | None:
    for line in reversed(output.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        return data if isinstance(data, dict) else None
    return None
