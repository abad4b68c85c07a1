"""Schema-driven requests (schemathesis) against both servers' own OpenAPI documents: no 5xx.

A fixed, derandomized budget of examples per document and mode: valid-looking requests (positive)
and requests that break the schema (negative), payment headers included.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from facilitator_sim.openapi import openapi_document as facilitator_document
from mock_server.config import ServerSettings
from mock_server.openapi import openapi_document as mock_document
from tests.hostile.conftest import Targets
from x402_core.xgen import xgen_listing

EXAMPLES = 60
SCHEMAS = {
    "mock": schemathesis.openapi.from_dict(mock_document(xgen_listing(), ServerSettings())),
    "facilitator": schemathesis.openapi.from_dict(facilitator_document()),
}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("server", sorted(SCHEMAS))
def test_schema_driven_requests_get_no_5xx_and_change_nothing(
    unchanged: Targets, server: str, mode: GenerationMode
) -> None:
    base_url = unchanged.mock_url if server == "mock" else unchanged.facilitator_url
    statuses: set[int] = set()

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        # Drawing cases from a schema is slow on a machine shared by parallel tests.
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(case=SCHEMAS[server].as_strategy(generation_mode=mode))
    def request(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, timeout=30)
        statuses.add(response.status_code)
        assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])

    request()
    assert statuses  # requests were made, and each answered
