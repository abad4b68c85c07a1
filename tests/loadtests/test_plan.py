"""A load run's size, user options and target: checked before anything starts, each mistake one
LoadPlanError naming the flag."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loadtests.options import DEFAULT_ENDPOINT_PATH, UserOptions
from loadtests.plan import LoadPlan, LoadPlanError, Target, seconds_of, target_of


def test_run_times_in_locust_spelling() -> None:
    assert [seconds_of(t) for t in ("30", "30s", "2m", "1h30m", "1h0m5s")] == [
        30,
        30,
        120,
        5400,
        3605,
    ]


@pytest.mark.parametrize("bad", ["0s", "0", "0h0m0s", "-5s", "soon", "", "5 minutes", "1.5s"])
def test_run_times_that_never_end_or_do_not_parse_are_refused(bad: str) -> None:
    with pytest.raises(LoadPlanError, match="--run-time"):
        seconds_of(bad)


@given(hours=st.integers(0, 99), minutes=st.integers(0, 59), seconds=st.integers(0, 59))
def test_durations_read_back(hours: int, minutes: int, seconds: int) -> None:
    text = f"{hours}h{minutes}m{seconds}s"
    total = hours * 3600 + minutes * 60 + seconds
    if total == 0:
        with pytest.raises(LoadPlanError):
            seconds_of(text)
    else:
        assert seconds_of(text) == total


@pytest.mark.parametrize(
    ("fields", "flag"),
    [
        ({"users": 0}, "--users"),
        ({"spawn_rate": 0}, "--spawn-rate"),
        ({"spawn_rate": -1}, "--spawn-rate"),
        ({"spawn_rate": float("nan")}, "--spawn-rate"),
        ({"spawn_rate": float("inf")}, "--spawn-rate"),
        ({"processes": 0}, "--processes"),
        ({"run_time": "0s"}, "--run-time"),
    ],
)
def test_plans_that_cannot_run_are_refused(fields: dict[str, Any], flag: str) -> None:
    with pytest.raises(LoadPlanError, match=flag):
        LoadPlan(**fields)


@pytest.mark.parametrize(
    ("fields", "flag"),
    [
        ({"replays": 2}, "--replays"),
        ({"replays": -0.1}, "--replays"),
        ({"replays": float("nan")}, "--replays"),
        ({"wallets": 0}, "--wallets"),
        ({"presign": -1}, "--presign"),
        ({"think_time": (2, 1)}, "--think-time"),
        ({"think_time": (-1, 1)}, "--think-time"),
        ({"think_time": (0, float("inf"))}, "--think-time"),
        ({"weights": (0, 0, 0)}, "--weights"),
        ({"weights": (1, -1, 0)}, "--weights"),
        ({"endpoint_path": "v1/images"}, "endpoint path"),
    ],
)
def test_user_options_out_of_range_are_refused(fields: dict[str, Any], flag: str) -> None:
    with pytest.raises(LoadPlanError, match=flag):
        UserOptions(**fields)


def test_user_options_become_the_locustfile_flags() -> None:
    args = UserOptions(scenario="instant", weights=(1, 0, 2), download=False).locust_args()
    flags = dict(zip(args[::2], args[1::2], strict=True))
    assert flags["--x402-scenario"] == "instant"
    assert flags["--x402-download"] == "0"
    assert (flags["--x402-paying-weight"], flags["--x402-poller-weight"]) == ("1", "2")
    assert UserOptions(weights=(0, 1, 1)).buys is False


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8402",
        "http://127.0.0.1:8402/",
        "http://127.0.0.1:8402/v1/images/generate",
        "http://127.0.0.1:8402/v1/images/generate/",
    ],
)
def test_a_target_is_its_base_url_or_its_endpoint_url(url: str) -> None:
    assert target_of(url, DEFAULT_ENDPOINT_PATH) == Target(
        "http://127.0.0.1:8402", DEFAULT_ENDPOINT_PATH
    )


def test_a_target_below_a_prefix_keeps_the_prefix() -> None:
    target = target_of("http://127.0.0.1:8402/staging/v1/images/generate", DEFAULT_ENDPOINT_PATH)
    assert target.host == "http://127.0.0.1:8402/staging"
    assert target.endpoint_url == "http://127.0.0.1:8402/staging/v1/images/generate"


@pytest.mark.parametrize(
    "bad",
    ["127.0.0.1:8402", "ftp://127.0.0.1/", "http://", "http://127.0.0.1:99999", "http://h/?a=1"],
)
def test_targets_that_are_not_http_urls_are_refused(bad: str) -> None:
    with pytest.raises(LoadPlanError, match="--target"):
        target_of(bad, DEFAULT_ENDPOINT_PATH)
