"""Arguments of the grading commands: `--only` check ids and the URL graded, which may come
after them (`--only SRV-001 URL`)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from typing import Any

CHECK_ID = re.compile(r"[A-Z]+-[0-9]+")


class CheckIds(argparse.Action):
    """`--only ID [ID ...]`: the check ids. A value after them that is no check id is the URL
    graded (`--only SRV-001 URL`), which argparse alone would take for one more id."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        given = [str(v) for v in values or ()]
        ids = [v for v in given if CHECK_ID.fullmatch(v)]
        rest = given[len(ids) :]
        if given[: len(ids)] != ids or len(rest) > 1 or (rest and not _takes_url(namespace)):
            odd = next(v for v in given if not CHECK_ID.fullmatch(v))
            parser.error(f"--only: {odd!r} is not a check id (ids look like SRV-001)")
        if rest:
            namespace.url = rest[0]
        setattr(namespace, self.dest, [*(getattr(namespace, self.dest, None) or []), *ids])


def _takes_url(namespace: argparse.Namespace) -> bool:
    return getattr(namespace, "url", "") is None


class TargetUrl(argparse.Action):
    """The URL graded, an optional positional: argparse passes None when it found none, which
    must not undo a URL given after `--only`'s ids."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        if values is not None:
            setattr(namespace, self.dest, values)


def add_target_url(parser: argparse.ArgumentParser, what: str, example: str) -> None:
    """The URL graded: a positional argparse may leave empty (it can follow `--only`), which
    the command then asks for."""
    parser.add_argument(
        "url", nargs="?", action=TargetUrl, help=f"{what} (required), e.g. {example}"
    )
