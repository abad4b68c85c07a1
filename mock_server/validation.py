"""The request a paid endpoint takes, read and checked against its listing before any payment
is asked for: a JSON body, or query parameters."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import QueryParams

from x402_core import strictjson
from x402_core.listing import InputLocation, InvalidRequestError, Listing

__all__ = ["InvalidRequestError", "read_request"]


def read_request(
    listing: Listing, body: bytes, query: QueryParams, max_string_chars: int
) -> dict[str, Any]:
    """The checked request (defaults filled in); InvalidRequestError names what is wrong."""
    if listing.location is InputLocation.QUERY:
        repeated = sorted({key for key in query if len(query.getlist(key)) > 1})
        if repeated:
            raise InvalidRequestError(f"{repeated[0]} is given more than once", repeated[0])
        data: Any = dict(query)
    else:
        try:
            data = strictjson.loads(body)
        except strictjson.JsonError as exc:
            raise InvalidRequestError(f"the body is not JSON: {exc}") from exc
    return listing.check_request(data, max_string_chars)
