"""Takes the inspector's screenshot for the docs: a server conformance run against a fresh stack,
then a few purchases by the reference payer in different scenarios, in Debian's chromium.

    PYTHONPATH=. .venv/bin/python scripts/inspector_screenshot.py [docs/inspector.png]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from conformance.render import report_json
from conformance.server import grade_server
from tests.browser import launch_chromium
from x402_core.wallets import test_wallet
from x402_harness.stack import Stack, StackConfig
from x402_payer import Payer
from x402_payer.errors import PayerError

BODY = {"model": "nano-banana-2", "prompt": "a lighthouse at dusk", "aspect_ratio": "16:9"}


def buy(stack: Stack, wallet: int, scenario: str) -> None:
    """One purchase by the reference payer, in `scenario` (queued through the admin API)."""
    with httpx.Client(base_url=stack.admin_url) as admin:
        admin.post("/scenario/queue", json={"names": [scenario]}).raise_for_status()
    with Payer(test_wallet(wallet).private_key) as payer, tempfile.TemporaryDirectory() as out:
        try:
            payer.generate_image(stack.server_url, BODY, out)
        except PayerError as exc:
            print(f"{scenario}: {exc}")


def main(target: Path) -> None:
    with Stack(StackConfig()) as stack:
        report = grade_server(stack.endpoint_url, stack.listing, poll_timeout=20)
        with httpx.Client(base_url=stack.admin_url) as admin:
            admin.post(
                "/inspector/reports", params={"name": "server-run.json"}, json=report_json(report)
            ).raise_for_status()
        for wallet, scenario in (
            (4, "fail"),
            (5, "settle_fails"),
            (6, "rate_limited"),
            (1, "quick"),
        ):
            buy(stack, wallet, scenario)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            page.goto(stack.admin_url + "/")
            page.wait_for_selector("body[data-live=yes]")
            page.screenshot(path=str(target))
            browser.close()
    print(f"wrote {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/inspector.png"))
