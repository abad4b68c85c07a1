"""User errors at the command line: one line saying what was wrong and what to do, exit status 2.

Parsing a command line imports nothing heavy, so the errors a person fixes are named here by
module and class and recognised only when their module is already loaded: an exception cannot
come from a module nobody imported.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

USAGE_EXIT = 2


class UsageError(ValueError):
    """A flag, setting or argument the person running the command has to change."""


USAGE_ERRORS = (
    "conformance.catalog.CatalogError",
    "conformance.facilitator.reasons.ReasonTableError",
    "conformance.target.WrongServiceError",
    "facilitator_sim.chains.anvil.AnvilNotFoundError",
    "facilitator_sim.chains.anvil.AnvilStartError",
    "facilitator_sim.chains.base.ChainError",
    "facilitator_sim.chains.factory.ChainSpecError",
    "facilitator_sim.chains.rpc_guard.RemoteRpcRefusedError",
    "facilitator_sim.config.FacilitatorSettingsError",
    "loadtests.plan.LoadPlanError",
    "loadtests.slo.SloError",
    "mock_server.config.ServerSettingsError",
    "mock_server.scenarios.UnknownScenarioError",
    "mock_server.stores.StoreSpecError",
    "x402_core.listing.ListingError",
    "x402_harness.commands.conformance.client.ClientCommandError",
    "x402_harness.commands.conformance.reports.ReportPathError",
    "x402_harness.commands.conformance.targets.RemoteTargetError",
    "x402_harness.stack.StackError",
    "x402_harness.usage.UsageError",
    "x402_service.envconfig.SettingsError",
)
"""Problems a person fixes by changing a flag or installing something: a message, no traceback."""


def usage_error_class(name: str) -> type[BaseException] | None:
    """The class `module.Class` names, if its module is loaded."""
    module_name, _, class_name = name.rpartition(".")
    module = sys.modules.get(module_name)
    found = getattr(module, class_name, None) if module is not None else None
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


def is_usage_error(exc: BaseException, names: Sequence[str] = USAGE_ERRORS) -> bool:
    return any(cls is not None and isinstance(exc, cls) for cls in map(usage_error_class, names))


def one_line(text: str) -> str:
    """A message on one line: its own line breaks and indents become single spaces."""
    return " ".join(text.split())


class HarnessParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what was wrong, where the help is), not the
    usage block followed by the error."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_EXIT, f"{self.prog}: error: {one_line(message)} (see {self.prog} -h)\n")


class VersionAction(argparse.Action):
    """`--version`: the installed package's version, read only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings,
            dest=argparse.SUPPRESS,
            default=argparse.SUPPRESS,
            nargs=0,
            help="print the version and exit",
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        from importlib.metadata import version

        print(f"{parser.prog} {version('x402-harness')}")
        parser.exit()
