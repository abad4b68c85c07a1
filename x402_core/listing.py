"""A paid endpoint as an x402 index listing describes it, and everything derived from it: the
payment requirements (v1 and v2), the request it accepts (JSON body fields or query parameters)
and how to check one, the answer it gives (a job with statuses, or a JSON object), examples.

Listings use the index's format (`accepts[0]` with `max_amount_required_atomic`, `pay_to`, and
`hints.input` / `hints.output`). Pure: parsing text, no file or network access.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from x402_core.models import PaymentRequirementsV1, PaymentRequirementsV2, ResourceInfo
from x402_core.networks import Asset, Network, UnknownNetworkError, asset_on, network_by_v1_name

JSON_TYPES = ("string", "integer", "number", "boolean")
BODY_METHODS = ("POST", "PUT", "PATCH")
QUERY_METHODS = ("GET", "DELETE")
JOB_STATUSES = ("pending", "processing", "completed", "failed")
DEFAULT_MAX_STRING_CHARS = 4000
"""Longest string a field takes when its listing states no maxLength."""


class ListingError(ValueError):
    """A listing that cannot describe a paid endpoint; the message says what and where."""


class InvalidRequestError(ValueError):
    """A request the endpoint refuses; `field` names the culprit (None: the request as a whole)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InputLocation(StrEnum):
    BODY = "body"
    QUERY = "query"


@dataclass(frozen=True, slots=True)
class InputField:
    """One body field or query parameter, with what the listing says of it."""

    name: str
    type: str = "string"
    required: bool = False
    enum: tuple[Any, ...] | None = None
    default: Any = None
    description: str = ""
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None

    def schema(self, max_string_chars: int | None = None) -> dict[str, Any]:
        """This field as JSON Schema; `max_string_chars` states the longest text the server
        takes where the listing states none."""
        longest = self.max_length
        if longest is None and self.type == "string" and self.enum is None:
            longest = max_string_chars
        schema: dict[str, Any] = {"type": self.type}
        for key, value in (
            ("enum", list(self.enum) if self.enum is not None else None),
            ("default", self.default),
            ("description", self.description or None),
            ("maxLength", longest),
            ("minimum", self.minimum),
            ("maximum", self.maximum),
        ):
            if value is not None:
                schema[key] = value
        if self.type == "string" and self.required and self.enum is None:
            schema.update(minLength=1, pattern=r"\S")  # not blank, as check_request says
        return schema

    def example(self) -> Any:
        """A valid value: the default, the first allowed one, or one built from the type."""
        if self.default is not None:
            return self.default
        if self.enum:
            return self.enum[0]
        if self.type == "string":
            return f"example {self.name}"
        if self.type == "boolean":
            return True
        low = self.minimum if self.minimum is not None else 1
        return math.ceil(low) if self.type == "integer" else float(low)


@dataclass(frozen=True, slots=True)
class Offer:
    """`accepts[0]`: how the endpoint wants to be paid."""

    scheme: str
    network: Network
    asset: Asset
    pay_to: str
    amount: int
    max_timeout_seconds: int


@dataclass(frozen=True, slots=True)
class Listing:
    """A paid endpoint: where it is, what it costs, what it takes and what it answers."""

    title: str
    description: str
    url: str
    method: str
    location: InputLocation
    fields: tuple[InputField, ...]
    output_schema: dict[str, Any]
    offer: Offer
    example_request_body: Mapping[str, Any] | None = field(default=None, compare=False)

    # -- where and what ------------------------------------------------------------------------

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    @property
    def network(self) -> Network:
        return self.offer.network

    @property
    def asset(self) -> str:
        return self.offer.asset.address

    @property
    def pay_to(self) -> str:
        return self.offer.pay_to

    @property
    def amount(self) -> int:
        return self.offer.amount

    @property
    def max_timeout_seconds(self) -> int:
        return self.offer.max_timeout_seconds

    @property
    def extra(self) -> dict[str, str]:
        """The EIP-712 domain of the asset, as requirements carry it."""
        return self.offer.asset.extra()

    @property
    def is_job(self) -> bool:
        """Whether the answer is an asynchronous job: an object with `id` and `status` whose
        statuses are the job words (then a status route serves it while it runs)."""
        properties = self.output_schema.get("properties")
        if not isinstance(properties, dict) or "id" not in properties:
            return False
        status = properties.get("status")
        return isinstance(status, dict) and set(status.get("enum", ())) <= set(JOB_STATUSES)

    def field_named(self, name: str) -> InputField | None:
        return next((f for f in self.fields if f.name == name), None)

    # -- requirements and the index's description of the input ----------------------------------

    def input_hints(self) -> dict[str, Any]:
        """`hints.input` as the index writes it (and v1's `outputSchema.input`)."""
        key = "bodyFields" if self.location is InputLocation.BODY else "queryParams"
        described = {}
        for f in self.fields:
            spec = {k: v for k, v in f.schema().items() if k not in ("minLength", "pattern")}
            described[f.name] = {**spec, "required": True} if f.required else spec
        return {"type": "http", "method": self.method, key: described}

    def input_schema(self, max_string_chars: int | None = None) -> dict[str, Any]:
        """The request's body (or query) as JSON Schema: unknown members are refused."""
        return {
            "type": "object",
            "additionalProperties": False,
            "required": [f.name for f in self.fields if f.required],
            "properties": {f.name: f.schema(max_string_chars) for f in self.fields},
        }

    def requirements_v2(self) -> PaymentRequirementsV2:
        offer = self.offer
        return PaymentRequirementsV2(
            scheme=offer.scheme,
            network=offer.network.caip2,
            amount=str(offer.amount),
            asset=offer.asset.address,
            pay_to=offer.pay_to,
            max_timeout_seconds=offer.max_timeout_seconds,
            extra=self.extra,
        )

    def requirements_v1(self, resource_url: str) -> PaymentRequirementsV1:
        offer = self.offer
        return PaymentRequirementsV1(
            scheme=offer.scheme,
            network=offer.network.name,
            max_amount_required=str(offer.amount),
            resource=resource_url,
            description=self.description,
            mime_type="application/json",
            output_schema={"input": self.input_hints(), "output": self.output_schema},
            pay_to=offer.pay_to,
            max_timeout_seconds=offer.max_timeout_seconds,
            asset=offer.asset.address,
            extra=self.extra,
        )

    def resource(self, resource_url: str) -> ResourceInfo:
        return ResourceInfo(
            url=resource_url, description=self.description, mime_type="application/json"
        )

    # -- requests ------------------------------------------------------------------------------

    def check_request(
        self, data: object, max_string_chars: int = DEFAULT_MAX_STRING_CHARS
    ) -> dict[str, Any]:
        """The request with defaults filled in; InvalidRequestError names the first field that is
        missing, unknown or wrong, and what it must be. Query values arrive as strings and are
        read as the field's type."""
        if not isinstance(data, dict):
            raise InvalidRequestError(f"the {self.location.value} must be a JSON object")
        known = [f.name for f in self.fields]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise InvalidRequestError(
                f"unknown field {unknown[0]!r}; the fields are {', '.join(known)}", unknown[0]
            )
        checked: dict[str, Any] = {}
        for f in self.fields:
            if f.name not in data or data[f.name] is None:
                if f.required:
                    raise InvalidRequestError(f"{f.name} is required: {_wanted(f)}", f.name)
                if f.default is not None:
                    checked[f.name] = f.default
                continue
            checked[f.name] = _checked_value(f, data[f.name], self.location, max_string_chars)
        return checked

    def example_request(self) -> dict[str, Any]:
        """A valid request: the listing's own example when it has a valid one, else one made of
        each field's example value."""
        if self.example_request_body is not None:
            try:
                return self.check_request(dict(self.example_request_body))
            except InvalidRequestError:
                pass
        return self.check_request({f.name: f.example() for f in self.fields})

    def example_output(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """A deterministic answer built from the output schema: what a synchronous endpoint
        returns for `request` (request fields of the same name are echoed)."""
        value = example_of(self.output_schema, dict(request))
        return value if isinstance(value, dict) else {"result": value}


def example_of(schema: Any, request: dict[str, Any], name: str = "") -> Any:
    """A value that `schema` accepts, the same every time."""
    if not isinstance(schema, dict):
        return None
    if name in request:
        return request[name]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties", {})
        if not isinstance(properties, dict):
            return {}
        return {key: example_of(sub, request, key) for key, sub in properties.items()}
    if kind == "array":
        return [example_of(schema.get("items", {}), request)]
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return f"example {name}" if name else "example"


def _wanted(f: InputField) -> str:
    if f.enum:
        return "one of " + ", ".join(str(v) for v in f.enum)
    return f"a {f.type}" if f.type != "integer" else "an integer"


def _checked_value(
    f: InputField, value: Any, location: InputLocation, max_string_chars: int
) -> Any:
    if location is InputLocation.QUERY and isinstance(value, str):
        value = _from_query(f, value)
    if f.type == "string":
        if not isinstance(value, str):
            raise InvalidRequestError(f"{f.name} is {value!r}; expected {_wanted(f)}", f.name)
        longest = f.max_length if f.max_length is not None else max_string_chars
        if len(value) > longest:
            raise InvalidRequestError(
                f"{f.name} is {len(value)} characters; at most {longest}", f.name
            )
        if f.required and f.enum is None and not value.strip():
            raise InvalidRequestError(f"{f.name} is required: a non-empty string", f.name)
    elif f.type == "boolean":
        if not isinstance(value, bool):
            raise InvalidRequestError(f"{f.name} is {value!r}; expected true or false", f.name)
    else:
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if not numeric or (f.type == "integer" and not isinstance(value, int)):
            raise InvalidRequestError(f"{f.name} is {value!r}; expected {_wanted(f)}", f.name)
        if not math.isfinite(value):
            raise InvalidRequestError(f"{f.name} must be a finite number", f.name)
        if (f.minimum is not None and value < f.minimum) or (
            f.maximum is not None and value > f.maximum
        ):
            raise InvalidRequestError(
                f"{f.name} is {value}; expected between {f.minimum} and {f.maximum}", f.name
            )
    if f.enum is not None and value not in f.enum:
        raise InvalidRequestError(f"{f.name} is {value!r}; expected {_wanted(f)}", f.name)
    return value


def _from_query(f: InputField, text: str) -> Any:
    """A query parameter's text read as its field's type (left as text when it does not read:
    the type check then says what was expected)."""
    if f.type == "boolean":
        return {"true": True, "false": False}.get(text, text)
    if f.type in ("integer", "number"):
        if len(text) > 40:  # no 4,300-digit integers from a URL
            return text
        try:
            return int(text) if f.type == "integer" else float(text)
        except ValueError:
            return text
    return text


# -- parsing ---------------------------------------------------------------------------------


def parse_listing(text: str, source: str = "listing") -> Listing:
    """A listing from its JSON text; ListingError says what is missing or wrong, and where."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ListingError(f"{source} is not JSON: {exc}") from exc
    return listing_from(data, source)


def listing_from(data: object, source: str = "listing") -> Listing:
    if not isinstance(data, dict):
        raise ListingError(f"{source}: expected a JSON object (an x402 index entry)")
    offer_data = _at(data, "accepts", source)
    if not isinstance(offer_data, list) or not offer_data or not isinstance(offer_data[0], dict):
        raise ListingError(f"{source}: 'accepts' must be a list with at least one offer")
    first = offer_data[0]
    hints = _object(first, "hints", f"{source} accepts[0]")
    input_hints = _object(hints, "input", f"{source} accepts[0].hints")
    output = _object(hints, "output", f"{source} accepts[0].hints")
    method = str(_at(input_hints, "method", f"{source} hints.input")).upper()
    location, raw_fields = _input_fields(input_hints, method, source)
    url = _text(data, "url", source)
    if not urlsplit(url).path.startswith("/"):
        raise ListingError(f"{source}: url {url!r} has no path")
    example = data.get("example_request_body")
    return Listing(
        title=_text(data, "title", source),
        description=str(data.get("description") or data.get("summary") or ""),
        url=url,
        method=method,
        location=location,
        fields=tuple(_field(name, spec, source) for name, spec in raw_fields.items()),
        output_schema=output,
        offer=_offer(first, source),
        example_request_body=example if isinstance(example, dict) else None,
    )


def _input_fields(
    hints: dict[str, Any], method: str, source: str
) -> tuple[InputLocation, dict[str, Any]]:
    if method in BODY_METHODS:
        location, key = InputLocation.BODY, "bodyFields"
    elif method in QUERY_METHODS:
        location, key = InputLocation.QUERY, "queryParams"
    else:
        known = ", ".join(BODY_METHODS + QUERY_METHODS)
        raise ListingError(f"{source}: method {method!r} is not one of {known}")
    fields = hints.get(key, {})
    if not isinstance(fields, dict):
        raise ListingError(f"{source}: hints.input.{key} must be an object of fields")
    return location, fields


def _field(name: str, spec: Any, source: str) -> InputField:
    where = f"{source}: field {name!r}"
    if not isinstance(spec, dict):
        raise ListingError(f"{where} must be an object")
    kind = spec.get("type", "string")
    if kind not in JSON_TYPES:
        raise ListingError(f"{where} has type {kind!r}; expected one of {', '.join(JSON_TYPES)}")
    enum = spec.get("enum")
    if enum is not None and (not isinstance(enum, list) or not enum):
        raise ListingError(f"{where}: enum must be a non-empty list")
    max_length = spec.get("maxLength")
    if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
        raise ListingError(f"{where}: maxLength must be a whole number above 0")
    bounds = [spec.get(k) for k in ("minimum", "maximum")]
    if any(isinstance(b, bool) or not isinstance(b, int | float | None) for b in bounds):
        raise ListingError(f"{where}: minimum and maximum must be numbers")
    return InputField(
        name=name,
        type=kind,
        required=spec.get("required") is True,
        enum=None if enum is None else tuple(enum),
        default=spec.get("default"),
        description=str(spec.get("description", "")),
        max_length=max_length,
        minimum=bounds[0],
        maximum=bounds[1],
    )


def _offer(data: dict[str, Any], source: str) -> Offer:
    where = f"{source} accepts[0]"
    scheme = _text(data, "scheme", where)
    if scheme != "exact":
        raise ListingError(f"{where}: scheme {scheme!r}; only 'exact' can be paid here")
    try:
        network = network_by_v1_name(_text(data, "network", where))
    except UnknownNetworkError as exc:
        raise ListingError(f"{where}: {exc}") from exc
    address = _text(data, "asset", where)
    asset = asset_on(network, address)
    if asset is None:
        raise ListingError(
            f"{where}: asset {address} is not USDC on {network.name} ({network.usdc.address})"
        )
    amount = _whole(data, "max_amount_required_atomic", where)
    timeout = _whole(data, "max_timeout_seconds", where)
    if amount < 1 or timeout < 1:
        raise ListingError(f"{where}: the amount and the timeout must be above 0")
    pay_to = _text(data, "pay_to", where)
    if len(pay_to) != 42 or not pay_to.startswith("0x"):
        raise ListingError(f"{where}: pay_to {pay_to!r} is not a 20-byte hex address")
    return Offer(scheme, network, asset, pay_to, amount, timeout)


def _at(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise ListingError(f"{where} lacks {key!r}")
    return data[key]


def _object(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = _at(data, key, where)
    if not isinstance(value, dict):
        raise ListingError(f"{where}: {key!r} must be an object")
    return value


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = _at(data, key, where)
    if not isinstance(value, str) or not value:
        raise ListingError(f"{where}: {key!r} must be a non-empty string")
    return value


def _whole(data: dict[str, Any], key: str, where: str) -> int:
    value = _at(data, key, where)
    text = str(value)
    if isinstance(value, bool) or not text.isdigit() or len(text) > 78:
        raise ListingError(f"{where}: {key!r} must be a whole number")
    return int(text)
