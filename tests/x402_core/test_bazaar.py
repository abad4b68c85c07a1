"""The bazaar extension derived from a listing validates against its own schema and says what the
listing says; `problems` names what is wrong with a broken one."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from x402_core import bazaar
from x402_core.listing import Listing, parse_listing
from x402_core.tools import paid_tool_name
from x402_core.xgen import xgen_listing

EXAMPLES = sorted((Path(__file__).parents[2] / "examples" / "listings").glob("*.json"))
LISTINGS = [xgen_listing()] + [parse_listing(p.read_text(), p.name) for p in EXAMPLES]


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda listing: listing.path)
def test_every_listing_gives_extensions_that_validate(listing: Listing) -> None:
    http = bazaar.http_extension(listing, 4000)
    mcp = bazaar.mcp_extension(listing, 4000)
    assert bazaar.problems(http) == []
    assert bazaar.problems(mcp) == []
    assert http["info"]["input"]["method"] == listing.method
    assert mcp["info"]["input"]["tool"] == paid_tool_name(listing)
    request = listing.example_request()
    assert http["info"]["input"].get("body", http["info"]["input"].get("queryParams")) == request


def test_tool_names_come_from_the_path() -> None:
    assert paid_tool_name(xgen_listing()) == "generate_image"
    names = {paid_tool_name(listing) for listing in LISTINGS}
    assert all(name and name.replace("_", "").isalnum() for name in names)


def _broken(change: str) -> dict:
    extension = copy.deepcopy(bazaar.http_extension(xgen_listing()))
    if change == "info off schema":
        extension["info"]["input"]["body"]["model"] = "no-such-model"
    elif change == "external ref":
        extension["schema"]["properties"]["output"] = {"$ref": "https://example.com/s.json"}
    elif change == "old draft":
        extension["schema"]["$schema"] = "http://json-schema.org/draft-07/schema#"
    elif change == "unknown input type":
        extension["info"]["input"]["type"] = "grpc"
    return extension


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("info off schema", "info.input.body.model"),
        ("external ref", "refers outside itself"),
        ("old draft", "expected https://json-schema.org/draft/2020-12/schema"),
        ("unknown input type", "info.input.type is 'grpc'"),
    ],
)
def test_problems_name_what_is_wrong(change: str, said: str) -> None:
    found = bazaar.problems(_broken(change))
    assert found
    assert said in " ".join(found)


def test_problems_of_what_is_no_extension() -> None:
    assert bazaar.problems("bazaar") != []
    assert bazaar.problems({"info": {}}) != []
