"""A graded run: the results of one or more roles' checks against one target."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.catalog import Level, Outcome, Result, Role


@dataclass
class Report:
    target: str
    """What was graded: a URL, or the command of a client."""
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    """Anything the runner observed beyond the checks (per-scenario client results, say)."""

    def failures(self, *, strict: bool = False) -> list[Result]:
        """Failed MUSTs, and failed SHOULDs too when strict."""
        levels = {Level.MUST, Level.SHOULD} if strict else {Level.MUST}
        return [r for r in self.results if r.outcome is Outcome.FAIL and r.check.level in levels]

    def errors(self) -> list[Result]:
        """Checks that found no evidence either way: the run cannot vouch for them."""
        return [r for r in self.results if r.outcome is Outcome.ERROR]

    def exit_code(self, *, strict: bool = False) -> int:
        """1 when a MUST failed (any check, when strict) or a check found no evidence."""
        return 1 if self.failures(strict=strict) or self.errors() else 0

    def counts(self) -> dict[str, int]:
        counts = {f"{level.value} {outcome.value}": 0 for level in Level for outcome in Outcome}
        for result in self.results:
            counts[f"{result.check.level.value} {result.outcome.value}"] += 1
        return counts

    def roles(self) -> list[Role]:
        return sorted({r.check.role for r in self.results}, key=list(Role).index)

    def result(self, check_id: str) -> Result:
        for result in self.results:
            if result.check.id == check_id:
                return result
        raise KeyError(f"{check_id} was not graded in this report")

    def failed_ids(self, level: Level | None = None) -> set[str]:
        return {
            r.check.id
            for r in self.results
            if r.outcome is Outcome.FAIL and (level is None or r.check.level is level)
        }
