"""The facilitator checks of the x402 extensions: a payment-identifier as an idempotency key, and
the bazaar catalogue at `GET /discovery/resources` (not applicable where there is none)."""

from __future__ import annotations

from typing import Any

from conformance.catalog import (
    Verdict,
    catalog,
    failed,
    not_applicable,
    passed,
    policy,
    spec_must,
    spec_should,
)
from conformance.facilitator.probe import Exchange, FacilitatorProbe
from x402_core import bazaar
from x402_core.payment_identifier import PAYMENT_IDENTIFIER, declaration, echoed, new_id
from x402_core.xgen import xgen_listing

DISCOVERY = "x402-specification-v2.md §8.1 GET /discovery/resources, §8.2"
ITEM_FIELDS = ("resource", "type", "x402Version", "accepts", "lastUpdated")
NO_DISCOVERY = (404, 405)
"""A facilitator answering these serves no discovery API (the spec does not require one)."""


def _with(body: dict[str, Any], **extensions: Any) -> dict[str, Any]:
    body["paymentPayload"]["extensions"] = extensions
    return body


@catalog.check(
    "FAC-070",
    "a payment-identifier settled with one payment is refused with another, at /verify and /settle",
    policy(
        "extensions__payment_identifier.md: a facilitator may use the id for verify/settle "
        "idempotency"
    ),
)
def identifier_binds(probe: FacilitatorProbe) -> Verdict:
    payment_id = new_id()
    declared = {PAYMENT_IDENTIFIER: declaration(False)}
    carried = echoed(declared, payment_id)[PAYMENT_IDENTIFIER]
    first = probe.settle(_with(probe.fresh_body(), **{PAYMENT_IDENTIFIER: carried}))
    if first.field("success") is not True:
        return failed("a valid payment with an id did not settle", **first.evidence())
    other = _with(probe.fresh_body(), **{PAYMENT_IDENTIFIER: carried})
    verify, settle = probe.verify(other), probe.settle(other)
    evidence = {
        "sent": [verify.sent, settle.sent],
        "received": [verify.received(), settle.received()],
    }
    if verify.field("isValid") is not False or settle.field("success") is not False:
        return failed("another payment under the settled id was accepted", **evidence)
    return passed(f"refused: {verify.field('invalidReason')}", **evidence)


def _listing(probe: FacilitatorProbe, query: str) -> Exchange:
    response = probe.http.get(f"/discovery/resources?{query}")
    try:
        answer: Any = response.json()
    except ValueError:
        answer = response.text[:500]
    return Exchange(f"/discovery/resources?{query}", None, response.status_code, answer)


def _settled_with(probe: FacilitatorProbe, extension: dict[str, Any]) -> tuple[str, Exchange]:
    """Settle a fresh payment for a resource of its own whose payload echoes `extension`."""
    url = f"http://127.0.0.1/x402h-discovery-probe/{new_id()}"
    body = _with(probe.fresh_body(), **{bazaar.BAZAAR: extension})
    body["paymentPayload"]["resource"] = {"url": url, "description": "a probe", "mimeType": "x"}
    return url, probe.settle(body)


def _find(probe: FacilitatorProbe, url: str) -> tuple[dict[str, Any] | None, list[Exchange]]:
    """The catalogued item of `url`, looked up a page of 10 at a time."""
    pages, offset = [], 0
    while offset < 10_000:
        page = _listing(probe, f"type=http&limit=10&offset={offset}")
        pages.append(page)
        items = page.field("items")
        if page.status != 200 or not isinstance(items, list) or not items:
            return None, pages
        found = next((i for i in items if isinstance(i, dict) and i.get("resource") == url), None)
        if found is not None:
            return found, pages
        offset += len(items)
    return None, pages


def _no_discovery(probe: FacilitatorProbe) -> Verdict | None:
    first = _listing(probe, "limit=1")
    if first.status in NO_DISCOVERY:
        return not_applicable(f"GET /discovery/resources answered {first.status}: no catalogue")
    return None


@catalog.check(
    "FAC-071",
    "GET /discovery/resources lists a resource it settled with bazaar info, with the §8.2 "
    "fields, a type filter and limit/offset pagination",
    spec_should(DISCOVERY),
)
def discovery_lists(probe: FacilitatorProbe) -> Verdict:
    if (none := _no_discovery(probe)) is not None:
        return none
    url, settled = _settled_with(probe, bazaar.http_extension(xgen_listing()))
    if settled.field("success") is not True:
        return failed("a valid payment with bazaar info did not settle", **settled.evidence())
    item, pages = _find(probe, url)
    shown = {"received": [p.received() for p in pages[-2:]]}
    if item is None:
        return failed(f"{url} is not listed", **shown)
    missing = [f for f in ITEM_FIELDS if f not in item]
    if missing or item.get("type") != "http":
        return failed(f"the item lacks {missing} or is not of type http", received=item)
    one = _listing(probe, "limit=1")
    pagination = one.field("pagination")
    if (
        not isinstance(pagination, dict)
        or pagination.get("limit") != 1
        or len(one.field("items") or []) > 1
        or not isinstance(pagination.get("total"), int)
    ):
        return failed("limit=1 is not honoured, or pagination is missing", **one.evidence())
    return passed(f"{url} listed", received=item)


@catalog.check(
    "FAC-072",
    "bazaar info that does not validate against its own schema is not catalogued",
    spec_must("extensions__bazaar.md Schema Validation (facilitators must validate info)"),
)
def invalid_info_not_listed(probe: FacilitatorProbe) -> Verdict:
    if (none := _no_discovery(probe)) is not None:
        return none
    extension = bazaar.http_extension(xgen_listing())
    extension["info"]["input"]["method"] = "TRACE"  # outside the schema's enum
    url, settled = _settled_with(probe, extension)
    if settled.field("success") is not True:
        return failed("the payment itself did not settle", **settled.evidence())
    item, pages = _find(probe, url)
    if item is not None:
        return failed(f"{url} was catalogued with info its schema refuses", received=item)
    return passed(f"{url} is not listed", received=[p.received() for p in pages[-1:]])
