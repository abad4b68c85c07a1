"""The `payment-identifier` extension (extensions__payment_identifier.md): a client's idempotency
key for one payment, declared by the server in its 402 and echoed with an `id` by the client.

Pure: the declaration, the id's format, reading the id out of a payload's extensions.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

PAYMENT_IDENTIFIER = "payment-identifier"
MIN_ID_CHARS = 16
MAX_ID_CHARS = 128
ID_FORMAT = re.compile(rf"[A-Za-z0-9_-]{{{MIN_ID_CHARS},{MAX_ID_CHARS}}}", re.ASCII)
ID_RULE = f"{MIN_ID_CHARS} to {MAX_ID_CHARS} characters of letters, digits, '-' and '_'"

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "required": {"type": "boolean"},
        "id": {
            "type": "string",
            "minLength": MIN_ID_CHARS,
            "maxLength": MAX_ID_CHARS,
            "pattern": "^[a-zA-Z0-9_-]+$",
        },
    },
    "required": ["required"],
}


class IdentifierError(ValueError):
    """A payment-identifier extension whose id is malformed; the message says what is expected."""


def declaration(required: bool) -> dict[str, Any]:
    """What a server puts under `extensions["payment-identifier"]` of its 402."""
    return {"info": {"required": required}, "schema": SCHEMA}


def is_valid_id(value: object) -> bool:
    return isinstance(value, str) and ID_FORMAT.fullmatch(value) is not None


def new_id() -> str:
    """A fresh id as the spec recommends: `pay_` and 32 random hex digits."""
    return "pay_" + secrets.token_hex(16)


def identifier_in(extensions: Mapping[str, Any] | None) -> str | None:
    """The id a payload's extensions carry (None: no id); IdentifierError when the extension is
    there but its id is not a valid one."""
    extension = (extensions or {}).get(PAYMENT_IDENTIFIER)
    if extension is None:
        return None
    info = extension.get("info") if isinstance(extension, Mapping) else None
    if not isinstance(info, Mapping):
        raise IdentifierError(
            f"extensions[{PAYMENT_IDENTIFIER!r}] must be an object with an 'info' object"
        )
    value = info.get("id")
    if value is None:
        return None
    if not is_valid_id(value):
        shown = value[:40] if isinstance(value, str) else type(value).__name__
        raise IdentifierError(f"payment identifier {shown!r} is invalid; expected {ID_RULE}")
    return str(value)


def is_required(extensions: Mapping[str, Any] | None) -> bool:
    """Whether a 402's extensions declare the identifier required."""
    extension = (extensions or {}).get(PAYMENT_IDENTIFIER)
    info = extension.get("info") if isinstance(extension, Mapping) else None
    return isinstance(info, Mapping) and info.get("required") is True


def echoed(extensions: Mapping[str, Any] | None, payment_id: str) -> dict[str, Any]:
    """The extensions a client sends back: the server's, with `payment_id` added to the
    declaration when the server declared the extension (unchanged otherwise)."""
    sent = dict(extensions or {})
    declared = sent.get(PAYMENT_IDENTIFIER)
    if isinstance(declared, Mapping) and isinstance(declared.get("info"), Mapping):
        sent[PAYMENT_IDENTIFIER] = {**declared, "info": {**declared["info"], "id": payment_id}}
    return sent
