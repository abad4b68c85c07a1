"""The check catalog: each check's id, title, source (which gives its level) and grade function."""

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
    ERROR = "error"
    """No evidence either way: the counterpart never did what the check observes (a client
    that made no request, say). Not a pass: it makes the run fail."""


class SourceKind(StrEnum):
    SPEC = "spec"
    """The x402 specifications (core, transports, the exact EVM scheme, the e2e client contract)."""
    LISTING = "listing"
    """The endpoint's listing: what xGen's endpoint asks for and answers."""
    POLICY = "policy"
    """This harness's own design, where the specs are silent: never more than a SHOULD."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where a check's requirement comes from, and whether that text makes it binding."""

    kind: SourceKind
    reference: str
    """The file and section, or the listing field, or the policy's reason."""
    binding: bool
    """The cited text says must (a must, a required field, a verification step it lists)."""

    @property
    def level(self) -> Level:
        return Level.MUST if self.binding else Level.SHOULD

    def __str__(self) -> str:
        return self.reference


def spec_must(reference: str) -> Source:
    """A requirement the specification states as binding."""
    return Source(SourceKind.SPEC, reference, binding=True)


def spec_should(reference: str) -> Source:
    """A recommendation of the specification, or something it shows without requiring."""
    return Source(SourceKind.SPEC, reference, binding=False)


def listing_rule(reference: str, *, binding: bool = True) -> Source:
    """What the endpoint's listing declares (graded in the `xgen` profile only)."""
    return Source(SourceKind.LISTING, reference, binding=binding)


def policy(reason: str) -> Source:
    """This harness's own rule where the specs are silent: a SHOULD, graded in `xgen` only."""
    return Source(SourceKind.POLICY, f"harness policy: {reason}", binding=False)


class Profile(StrEnum):
    """Which checks a run grades: `x402` the specification alone; `xgen` (the default against
    the mock) adds the listing's rules and the harness's own policy."""

    X402 = "x402"
    XGEN = "xgen"

    def grades(self, source: Source) -> bool:
        return self is Profile.XGEN or source.kind is SourceKind.SPEC


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


def error(note: str, **evidence: Any) -> Verdict:
    """No evidence to judge by: the counterpart never did what the check observes."""
    return Verdict(Outcome.ERROR, Evidence(note=note, **evidence))


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
    title: str
    source: Source
    grade: GradeFunction = field(compare=False, repr=False)

    @property
    def role(self) -> Role:
        return ROLE_PREFIXES[self.id[:3]]

    @property
    def level(self) -> Level:
        """MUST only where the source says must."""
        return self.source.level

    @property
    def spec(self) -> str:
        """The source's reference (the name reports have always shown it under)."""
        return self.source.reference

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "role": self.role.value,
            "level": self.level.value,
            "title": self.title,
            "spec": self.spec,
            "source": self.source.kind.value,
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
        self, check_id: str, title: str, source: Source
    ) -> Callable[[GradeFunction], GradeFunction]:
        if not CHECK_ID.match(check_id):
            raise CatalogError(f"check id {check_id!r} is not CLI-nnn, SRV-nnn or FAC-nnn")

        def register(grade: GradeFunction) -> GradeFunction:
            if check_id in self._checks:
                raise CatalogError(f"check id {check_id} is declared twice")
            self._checks[check_id] = Check(check_id, title, source, grade)
            return grade

        return register

    def checks(self, role: Role | None = None, profile: Profile = Profile.XGEN) -> list[Check]:
        chosen = (
            c
            for c in self._checks.values()
            if (role is None or c.role is role) and profile.grades(c.source)
        )
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
    from conformance.client import pending as _pending  # noqa: F401
    from conformance.facilitator import checks as _facilitator  # noqa: F401
    from conformance.server import checks as _server  # noqa: F401
    from conformance.server import jobs as _jobs  # noqa: F401
    from conformance.server import uncertainty as _uncertainty  # noqa: F401

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
