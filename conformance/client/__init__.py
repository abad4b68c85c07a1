"""Client conformance: a client runs through the mock's scenarios; the checks read the journal."""

from __future__ import annotations

import time
from collections.abc import Sequence

from conformance.catalog import Profile, Role, grade
from conformance.client.runner import CallableClient, ClientEnv, ClientRun, CommandClient
from conformance.client.session import Progress, observe
from conformance.report import Report
from conformance.selection import chosen_checks
from conformance.target import StackUrls

__all__ = ["CallableClient", "ClientEnv", "ClientRun", "CommandClient", "grade_client"]


def grade_client(
    client: CommandClient | CallableClient,
    urls: StackUrls,
    *,
    scenarios: Sequence[str] | None = None,
    timeout: float | None = None,
    only: Sequence[str] | None = None,
    progress: Progress | None = None,
    profile: Profile = Profile.XGEN,
) -> Report:
    """Run `client` once per scenario against the mock at `urls` and grade what it did. The
    report's details say `did_not_run` when the client sent nothing in any scenario."""
    checks = chosen_checks(Role.CLIENT, only, profile)
    started = time.perf_counter()
    session = observe(client, urls, scenarios=scenarios, timeout=timeout, progress=progress)
    results = grade(checks, session)
    details = {
        "runs": {name: run.run.summary() for name, run in session.runs.items()},
        "profile": profile.value,
        "did_not_run": session.did_not_run(),
    }
    target = " ".join(client.argv) if isinstance(client, CommandClient) else repr(client.func)
    return Report(target, results, time.perf_counter() - started, details)
