"""The OpenAPI document, the listing and the settings."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from mock_server.config import ServerSettings, ServerSettingsError
from mock_server.listing import DEFAULT_LISTING
from tests.mock_server.conftest import World
from x402_core.listing import ListingError, load_listing
from x402_service.envconfig import SettingsError


def test_openapi_describes_the_paid_endpoint(world: World) -> None:
    document = world.http.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    post = document["paths"]["/v1/images/generate"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["model", "prompt"]
    assert "PAYMENT-REQUIRED" in post["responses"]["402"]["headers"]
    assert "/v1/images/generate/{job_id}" in document["paths"]


def test_the_packaged_listing_matches_the_seed() -> None:
    listing = load_listing(DEFAULT_LISTING)
    assert (listing.amount, listing.max_timeout_seconds, listing.path) == (
        50_000,
        300,
        "/v1/images/generate",
    )
    assert listing.pay_to == "0x8fd70c7f86454273fc2df8379dbf08a95ab103d3"


def test_broken_listings_say_what_is_wrong(tmp_path: Path) -> None:
    data = json.loads(DEFAULT_LISTING.read_text())
    del data["accepts"][0]["pay_to"]
    (tmp_path / "a.json").write_text(json.dumps(data))
    with pytest.raises(ListingError, match="pay_to"):
        load_listing(tmp_path / "a.json")
    data = json.loads(DEFAULT_LISTING.read_text())
    data["accepts"][0]["asset"] = "0x" + "11" * 20
    (tmp_path / "b.json").write_text(json.dumps(data))
    with pytest.raises(ListingError, match="not USDC"):
        load_listing(tmp_path / "b.json")


def test_settings_from_environment() -> None:
    settings = ServerSettings.from_env(
        {"X402H_SERVER_VERSIONS": "v2", "X402H_SERVER_STORE": "sqlite:/x"}
    )
    assert (settings.versions, settings.store) == (frozenset({"v2"}), "sqlite:/x")
    with pytest.raises(ServerSettingsError, match="v1, v2"):
        ServerSettings.from_env({"X402H_SERVER_VERSIONS": "v3"})
    with pytest.raises(SettingsError, match="X402H_SERVER_MAX_PROMPT_CHARS"):
        ServerSettings.from_env({"X402H_SERVER_MAX_PROMPT_CHARS": "many"})


def test_openapi_declares_every_path_parameter_and_the_prompts_limits(
    make_world: Callable[..., World],
) -> None:
    world = make_world(max_prompt_chars=123)
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
    assert (prompt["minLength"], prompt["maxLength"]) == (1, 123)
    assert re.search(prompt["pattern"], " ") is None
    too_long = {"model": "nano-banana-2", "prompt": "x" * 124}
    assert world.http.post("/v1/images/generate", json=too_long).status_code == 400
