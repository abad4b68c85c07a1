"""docs/mock-server.md matches the code: every scenario, every admin route (the inspector's
too), every setting."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from mock_server.admin import ADMIN_ROUTES
from mock_server.config import ServerSettings
from mock_server.inspector.routes import INSPECTOR_ROUTES
from mock_server.scenarios import SCENARIOS

DOC = (Path(__file__).parents[2] / "docs" / "mock-server.md").read_text()


def test_every_scenario_is_documented_with_its_description() -> None:
    for scenario in SCENARIOS.values():
        description = scenario.description.replace("429", "`429`").replace("503", "`503`")
        description = description.replace("402", "`402`").replace("500", "`500`")
        description = description.replace("Retry-After", "`Retry-After`")
        for code in ("generation_failed", "content_policy_violation"):
            description = description.replace(code, f"`{code}`")
        assert f"| `{scenario.name}` | {description}" in DOC, scenario.name


def test_every_admin_route_is_documented() -> None:
    for route in ADMIN_ROUTES + INSPECTOR_ROUTES:
        method = sorted(route.methods - {"HEAD"})[0]
        assert f"`{method} /__mock__{route.path}" in DOC, route.path


def test_every_setting_is_documented() -> None:
    for field in dataclasses.fields(ServerSettings):
        assert f"`{field.name.upper()}`" in DOC, field.name
