"""JSON as the wire allows it (RFC 8259), for everything a client sends.

Python's `json` accepts `NaN` and `Infinity`, turns `1e999` into infinity, raises a bare
ValueError on integers of more than 4,300 digits, recurses as deep as the nesting goes (past the
C stack, when a library has raised the recursion limit as py_ecc does), and keeps the last of
duplicate keys where other parsers keep the first. Here each of those is a JsonError
that says what was wrong, and so is a string with a lone surrogate (`"\\ud800"`), which no
UTF-8 answer could carry back.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_NUMBER_CHARS = 100
"""Longest number literal: a uint256 has 78 digits; x402 writes amounts as strings anyway."""
MAX_DEPTH = 64
"""Deepest nesting of arrays and objects; x402 bodies nest five deep."""
_BRACKET_OR_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class JsonError(ValueError):
    """Text that is not strict JSON; the message says where and why."""


def _number_text(text: str) -> None:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonError(
            f"a number of {len(text)} characters; at most {MAX_NUMBER_CHARS} are accepted"
        )


def _int(text: str) -> int:
    _number_text(text)
    return int(text)


def _float(text: str) -> float:
    _number_text(text)
    value = float(text)
    if not math.isfinite(value):
        raise JsonError(f"the number {text} is out of range (not a finite float)")
    return value


def _constant(name: str) -> float:
    raise JsonError(f"{name} is not JSON: numbers must be finite")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        duplicate = next(key for n, (key, _) in enumerate(pairs) if key in dict(pairs[:n]))
        raise JsonError(f"the key {duplicate!r} appears twice in one object")
    return obj


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH; brackets inside strings do not count."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return  # cannot be deeper: skip the scan
    depth = 0
    for token in _BRACKET_OR_STRING.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise JsonError(f"nested more than {MAX_DEPTH} deep")
        elif bracket in "]}":
            depth -= 1


def loads(data: bytes | str) -> Any:
    """The value of strict JSON text (UTF-8 when bytes); JsonError for anything else."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonError(f"not UTF-8: {exc}") from None
    _check_depth(data)
    try:
        value = json.loads(
            data,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_constant,
            object_pairs_hook=_object,
        )
    except json.JSONDecodeError as exc:
        raise JsonError(str(exc)) from None
    if "\\u" in data:  # only an escape can make a surrogate: check the rare text that has one
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise JsonError("a string holds a lone UTF-16 surrogate (\\ud800-\\udfff)") from None
    return value
