"""`x402-harness conformance facilitator`."""

from __future__ import annotations

import argparse

from conformance.report import Report


def add_parser(
    subparsers: argparse._SubParsersAction, report_options: argparse.ArgumentParser
) -> None:
    subparsers.add_parser("facilitator", parents=[report_options], help="grade a facilitator")


def grade(args: argparse.Namespace) -> Report:
    raise NotImplementedError
