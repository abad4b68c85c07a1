"""Tests marked `slow` run first: with two workers, the many short tests then fill the time
beside them instead of one long test running alone at the end."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
