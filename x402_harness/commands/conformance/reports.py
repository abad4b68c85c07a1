"""The report files a conformance run writes (JSON, JUnit, SARIF, HTML): their flags, a check
that each can be written before the run starts, and the writing."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from x402_harness.usage import UsageError

if TYPE_CHECKING:
    from conformance.report import Report

REPORT_PATHS = ("json_path", "junit_path", "sarif_path", "html_path")


class ReportPathError(UsageError):
    """A report file that cannot be written where it was asked for."""


def add_report_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--json", dest="json_path", help="also write the report as JSON here")
    group.add_argument("--junit", dest="junit_path", help="also write JUnit XML here (for CI)")
    group.add_argument(
        "--sarif", dest="sarif_path", help="also write SARIF 2.1.0 here (code-scanning views)"
    )
    group.add_argument(
        "--sarif-artifact",
        metavar="FILE",
        help="repository file the SARIF results are pinned to (GitHub code scanning needs one)",
    )
    group.add_argument(
        "--html", dest="html_path", help="also write a self-contained HTML report here"
    )


def prepare_report_paths(args: argparse.Namespace) -> None:
    """Makes each report's folder, and refuses a path that cannot be written: better before a
    run that takes a while than after it."""
    for path in filter(None, (getattr(args, name) for name in REPORT_PATHS)):
        target = Path(path)
        if target.is_dir():
            raise ReportPathError(f"{path} is a directory; give a file name for the report")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReportPathError(f"cannot make the folder for {path}: {exc.strerror}") from None
        if not os.access(target.parent, os.W_OK):
            raise ReportPathError(f"cannot write {path}: its folder is not writable")


def write_reports(report: Report, args: argparse.Namespace) -> None:
    from conformance.html_report import write_html
    from conformance.render import write_json, write_junit
    from conformance.sarif import write_sarif

    if args.json_path:
        write_json(report, args.json_path)
    if args.junit_path:
        write_junit(report, args.junit_path)
    if args.sarif_path:
        write_sarif(report, args.sarif_path, artifact=args.sarif_artifact)
    if args.html_path:
        write_html(report, args.html_path)
