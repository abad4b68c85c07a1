"""The repository's Dockerfile read as Docker reads it, for tests that cannot run an engine."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

DOCKERFILE = Path(__file__).parents[2] / "Dockerfile"


@dataclass
class Dockerfile:
    """The instructions that matter here, continuation lines joined."""

    copies: list[tuple[list[str], str]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    exposed: list[str] = field(default_factory=list)
    healthcheck: str = ""
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)


def read_dockerfile(path: Path = DOCKERFILE) -> Dockerfile:
    parsed = Dockerfile()
    for line in _instructions(path.read_text()):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "COPY":
            *sources, dest = shlex.split(rest)
            parsed.copies.append((sources, dest))
        elif keyword == "ENV":
            parsed.env.update(part.split("=", 1) for part in shlex.split(rest))
        elif keyword == "EXPOSE":
            parsed.exposed += rest.split()
        elif keyword == "HEALTHCHECK":
            parsed.healthcheck = rest[rest.index(" CMD ") + len(" CMD ") :].strip()
        elif keyword == "ENTRYPOINT":
            parsed.entrypoint = json.loads(rest)
        elif keyword == "CMD":
            parsed.cmd = json.loads(rest)
    return parsed


def _instructions(text: str) -> list[str]:
    joined = text.replace("\\\n", " ")
    return [
        " ".join(line.split())
        for line in joined.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
