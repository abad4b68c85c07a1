"""`x402-harness conformance server`."""

from __future__ import annotations

import argparse

from conformance.report import Report


def add_parser(
    subparsers: argparse._SubParsersAction, report_options: argparse.ArgumentParser
) -> None:
    subparsers.add_parser("server", parents=[report_options], help="grade a server")


def grade(args: argparse.Namespace) -> Report:
    raise NotImplementedError
