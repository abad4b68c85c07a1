"""Any listing is mocked the same way: a GET with query parameters on Base Sepolia and a
synchronous POST on Base, through the stack, the reference payer, and the server checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from conformance.catalog import Level, Outcome
from conformance.server import grade_server
from mock_server.config import ServerSettings
from x402_core.headers import PAYMENT_REQUIRED, decode_header
from x402_core.listing import Listing, parse_listing
from x402_core.models import PaymentRequiredV2
from x402_core.wallets import test_wallet
from x402_harness.stack import Stack, StackConfig
from x402_payer import Payer, PayerPolicy

EXAMPLES = Path(__file__).parents[2] / "examples" / "listings"
LISTINGS = sorted(EXAMPLES.glob("*.json"))
POLICY = PayerPolicy(networks=frozenset({"base", "base-sepolia"}))


def _listing(path: Path) -> Listing:
    return parse_listing(path.read_text(), str(path))


@pytest.fixture(params=LISTINGS, ids=lambda p: p.stem)
def listed(request: pytest.FixtureRequest) -> Iterator[tuple[Stack, Listing]]:
    path: Path = request.param
    config = StackConfig(server=ServerSettings(listing_path=path, default_scenario="instant"))
    with Stack(config) as stack:
        yield stack, _listing(path)


def _url(stack: Stack, listing: Listing, request: dict) -> str:
    if listing.method in ("GET", "DELETE"):
        return f"{stack.endpoint_url}?{urlencode(request)}"
    return stack.endpoint_url


def test_the_offer_says_what_the_listing_says(listed: tuple[Stack, Listing]) -> None:
    stack, listing = listed
    request = listing.example_request()
    body = request if listing.method == "POST" else None
    answer = httpx.request(listing.method, _url(stack, listing, request), json=body)
    assert answer.status_code == 402
    offer = decode_header(answer.headers[PAYMENT_REQUIRED], PaymentRequiredV2).accepts[0]
    assert (offer.network, offer.amount, offer.pay_to) == (
        listing.network.caip2,
        str(listing.amount),
        listing.pay_to,
    )
    assert offer.extra == listing.network.usdc.extra()
    assert stack.chain.chain_id == listing.network.chain_id


def test_the_reference_payer_buys_the_answer_once(listed: tuple[Stack, Listing]) -> None:
    stack, listing = listed
    request = listing.example_request()
    before = stack.chain.balance_of(listing.asset, listing.pay_to)
    body = request if listing.method == "POST" else None
    with Payer(test_wallet(4).private_key, POLICY) as payer:
        paid = payer.request_paid(listing.method, _url(stack, listing, request), json=body)
        again = payer.request_paid(listing.method, _url(stack, listing, request), json=body)
    assert paid.response.status_code == 200, paid.response.text
    assert paid.response.json() == listing.example_output(request)
    assert again.response.json() == paid.response.json()
    assert stack.chain.balance_of(listing.asset, listing.pay_to) - before == 2 * listing.amount
    bad = dict(request) | {"nonsense": 1}
    refused = httpx.request(
        listing.method, _url(stack, listing, bad), json=bad if body is not None else None
    )
    assert (refused.status_code, refused.json()["field"]) == (400, "nonsense")


def test_no_server_check_fails_on_any_listed_endpoint(listed: tuple[Stack, Listing]) -> None:
    stack, listing = listed
    report = grade_server(stack.endpoint_url, listing, rpc_url=stack.chain.rpc_url)
    assert report.failed_ids(Level.MUST) == set()
    assert not [r.check.id for r in report.results if r.outcome is Outcome.ERROR]
    assert report.failed_ids() == set(), "no check fails, SHOULDs included"
    job_checks = {f"SRV-{n:03d}" for n in (21, 23, 24, 25, 26, 27, 28, 29)}
    not_applicable = {r.check.id for r in report.results if r.outcome is Outcome.NOT_APPLICABLE}
    assert (job_checks <= not_applicable) is (not listing.is_job)
