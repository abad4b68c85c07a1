"""The check catalog: every check's id, level, title, spec reference and grading function."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"


class Role(StrEnum):
    CLIENT = "client"
    SERVER = "server"
    FACILITATOR = "facilitator"


ROLE_PREFIXES = {"CLI": Role.CLIENT, "SRV": Role.SERVER, "FAC": Role.FACILITATOR}
CHECK_ID = re.compile(r"^(CLI|SRV|FAC)-\d{3}$")


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "n/a"


@dataclass(frozen=True, slots=True)
class Evidence:
    """What was sent, what came back and what was expected: enough to act on a failure."""

    sent: Any = None
    received: Any = None
    expected: Any = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v not in (None, "")}


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    evidence: Evidence = field(default_factory=Evidence)


def passed(note: str = "", **evidence: Any) -> Verdict:
    return Verdict(Outcome.PASS, Evidence(note=note, **evidence))


def failed(note: str, **evidence: Any) -> Verdict:
    return Verdict(Outcome.FAIL, Evidence(note=note, **evidence))


def not_applicable(note: str, **evidence: Any) -> Verdict:
    return Verdict(Outcome.NOT_APPLICABLE, Evidence(note=note, **evidence))


def verdict_of(ok: bool, note: str, **evidence: Any) -> Verdict:
    """Pass or fail on one condition, with the same evidence either way."""
    return Verdict(Outcome.PASS if ok else Outcome.FAIL, Evidence(note=note, **evidence))


GradeFunction = Callable[[Any], Verdict]
"""Takes the role's context (what the run observed or can probe) and judges one thing."""


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    level: Level
    title: str
    spec: str
    """Where the requirement comes from: spec file and section, or the endpoint listing."""
    grade: GradeFunction = field(compare=False, repr=False)

    @property
    def role(self) -> Role:
        return ROLE_PREFIXES[self.id[:3]]

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "role": self.role.value,
            "level": self.level.value,
            "title": self.title,
            "spec": self.spec,
        }


@dataclass(frozen=True, slots=True)
class Result:
    check: Check
    verdict: Verdict
    seconds: float

    @property
    def outcome(self) -> Outcome:
        return self.verdict.outcome


class CatalogError(ValueError):
    """A check was declared wrongly: a bad or repeated id."""


class Catalog:
    """Checks by id. Each role's module registers its checks with `@catalog.check(...)`."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def check(
        self, check_id: str, level: Level, title: str, spec: str
    ) -> Callable[[GradeFunction], GradeFunction]:
        if not CHECK_ID.match(check_id):
            raise CatalogError(f"check id {check_id!r} is not CLI-nnn, SRV-nnn or FAC-nnn")

        def register(grade: GradeFunction) -> GradeFunction:
            if check_id in self._checks:
                raise CatalogError(f"check id {check_id} is declared twice")
            self._checks[check_id] = Check(check_id, level, title, spec, grade)
            return grade

        return register

    def checks(self, role: Role | None = None) -> list[Check]:
        chosen = (c for c in self._checks.values() if role is None or c.role is role)
        return sorted(chosen, key=lambda c: c.id)

    def get(self, check_id: str) -> Check:
        try:
            return self._checks[check_id]
        except KeyError:
            raise CatalogError(f"no check {check_id!r}") from None


catalog = Catalog()


def load_all() -> Catalog:
    """The catalog with every role's checks registered."""
    from conformance.client import checks as _client  # noqa: F401
    from conformance.facilitator import checks as _facilitator  # noqa: F401
    from conformance.server import checks as _server  # noqa: F401

    return catalog


def grade(checks: Iterable[Check], context: Any) -> list[Result]:
    """Runs each check on the context. A check that raises fails, with the error as evidence:
    a counterpart that makes a check crash has not shown the behaviour the check asks for."""
    results = []
    for check in checks:
        start = time.perf_counter()
        try:
            verdict = check.grade(context)
        except Exception as exc:
            verdict = failed(f"the check could not complete: {type(exc).__name__}: {exc}")
        results.append(Result(check, verdict, time.perf_counter() - start))
    return results
