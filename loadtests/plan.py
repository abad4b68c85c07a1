"""How big a Locust run is (users, spawn rate, run time, processes), checked before anything
starts, and where it is aimed."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$")


class LoadPlanError(ValueError):
    """A load run that cannot be run as asked: says which flag and what it expects."""


def seconds_of(run_time: str) -> int:
    """Locust's run-time spelling (`90`, `90s`, `2m`, `1h30m`) in seconds, above 0."""
    match = DURATION.match(run_time.strip())
    if match is None or not any(match.groups()):
        raise LoadPlanError(f"--run-time {run_time!r}: expected a duration like 30s, 2m or 1h30m")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise LoadPlanError(f"--run-time {run_time!r}: expected a duration above 0, e.g. 30s")
    return total


@dataclass(frozen=True)
class LoadPlan:
    users: int = 10
    spawn_rate: float = 10.0
    run_time: str = "30s"
    processes: int = 1
    """1: one headless Locust process; N > 1: a master and N workers."""
    locust_args: list[str] = field(default_factory=list)
    """The locustfile's own options (`--x402-…`), passed to every process."""

    def __post_init__(self) -> None:
        if self.users < 1:
            raise LoadPlanError(f"--users {self.users}: expected at least 1")
        if not (math.isfinite(self.spawn_rate) and self.spawn_rate > 0):
            raise LoadPlanError(f"--spawn-rate {self.spawn_rate:g}: expected users per second > 0")
        if self.processes < 1:
            raise LoadPlanError(f"--processes {self.processes}: expected at least 1")
        seconds_of(self.run_time)

    @property
    def seconds(self) -> int:
        return seconds_of(self.run_time)


@dataclass(frozen=True, slots=True)
class Target:
    """Where the users send their requests: a base URL and the paid endpoint's path below it."""

    host: str
    endpoint_path: str

    @property
    def endpoint_url(self) -> str:
        return self.host + self.endpoint_path


def target_of(url: str, endpoint_path: str) -> Target:
    """A server's base URL, or the paid endpoint's full URL (its path is then taken off)."""
    parts = urlsplit(url.strip())
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number within 0-65535)
    except ValueError:
        parts = parts._replace(scheme="")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LoadPlanError(
            f"--target {url!r}: expected a base URL like http://127.0.0.1:8402 "
            f"(or the endpoint's, ending in {endpoint_path})"
        )
    if parts.query or parts.fragment:
        raise LoadPlanError(f"--target {url!r}: expected a URL without query or fragment")
    path = parts.path.rstrip("/")
    if path.endswith(endpoint_path.rstrip("/")):
        path = path[: len(path) - len(endpoint_path.rstrip("/"))]
    return Target(f"{parts.scheme}://{parts.netloc}{path}", endpoint_path)
