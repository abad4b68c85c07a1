"""Parsing `/verify` and `/settle` bodies: one strict validation, and a reason for every refusal."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Tag, TypeAdapter, ValidationError

from x402_core import strictjson
from x402_core.models.facilitator import VerifyRequestV1, VerifyRequestV2
from x402_core.reasons import Reason

SUPPORTED_VERSIONS = (1, 2)


def _version_tag(value: Any) -> str | None:
    """The union tag: x402Version as a JSON integer (not a bool, float or string)."""
    version = value.get("x402Version") if isinstance(value, dict) else None
    if type(version) is int and version in SUPPORTED_VERSIONS:
        return str(version)
    return None if version is None else "unsupported"


_REQUEST = TypeAdapter(
    Annotated[
        Annotated[VerifyRequestV1, Tag("1")] | Annotated[VerifyRequestV2, Tag("2")],
        Discriminator(
            _version_tag,
            custom_error_type="x402_version",
            custom_error_message="x402Version is missing",
        ),
    ]
)


class RequestRefusedError(ValueError):
    """A body that is not a verify/settle request; `status` is 400 unless it is merely a version
    this facilitator does not speak (then it is a well-formed 'no' with status 200)."""

    def __init__(self, reason: Reason, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.status = status


def parse_request(body: bytes) -> VerifyRequestV1 | VerifyRequestV2:
    """Validate a JSON body; RequestRefusedError names the first problems found."""
    try:
        data = strictjson.loads(body)
    except strictjson.JsonError as exc:
        raise RequestRefusedError(Reason.INVALID_PAYLOAD, f"the body is not JSON: {exc}") from exc
    try:
        return _REQUEST.validate_python(data)
    except ValidationError as exc:
        raise _refusal(exc) from exc


def _refusal(exc: ValidationError) -> RequestRefusedError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    if first["type"] == "x402_version":
        if isinstance(first["input"], dict) and "x402Version" in first["input"]:
            versions = " or ".join(str(v) for v in SUPPORTED_VERSIONS)
            return RequestRefusedError(
                Reason.INVALID_X402_VERSION,
                f"x402Version is {first['input']['x402Version']!r}; the integer {versions} is "
                "supported",
                status=200,
            )
        return RequestRefusedError(
            Reason.INVALID_PAYLOAD, "the body must be a JSON object with x402Version"
        )
    # loc[0] is the union tag; loc[1] the top-level field
    fields = {str(e["loc"][1]) for e in errors if len(e["loc"]) > 1}
    reason = (
        Reason.INVALID_PAYMENT_REQUIREMENTS
        if fields == {"paymentRequirements"}
        else Reason.INVALID_PAYLOAD
    )
    details = "; ".join(
        f"{'.'.join(str(p) for p in e['loc'][1:]) or '(body)'}: {e['msg']}" for e in errors[:5]
    )
    more = len(errors) - 5
    return RequestRefusedError(reason, details + (f"; and {more} more" if more > 0 else ""))
