"""The bazaar catalogue: a verified or settled payment with valid bazaar info is listed at
`GET /discovery/resources` (type filter, pagination), invalid info is rejected and said so in
EXTENSION-RESPONSES; the official SDK's bazaar client lists what the mock's payments catalogued."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from x402.extensions.bazaar import ListDiscoveryResourcesParams, with_bazaar
from x402.http import FacilitatorConfig, HTTPFacilitatorClientSync

from facilitator_sim.app import create_app
from facilitator_sim.chains.factory import fund_test_wallets
from facilitator_sim.chains.ledger import LedgerChain
from facilitator_sim.discovery import EXTENSION_RESPONSES
from tests.factories import verify_body
from x402_core import bazaar
from x402_core.headers import decode_json_header
from x402_core.wallets import test_wallet
from x402_core.xgen import xgen_listing
from x402_harness.stack import Stack
from x402_payer import Payer
from x402_service.serving import ServerThread

LISTING = xgen_listing()


def _body(extension: dict[str, Any], url: str) -> dict[str, Any]:
    body = verify_body(2)
    body["paymentPayload"]["resource"] = {"url": url, "description": "d", "mimeType": "m"}
    body["paymentPayload"]["extensions"] = {bazaar.BAZAAR: extension}
    return body


@pytest.fixture
def facilitator() -> Any:
    chain = LedgerChain()
    fund_test_wallets(chain)
    with ServerThread(create_app(chain)) as server, httpx.Client(base_url=server.url) as http:
        yield http


def test_verified_resources_are_listed_by_type_a_page_at_a_time(facilitator: Any) -> None:
    http_info, mcp_info = bazaar.http_extension(LISTING), bazaar.mcp_extension(LISTING)
    for url, extension in [("http://a/x", http_info), ("http://b/y", http_info)]:
        answer = facilitator.post("/verify", json=_body(extension, url))
        assert decode_json_header(answer.headers[EXTENSION_RESPONSES]) == {
            "bazaar": {"status": "success"}
        }
    facilitator.post("/verify", json=_body(mcp_info, "http://b/mcp"))
    everything = facilitator.get("/discovery/resources").json()
    assert everything["pagination"] == {"limit": 20, "offset": 0, "total": 3}
    assert isinstance(everything["items"][0]["lastUpdated"], int)
    page = facilitator.get("/discovery/resources?type=http&limit=1&offset=1").json()
    assert [i["resource"] for i in page["items"]] == ["http://b/y"]
    assert page["pagination"] == {"limit": 1, "offset": 1, "total": 2}
    (tool,) = facilitator.get("/discovery/resources?type=mcp").json()["items"]
    assert tool["extensions"]["bazaar"]["info"]["input"]["tool"] == "generate_image"


def test_invalid_info_is_rejected_and_not_listed(facilitator: Any) -> None:
    broken = copy.deepcopy(bazaar.http_extension(LISTING))
    broken["info"]["input"]["body"]["model"] = "no-such-model"
    answer = facilitator.post("/verify", json=_body(broken, "http://a/x"))
    assert answer.json()["isValid"] is True  # the payment is fine; only the listing is refused
    said = decode_json_header(answer.headers[EXTENSION_RESPONSES])["bazaar"]
    assert said["status"] == "rejected"
    assert "info.input.body.model" in said["rejectedReason"]
    assert facilitator.get("/discovery/resources").json()["items"] == []


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "offset=-1", "type=grpc"])
def test_bad_queries_are_400(facilitator: Any, query: str) -> None:
    answer = facilitator.get(f"/discovery/resources?{query}")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_the_official_bazaar_client_lists_the_mocks_endpoint() -> None:
    with Stack() as stack, Payer(test_wallet(1).private_key) as payer:
        paid = payer.request_paid(
            "POST", stack.endpoint_url, json={"model": "nano-banana-2", "prompt": "a listed fox"}
        )
        assert paid.response.status_code == 200
        facilitator = HTTPFacilitatorClientSync(FacilitatorConfig(url=stack.facilitator_url))
        with with_bazaar(facilitator) as client:
            listed = client.extensions.bazaar.list_resources(
                ListDiscoveryResourcesParams(type="http")
            )
    (item,) = listed.items
    assert item.resource == stack.endpoint_url
    assert item.type == "http"
    assert item.extensions is not None
    assert item.extensions["bazaar"] == bazaar.http_extension(LISTING, 4000)
    assert listed.pagination.total == 1
