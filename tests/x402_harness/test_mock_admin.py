"""The stack's helpers over the mock's admin API: scenarios, the test clock, reset."""

from __future__ import annotations

import httpx
import pytest

from mock_server.config import ServerSettings
from x402_harness.mock_admin import MockAdminError
from x402_harness.stack import Stack, StackConfig


def _health(stack: Stack) -> dict:
    return httpx.get(stack.admin_url + "/health", headers=stack.admin_headers).json()


def test_queue_scenario_clock_and_reset() -> None:
    with Stack(StackConfig(server=ServerSettings(clock="test"))) as stack:
        with pytest.raises(MockAdminError, match="unknown scenario 'nope'; known: happy"):
            stack.queue("quick", "nope")
        assert _health(stack)["queued_scenarios"] == [], "all or none"
        stack.queue("fail", "quick")
        stack.set_scenario("slow")
        before = _health(stack)["now"]
        assert stack.advance_clock(90) == pytest.approx(before + 90)
        health = _health(stack)
        assert (health["queued_scenarios"], health["default_scenario"]) == (
            ["fail", "quick"],
            "slow",
        )
        stack.reset()
        health = _health(stack)
        assert (health["queued_scenarios"], health["default_scenario"]) == ([], "happy")


def test_the_real_clock_is_not_advanced() -> None:
    with Stack() as stack, pytest.raises(MockAdminError, match="409: the server runs on the real"):
        stack.advance_clock(1)
