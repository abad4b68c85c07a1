"""Polling and images: Retry-After while running, real PNGs of the asked size, 404s."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image

from mock_server.images import image_size, render_png
from tests.mock_server.conftest import BODY, World


@pytest.fixture
def test_world(make_world: Callable[..., World]) -> World:
    return make_world(clock="test")


def test_retry_after_while_running_and_images_when_done(test_world: World) -> None:
    job = test_world.pay().json()
    status = test_world.http.get(f"/v1/images/generate/{job['id']}")
    assert status.json()["status"] == "pending"
    assert 1 <= int(status.headers["Retry-After"]) <= 5
    assert set(status.json()) >= {
        "id",
        "status",
        "model",
        "prompt",
        "resolution",
        "aspect_ratio",
        "created_at",
        "updated_at",
    }
    test_world.http.post("/__mock__/clock/advance", json={"seconds": 60})
    done = test_world.http.get(f"/v1/images/generate/{job['id']}")
    assert "Retry-After" not in done.headers
    image = done.json()["images"][0]
    assert (image["width"], image["height"], image["mime_type"]) == (1024, 1024, "image/png")
    png = test_world.http.get(image["url"])
    assert png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size == (1024, 1024)


@pytest.mark.parametrize(
    ("resolution", "ratio", "size"),
    [
        ("1K", "16:9", (1024, 576)),
        ("2K", "9:16", (1152, 2048)),
        ("4K", "21:9", (4096, 1752)),
        ("1K", "4:5", (816, 1024)),
    ],
)
def test_images_have_the_asked_size(
    make_world: Callable[..., World], resolution: str, ratio: str, size: tuple[int, int]
) -> None:
    world = make_world(default_scenario="instant")
    body = {**BODY, "resolution": resolution, "aspect_ratio": ratio}
    job = world.pay(body=body).json()
    view = world.http.get(f"/v1/images/generate/{job['id']}").json()
    png = world.http.get(view["images"][0]["url"]).content
    assert Image.open(io.BytesIO(png)).size == size == image_size(resolution, ratio)


def test_rendering_is_deterministic() -> None:
    first = render_png("a cat", "seedream-4.0", "1K", "1:1")
    assert first == render_png("a cat", "seedream-4.0", "1K", "1:1")
    assert first != render_png("a dog", "seedream-4.0", "1K", "1:1")


def test_unknown_ids_are_404_json(world: World) -> None:
    answer = world.http.get("/v1/images/generate/job_nope")
    assert (answer.status_code, answer.json()["error"]) == (404, "not_found")
    assert world.http.get("/v1/images/job_nope/1.png").status_code == 404


def test_no_image_before_completion(test_world: World) -> None:
    job = test_world.pay().json()
    assert test_world.http.get(f"/v1/images/{job['id']}/1.png").status_code == 404
