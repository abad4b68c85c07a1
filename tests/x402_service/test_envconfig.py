"""Settings from `X402H_*` variables, and back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from x402_service.envconfig import SettingsError, from_env, to_env


@dataclass(frozen=True)
class Example:
    name: str = "x"
    port: int = 0
    ratio: float = 1.0
    enabled: bool = False
    path: Path | None = None
    versions: frozenset[str] = frozenset({"v1"})


def test_fields_are_read_and_typed() -> None:
    env = {
        "P_NAME": "hello",
        "P_PORT": "8080",
        "P_RATIO": "0.5",
        "P_ENABLED": "yes",
        "P_PATH": "/tmp/x",
        "P_VERSIONS": "v1, v2",
        "OTHER": "ignored",
    }
    assert from_env(Example, "P_", env) == Example(
        "hello", 8080, 0.5, True, Path("/tmp/x"), frozenset({"v1", "v2"})
    )


def test_unset_fields_keep_defaults_and_empty_optional_is_none() -> None:
    assert from_env(Example, "P_", {"P_PATH": ""}) == Example()


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"P_PORT": "eighty"}, "P_PORT='eighty': expected a number"),
        ({"P_ENABLED": "maybe"}, "P_ENABLED"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], match: str) -> None:
    with pytest.raises(SettingsError, match=match):
        from_env(Example, "P_", env)


def test_to_env_round_trips() -> None:
    settings = Example("a", 9, 2.5, True, Path("/x"), frozenset({"v1", "v2"}))
    assert from_env(Example, "Q_", to_env(settings, "Q_")) == settings
    assert from_env(Example, "Q_", to_env(Example(), "Q_")) == Example()
