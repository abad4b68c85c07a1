"""`GET /openapi.json` of the facilitator: every route, with the wire models' schemas."""

from __future__ import annotations

import httpx
import jsonschema_rs
from starlette.routing import Route

from facilitator_sim.app import create_app
from facilitator_sim.chains.ledger import LedgerChain
from tests.factories import verify_body
from x402_service.serving import ServerThread


def test_the_document_describes_every_route_and_a_real_body_fits_it() -> None:
    with ServerThread(create_app(LedgerChain())) as server:
        document = httpx.get(server.url + "/openapi.json").json()
        routes = {r.path for r in create_app(LedgerChain()).routes if isinstance(r, Route)}
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == routes - {"/openapi.json"}
    body = document["paths"]["/verify"]["post"]["requestBody"]["content"]["application/json"]
    schema = {**body["schema"], "components": document["components"]}  # where its $refs point
    validator = jsonschema_rs.Draft202012Validator(schema)
    for version in (1, 2):
        validator.validate(verify_body(version))
    broken = verify_body(2)
    broken["paymentPayload"]["payload"]["authorization"]["from"] += "\n"
    assert not validator.is_valid(broken)
