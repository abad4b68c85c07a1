"""`x402-harness server`: the mock xGen server alone, paying through a given facilitator."""

from __future__ import annotations

import argparse
import os

from mock_server.config import ENV_PREFIX
from x402_harness.commands.options import add_server_arguments, server_settings_from
from x402_harness.usage import UsageError

FACILITATOR_URL_ENV = f"{ENV_PREFIX}FACILITATOR_URL"
SUPPORTED_TIMEOUT_SECONDS = 5.0


class FacilitatorNotAnsweringError(UsageError):
    """The facilitator the server would settle with does not answer `/supported`."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "server",
        help="run the mock xGen server alone",
        description="Run the mock of POST /v1/images/generate (0.05 USDC, x402 v1 and v2) against "
        "a facilitator that is already running (see `x402-harness facilitator`); it must answer "
        "GET /supported when the server starts.",
    )
    parser.add_argument(
        "--facilitator-url",
        help=f"the facilitator's base URL (required; or {FACILITATOR_URL_ENV})",
    )
    add_server_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from mock_server.app import create_app
    from x402_harness.console import console, warn_if_exposed
    from x402_service.listings import read_listing
    from x402_service.serving import ServerThread, wait_for_interrupt

    settings = server_settings_from(args, facilitator_url=args.facilitator_url)
    if args.facilitator_url is None and FACILITATOR_URL_ENV not in os.environ:
        raise UsageError(
            f"server needs --facilitator-url URL (or {FACILITATOR_URL_ENV}): the facilitator it "
            "verifies and settles with, e.g. http://127.0.0.1:4021 from `x402-harness "
            "facilitator --port 4021`"
        )
    read_listing(settings.listing_path)  # a listing that does not parse is a flag to fix first
    require_facilitator(settings.facilitator_url)
    warn_if_exposed(settings.host)
    with ServerThread(create_app(settings), settings.host, settings.port) as server:
        console.print(f"[bold]xGen mock[/bold]    {server.url}/v1/images/generate")
        console.print(f"admin        {server.url}/__mock__/  (scenarios, clock, jobs, journal)")
        console.print(f"facilitator  {settings.facilitator_url}")
        wait_for_interrupt()
    return 0


def require_facilitator(url: str) -> None:
    """A facilitator that answers `GET /supported` with a JSON object, noticed before the first
    payment rather than at it."""
    import httpx

    supported = url.rstrip("/") + "/supported"
    try:
        answer = httpx.get(supported, timeout=SUPPORTED_TIMEOUT_SECONDS)
        if answer.status_code == 200 and isinstance(answer.json(), dict):
            return
        problem = f"it answered {answer.status_code} {answer.reason_phrase}"
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        problem = str(exc) or type(exc).__name__
    raise FacilitatorNotAnsweringError(
        f"no facilitator answers GET {supported} ({problem}): start one (`x402-harness "
        "facilitator --port 4021`) or give the URL of a running one with --facilitator-url"
    )
