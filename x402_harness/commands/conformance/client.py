"""`x402-harness conformance client`."""

from __future__ import annotations

import argparse

from conformance.report import Report


def add_parser(
    subparsers: argparse._SubParsersAction, report_options: argparse.ArgumentParser
) -> None:
    subparsers.add_parser("client", parents=[report_options], help="grade a client")


def grade(args: argparse.Namespace) -> Report:
    raise NotImplementedError
