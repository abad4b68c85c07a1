"""Settings dataclasses filled from `X402H_*` environment variables, with errors that say which."""

from __future__ import annotations

import dataclasses
import enum
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

SettingsT = TypeVar("SettingsT")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """An environment variable whose value does not fit its setting."""


def from_env(
    cls: type[SettingsT],
    prefix: str,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> SettingsT:
    """An instance of dataclass `cls` with each field read from `{prefix}{FIELD}` when set, and
    from `overrides` (command-line flags) before that; checked once, on the merged values."""
    env = os.environ if environ is None else environ
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        name = f"{prefix}{field.name.upper()}"
        if name in env:
            values[field.name] = _convert(env[name], hints[field.name], name)
    return cls(**{**values, **(overrides or {})})


def _convert(raw: str, hint: Any, name: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if raw == "" and type(None) in args:
            return None
        (hint,) = [a for a in args if a is not type(None)]
        return _convert(raw, hint, name)
    if hint is bool:
        if raw.lower() in _TRUE | _FALSE:
            return raw.lower() in _TRUE
        raise SettingsError(f"{name}={raw!r}: expected one of {sorted(_TRUE | _FALSE)}")
    if hint in (int, float):
        try:
            return hint(raw)
        except ValueError:
            raise SettingsError(f"{name}={raw!r}: expected a number ({hint.__name__})") from None
    if hint is Path:
        return Path(raw)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(raw)
        except ValueError:
            known = ", ".join(str(member.value) for member in hint)
            raise SettingsError(f"{name}={raw!r}: expected one of {known}") from None
    if origin is frozenset and args == (int,):
        return parse_versions(raw, name)
    if origin in (frozenset, tuple):
        return origin(part.strip() for part in raw.split(",") if part.strip())
    if hint is str:
        return raw
    raise SettingsError(f"{name}: settings of type {hint!r} cannot be read from the environment")


def parse_versions(text: str, name: str = "versions") -> frozenset[int]:
    """Protocol versions as x402 spells them, `v1,v2` (or `1,2`)."""
    versions = set()
    for part in (p.strip() for p in text.split(",")):
        digits = part.lower().removeprefix("v")
        if not digits.isdigit() or len(digits) > 3:
            raise SettingsError(f"{name}: {part!r} is not a version; expected e.g. v1,v2")
        versions.add(int(digits))
    return frozenset(versions)


def to_env(settings: object, prefix: str) -> dict[str, str]:
    """The `{prefix}{FIELD}` variables that `from_env` reads back into an equal dataclass."""
    env = {}
    for field in dataclasses.fields(settings):  # type: ignore[arg-type]
        value = getattr(settings, field.name)
        if value is None:
            text = ""
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, frozenset | tuple):
            text = ",".join(sorted(str(part) for part in value))
        else:
            text = str(value)
        env[f"{prefix}{field.name.upper()}"] = text
    return env
