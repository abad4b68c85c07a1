"""The OpenAPI document, the listing and the settings."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from mock_server.config import ServerSettings, ServerSettingsError
from tests.mock_server.conftest import World
from x402_service.envconfig import SettingsError


def test_openapi_describes_the_paid_endpoint(world: World) -> None:
    document = world.http.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    post = document["paths"]["/v1/images/generate"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["model", "prompt"]
    assert "PAYMENT-REQUIRED" in post["responses"]["402"]["headers"]
    assert "/v1/images/generate/{job_id}" in document["paths"]


def test_settings_from_environment() -> None:
    settings = ServerSettings.from_env(
        {"X402H_SERVER_VERSIONS": "v2", "X402H_SERVER_STORE": "sqlite:/x"}
    )
    assert (settings.versions, settings.store) == (frozenset({2}), "sqlite:/x")
    with pytest.raises(ServerSettingsError, match="v1, v2"):
        ServerSettings.from_env({"X402H_SERVER_VERSIONS": "v3"})
    with pytest.raises(SettingsError, match="X402H_SERVER_MAX_STRING_CHARS"):
        ServerSettings.from_env({"X402H_SERVER_MAX_STRING_CHARS": "many"})


def test_openapi_declares_every_path_parameter_and_the_prompts_limits(
    make_world: Callable[..., World],
) -> None:
    world = make_world()
    document = world.http.get("/openapi.json").json()
    for path, operations in document["paths"].items():
        for operation in operations.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), path
    image = document["paths"]["/v1/images/{job_id}/{index}.png"]["get"]["parameters"]
    assert {p["name"]: p["schema"]["type"] for p in image} == {
        "job_id": "string",
        "index": "integer",
    }
    body = document["paths"]["/v1/images/generate"]["post"]["requestBody"]
    prompt = body["content"]["application/json"]["schema"]["properties"]["prompt"]
    assert (prompt["minLength"], prompt["maxLength"]) == (1, 4000)  # the listing's limit
    assert re.search(prompt["pattern"], " ") is None
    too_long = {"model": "nano-banana-2", "prompt": "x" * 4001}
    assert world.http.post("/v1/images/generate", json=too_long).status_code == 400
