"""Settings from `X402H_*` variables, and back."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pytest

from x402_service.envconfig import SettingsError, from_env, to_env


class Kind(StrEnum):
    ONE = "one"
    TWO = "two"


@dataclass(frozen=True)
class Example:
    name: str = "x"
    port: int = 0
    ratio: float = 1.0
    enabled: bool = False
    path: Path | None = None
    versions: frozenset[int] = frozenset({1})
    kind: Kind = Kind.ONE
    tags: frozenset[str] = frozenset()


def test_fields_are_read_and_typed() -> None:
    env = {
        "P_NAME": "hello",
        "P_PORT": "8080",
        "P_RATIO": "0.5",
        "P_ENABLED": "yes",
        "P_PATH": "/tmp/x",
        "P_VERSIONS": "v1, 2",
        "P_KIND": "two",
        "P_TAGS": "a, b",
        "OTHER": "ignored",
    }
    assert from_env(Example, "P_", env) == Example(
        "hello", 8080, 0.5, True, Path("/tmp/x"), frozenset({1, 2}), Kind.TWO,
        frozenset({"a", "b"}),
    )  # fmt: skip


def test_unset_fields_keep_defaults_and_empty_optional_is_none() -> None:
    assert from_env(Example, "P_", {"P_PATH": ""}) == Example()


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"P_PORT": "eighty"}, "P_PORT='eighty': expected a number"),
        ({"P_ENABLED": "maybe"}, "P_ENABLED"),
        ({"P_KIND": "three"}, "P_KIND='three': expected one of one, two"),
        ({"P_VERSIONS": "v1,vx"}, "'vx' is not a version"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], match: str) -> None:
    with pytest.raises(SettingsError, match=match):
        from_env(Example, "P_", env)


def test_to_env_round_trips() -> None:
    settings = Example("a", 9, 2.5, True, Path("/x"), frozenset({1, 2}), Kind.TWO)
    assert from_env(Example, "Q_", to_env(settings, "Q_")) == settings
    assert from_env(Example, "Q_", to_env(Example(), "Q_")) == Example()
