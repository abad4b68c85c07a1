"""Client conformance: a client runs through the mock's scenarios; the checks read the journal."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

from conformance.catalog import Check, Profile, Result, Role, grade
from conformance.client.mcp_checks import MCP_ONLY
from conformance.client.runner import CallableClient, ClientEnv, ClientRun, CommandClient
from conformance.client.session import ClientSession, Progress, Transport, observe
from conformance.report import Report
from conformance.selection import chosen_checks
from conformance.target import StackUrls

__all__ = [
    "CallableClient",
    "ClientEnv",
    "ClientRun",
    "CommandClient",
    "Transport",
    "grade_client",
]


def grade_client(
    client: CommandClient | CallableClient,
    urls: StackUrls,
    *,
    scenarios: Sequence[str] | None = None,
    timeout: float | None = None,
    only: Sequence[str] | None = None,
    progress: Progress | None = None,
    profile: Profile = Profile.XGEN,
    transport: Transport = Transport.HTTP,
) -> Report:
    """Run `client` once per scenario against the mock at `urls` and grade what it did. The
    report's details say `did_not_run` when the client sent nothing in any scenario."""
    checks = chosen_checks(Role.CLIENT, only, profile)
    if transport is Transport.HTTP:
        checks = [c for c in checks if c.id not in MCP_ONLY]
    started = time.perf_counter()
    session = observe(
        client, urls, scenarios=scenarios, timeout=timeout, progress=progress, transport=transport
    )
    results = _grade_timed(checks, session)
    details = {
        "runs": {name: run.run.summary() for name, run in session.runs.items()},
        "profile": profile.value,
        "transport": transport.value,
        "did_not_run": session.did_not_run(),
    }
    target = " ".join(client.argv) if isinstance(client, CommandClient) else repr(client.func)
    return Report(target, results, time.perf_counter() - started, details)


def _grade_timed(checks: Sequence[Check], session: ClientSession) -> list[Result]:
    """Each check's time is that of the scenario runs it read, where its evidence came from."""
    results = []
    for check in checks:
        session.runs.read.clear()
        (result,) = grade([check], session)
        gathered = session.runs.seconds_read()
        results.append(dataclasses.replace(result, seconds=result.seconds + gathered))
    return results
