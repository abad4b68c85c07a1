"""Who may use `/__mock__/*`: its owner, not a web page, a rebound DNS name or a stranger."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from mock_server.config import ServerSettings, ServerSettingsError
from tests.mock_server.conftest import World
from x402_harness.cli import main

CROSS_SITE_FORMS = [
    {"content-type": "text/plain"},
    {"content-type": "text/plain;charset=UTF-8", "origin": "https://attacker.example"},
    {"content-type": "application/x-www-form-urlencoded"},
    {"content-type": "multipart/form-data; boundary=x"},
]


def _scenarios(world: World) -> dict:
    return world.http.get("/__mock__/scenarios").json()


@pytest.mark.parametrize("headers", CROSS_SITE_FORMS)
def test_a_cross_site_simple_post_changes_nothing(world: World, headers: dict[str, str]) -> None:
    before = _scenarios(world)
    answer = world.http.post("/__mock__/scenario", content=b'{"name": "fail"}', headers=headers)
    assert answer.status_code in (403, 415)
    assert answer.json()["message"]
    assert _scenarios(world) == before


def test_a_cross_site_reset_changes_nothing(world: World) -> None:
    world.pay()
    answer = world.http.post(
        "/__mock__/reset", json={"purchases": True}, headers={"origin": "https://attacker.example"}
    )
    assert (answer.status_code, answer.json()["error"]) == (403, "forbidden_origin")
    assert len(world.http.get("/__mock__/jobs").json()["jobs"]) == 1


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8402", "127.0.0.1.nip.io"])
def test_a_rebound_host_name_is_refused(world: World, host: str) -> None:
    for method, path in [("GET", "/__mock__/journal"), ("POST", "/__mock__/reset")]:
        answer = world.http.request(method, path, headers={"host": host})
        assert (answer.status_code, answer.json()["error"]) == (403, "forbidden_host")


def test_the_servers_own_origin_and_json_are_welcome(world: World) -> None:
    answer = world.http.post(
        "/__mock__/scenario", json={"name": "fail"}, headers={"origin": world.url}
    )
    assert answer.status_code == 200
    assert _scenarios(world)["default"] == "fail"
    assert world.http.post("/__mock__/reset").status_code == 200


def test_public_endpoints_are_not_guarded(world: World) -> None:
    foreign = {"host": "attacker.example", "origin": "https://attacker.example"}
    assert world.http.post("/v1/images/generate", json={}, headers=foreign).status_code == 400
    assert world.http.get("/openapi.json", headers=foreign).status_code == 200


def test_with_a_token_every_admin_request_needs_it(make_world: Callable[..., World]) -> None:
    world = make_world(admin_token="s3cret")
    refused = world.http.get("/__mock__/jobs")
    assert (refused.status_code, refused.headers["www-authenticate"]) == (401, "Bearer")
    assert world.http.post("/__mock__/reset").status_code == 401
    bearer = {"authorization": "Bearer s3cret"}
    assert world.http.get("/__mock__/jobs", headers=bearer).status_code == 200
    assert world.http.post("/__mock__/reset", headers=bearer).status_code == 200


def test_settings_off_loopback_need_a_token() -> None:
    with pytest.raises(ServerSettingsError, match="--admin-token or X402H_SERVER_ADMIN_TOKEN"):
        ServerSettings(host="0.0.0.0")
    with pytest.raises(ServerSettingsError):
        ServerSettings.from_env({"X402H_SERVER_HOST": "::"})
    assert ServerSettings(host="0.0.0.0", admin_token="t").admin_token == "t"
    assert "s3cret" not in repr(ServerSettings(admin_token="s3cret"))
    for host in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"):
        ServerSettings(host=host)


@pytest.mark.parametrize("command", ["server", "up"])
def test_binding_off_loopback_without_a_token_is_one_line_and_exit_2(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--host", "0.0.0.0"]) == 2
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "X402H_SERVER_ADMIN_TOKEN" in out


def test_up_off_loopback_warns_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Interrupted:
        """Stands in for the stack: nothing is bound; `up` stops as on Ctrl-C."""

        def __init__(self, config: object) -> None:
            pass

        def __enter__(self) -> None:
            raise KeyboardInterrupt

        def __exit__(self, *exc: object) -> None:
            pass

    monkeypatch.setattr("x402_harness.stack.Stack", Interrupted)
    assert main(["up", "--host", "0.0.0.0", "--admin-token", "s3cret"]) == 130
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith("warning: listening on 0.0.0.0, off loopback")


def test_admin_answers_over_http_are_json(world: World) -> None:
    answer = httpx.get(world.url + "/__mock__/health", headers={"host": "attacker.example"})
    assert answer.headers["content-type"] == "application/json"
