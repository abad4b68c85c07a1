"""The server checks of the x402 extensions a 402 declares: payment-identifier (its declaration and
the three rules of its idempotency table) and bazaar (its info against its own schema and against
the listing). Each is not applicable when the server does not declare the extension."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from jsonschema import Draft202012Validator

from conformance.catalog import (
    Verdict,
    catalog,
    failed,
    listing_rule,
    not_applicable,
    spec_must,
    spec_should,
    verdict_of,
)
from conformance.server.probe import Answer, ServerProbe
from x402_core import bazaar, payment_identifier
from x402_core.listing import InputLocation, InvalidRequestError
from x402_core.models import PaymentRequiredV2

PAYMENT_ID = "extensions__payment_identifier.md"
BAZAAR = "extensions__bazaar.md"
PROBE_ID = "pay_x402h_conformance_"
"""The ids the probes send start with this, then 12 random hex digits."""


def _extension(probe: ServerProbe, name: str) -> Any:
    offer = probe.offer_v2
    if not isinstance(offer, PaymentRequiredV2):
        return None
    return (offer.extensions or {}).get(name)


class IdentifierTrials:
    """Payments with payment-identifiers, each sent once per probe and kept."""

    def __init__(self, probe: ServerProbe) -> None:
        self.probe = probe
        self.declared = _extension(probe, payment_identifier.PAYMENT_IDENTIFIER)

    def _pay(self, payment_id: str | None) -> tuple[dict[str, str], Answer]:
        extensions = dict(_extension_map(self.probe))
        if payment_id is not None:
            extensions = payment_identifier.echoed(extensions, payment_id)
        else:
            extensions.pop(payment_identifier.PAYMENT_IDENTIFIER, None)
        headers = self.probe.payment(2, extensions=extensions)
        return headers, self.probe.send(self.probe.valid_request, headers)

    @cached_property
    def repeated(self) -> tuple[Answer, Answer]:
        """One payment with one id, sent twice."""
        headers, first = self._pay(_new_id())
        return first, self.probe.send(self.probe.valid_request, headers)

    @cached_property
    def reused(self) -> tuple[Answer, Answer]:
        """A payment with an id, then another payment with the same id."""
        payment_id = _new_id()
        return self._pay(payment_id)[1], self._pay(payment_id)[1]

    @cached_property
    def without_id(self) -> Answer:
        return self._pay(None)[1]


def _extension_map(probe: ServerProbe) -> dict[str, Any]:
    offer = probe.offer_v2
    return dict(offer.extensions or {}) if isinstance(offer, PaymentRequiredV2) else {}


def _new_id() -> str:
    return PROBE_ID + payment_identifier.new_id()[-12:]


def _trials(probe: ServerProbe) -> IdentifierTrials:
    """The probe's identifier trials, made once per probe (kept beside its cached probes)."""
    trials = probe.__dict__.get("_identifier_trials")
    if trials is None:
        trials = probe.__dict__["_identifier_trials"] = IdentifierTrials(probe)
    return trials


def _undeclared(probe: ServerProbe) -> Verdict | None:
    if _trials(probe).declared is None:
        return not_applicable("the v2 offer declares no payment-identifier extension")
    return None


@catalog.check(
    "SRV-050",
    "a payment-identifier declaration has info.required (a boolean) and the spec's schema",
    spec_must(PAYMENT_ID + " PaymentRequired; `required` Field (boolean)"),
)
def identifier_declared(probe: ServerProbe) -> Verdict:
    if (none := _undeclared(probe)) is not None:
        return none
    declared = _trials(probe).declared
    info = declared.get("info") if isinstance(declared, dict) else None
    ok = isinstance(info, dict) and isinstance(info.get("required"), bool)
    schema = declared.get("schema") if isinstance(declared, dict) else None
    ok = ok and isinstance(schema, dict) and schema.get("required") == ["required"]
    return verdict_of(ok, "the declaration", received=declared, expected=_declared_shape())


def _declared_shape() -> dict[str, Any]:
    return payment_identifier.declaration(False)


@catalog.check(
    "SRV-051",
    "the same payment-identifier with the same payment gets the same answer (the same job)",
    spec_should(PAYMENT_ID + " Idempotency Behavior: same id, same payload"),
)
def same_id_same_answer(probe: ServerProbe) -> Verdict:
    if (none := _undeclared(probe)) is not None:
        return none
    first, again = _trials(probe).repeated
    if first.status != 200:
        return failed(f"the first payment was answered {first.status}", **first.evidence())
    same = again.status == 200 and _bought(again) == _bought(first)
    return verdict_of(
        same,
        "the same payment with the same id, sent twice",
        expected=_bought(first),
        received={"status": again.status, "body": again.body},
    )


def _bought(answer: Answer) -> Any:
    """What an answer bought: its job id, or the whole body of a synchronous answer."""
    job = answer.json_field("id")
    return job if isinstance(job, str) else answer.body


@catalog.check(
    "SRV-052",
    "the same payment-identifier with another payment is answered 409 Conflict",
    spec_should(PAYMENT_ID + " Idempotency Behavior: same id, different payload"),
)
def same_id_other_payment(probe: ServerProbe) -> Verdict:
    if (none := _undeclared(probe)) is not None:
        return none
    first, other = _trials(probe).reused
    if first.status != 200:
        return failed(f"the first payment was answered {first.status}", **first.evidence())
    return verdict_of(other.status == 409, f"answered {other.status}", **other.evidence())


@catalog.check(
    "SRV-053",
    "a server that requires the payment-identifier answers 400 to a payment without one",
    spec_should(PAYMENT_ID + " Idempotency Behavior: required: true, no id provided"),
)
def required_id_missing(probe: ServerProbe) -> Verdict:
    if (none := _undeclared(probe)) is not None:
        return none
    if not payment_identifier.is_required(_extension_map(probe)):
        return not_applicable("the declaration does not require an id")
    answer = _trials(probe).without_id
    return verdict_of(answer.status == 400, f"answered {answer.status}", **answer.evidence())


def _discovery(probe: ServerProbe) -> Any:
    return _extension(probe, bazaar.BAZAAR)


@catalog.check(
    "SRV-054",
    "the 402's bazaar info validates against its own schema (JSON Schema 2020-12)",
    spec_must(BAZAAR + " Schema Validation"),
)
def bazaar_valid(probe: ServerProbe) -> Verdict:
    extension = _discovery(probe)
    if extension is None:
        return not_applicable("the v2 offer declares no bazaar extension")
    found = bazaar.problems(extension)
    return verdict_of(not found, "; ".join(found) or "info validates", received=extension)


@catalog.check(
    "SRV-055",
    "the bazaar info says what the listing says: method, request fields, an example the "
    "listing accepts, output",
    listing_rule("the listing's hints.input and hints.output"),
)
def bazaar_as_listed(probe: ServerProbe) -> Verdict:
    extension = _discovery(probe)
    if extension is None:
        return not_applicable("the v2 offer declares no bazaar extension")
    found = _listing_differences(probe, extension)
    return verdict_of(not found, "; ".join(found) or "as listed", received=extension)


def _schema_fields(extension: dict[str, Any], key: str) -> set[str]:
    """The field names the extension's schema gives the request (its body or query)."""
    node: Any = extension.get("schema")
    for step in ("properties", "input", "properties", key, "properties"):
        node = node.get(step) if isinstance(node, dict) else None
    return set(node) if isinstance(node, dict) else set()


def _listing_differences(probe: ServerProbe, extension: Any) -> list[str]:
    listing = probe.listing
    info = extension.get("info") if isinstance(extension, dict) else None
    info_input = info.get("input") if isinstance(info, dict) else None
    if not isinstance(info_input, dict):
        return ["no info.input"]
    found = []
    if info_input.get("method") != listing.method:
        found.append(f"method is {info_input.get('method')!r}; the listing's is {listing.method}")
    key = "body" if listing.location is InputLocation.BODY else "queryParams"
    example = info_input.get(key)
    try:
        listing.check_request(example)
    except InvalidRequestError as exc:
        found.append(f"info.input.{key} is not a request the listing accepts: {exc.message}")
    schema = extension.get("schema", {}).get("properties", {}).get("input", {})
    request_schema = schema.get("properties", {}).get(key, {}) if isinstance(schema, dict) else {}
    fields = (
        set(request_schema.get("properties", {})) if isinstance(request_schema, dict) else set()
    )
    if fields != {f.name for f in listing.fields}:
        found.append(
            f"the schema's {key} fields are {sorted(fields)}; the listing's are "
            f"{sorted(f.name for f in listing.fields)}"
        )
    output = info.get("output") if isinstance(info, dict) else None
    if isinstance(output, dict) and "example" in output:
        errors = list(Draft202012Validator(listing.output_schema).iter_errors(output["example"]))
        if errors:
            found.append(
                f"info.output.example is not an answer the listing describes: {errors[0].message}"
            )
    return found
