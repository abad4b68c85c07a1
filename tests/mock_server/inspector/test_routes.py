"""The inspector over real HTTP: the page, its live part, thumbnails, the event stream, report
uploads, and signing in behind an admin token."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable

import httpx
import pytest
from PIL import Image

from mock_server.app import create_app
from mock_server.config import ServerSettings
from mock_server.inspector.routes import THUMBNAIL_SIDE
from tests.mock_server.conftest import World
from x402_core.headers import PAYMENT_RESPONSE, decode_json_header
from x402_core.wallets import test_wallet
from x402_service.access import SESSION_COOKIE_PREFIX
from x402_service.serving import ServerThread


def _paid_job(world: World) -> tuple[str, str]:
    """(job id, transaction) of an instant job."""
    answer = world.pay(**{"X-Mock-Scenario": "instant"})
    assert answer.status_code == 200
    settlement = decode_json_header(answer.headers[PAYMENT_RESPONSE])
    assert isinstance(settlement, dict)
    return answer.json()["id"], settlement["transaction"]


def _purchases(world: World, **query: str) -> str:
    """The purchases section of the live part."""
    html = world.http.get("/__mock__/inspector/live", params=query).text
    return html.split('<section id="purchases">', 1)[1].split("</section>", 1)[0]


def test_the_page_shows_each_purchase_with_its_job_transaction_and_thumbnail(world: World) -> None:
    job, transaction = _paid_job(world)
    page = world.http.get("/__mock__/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert job in html
    assert transaction in html
    assert f'src="/__mock__/inspector/thumbnails/{job}.png"' in html
    assert "verify: valid" in html
    assert "settle: success" in html
    assert "payer #1" in html  # the balances of the test wallets
    assert "http://" not in html.replace(world.url, "").replace("http://127.0.0.1", "")


def test_the_page_loads_nothing_from_elsewhere_and_runs_only_its_own_scripts(
    world: World,
) -> None:
    page = world.http.get("/__mock__/")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    nonce = policy.split("'nonce-", 1)[1].split("'", 1)[0]
    assert page.text.count(f'nonce="{nonce}"') == 2  # the stylesheet and the script
    assert "<script src" not in page.text
    assert '<link rel="stylesheet"' not in page.text


def test_the_redirect_from_the_bare_admin_path_lands_on_the_page(world: World) -> None:
    answer = world.http.get("/__mock__", follow_redirects=True)
    assert (answer.status_code, answer.url.path) == (200, "/__mock__/")


def test_filters_narrow_the_purchases_and_bad_ones_are_a_400(world: World) -> None:
    job, _ = _paid_job(world)
    assert job in _purchases(world, payer=test_wallet(1).address)
    assert job not in _purchases(world, payer=test_wallet(5).address)
    assert job in _purchases(world, status="completed", scenario="instant")
    assert job not in _purchases(world, status="failed")
    assert job not in _purchases(world, scenario="happy")
    for query in ({"status": "done"}, {"scenario": "nope"}):
        for path in ("/__mock__/", "/__mock__/inspector/live"):
            answer = world.http.get(path, params=query)
            assert answer.status_code == 400
            assert "expected one of" in answer.json()["message"]


def test_a_thumbnail_is_small_and_not_recorded_as_a_download(world: World) -> None:
    job, _ = _paid_job(world)
    before = world.http.get("/__mock__/journal").json()["entries"]
    answer = world.http.get(f"/__mock__/inspector/thumbnails/{job}.png")
    assert (answer.status_code, answer.headers["content-type"]) == (200, "image/png")
    image = Image.open(io.BytesIO(answer.content))
    assert max(image.size) == THUMBNAIL_SIDE
    assert world.http.get("/__mock__/journal").json()["entries"] == before
    missing = world.http.get("/__mock__/inspector/thumbnails/job_none.png")
    assert missing.status_code == 404


def _events(world: World, count: int) -> list[str]:
    """The names of the first `count` events of the stream; a request is made once it is up."""
    names: list[str] = []
    with world.http.stream("GET", "/__mock__/inspector/events", timeout=20) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("event: "):
                names.append(line.removeprefix("event: "))
                if names == ["ready"]:
                    world.offer()
            if len(names) == count:
                return names
    return names


def test_the_event_stream_says_ready_then_announces_a_change(world: World) -> None:
    assert _events(world, 2) == ["ready", "change"]


def test_a_server_with_an_open_event_stream_stops() -> None:
    app = create_app(ServerSettings(facilitator_url="http://127.0.0.1:1"))
    server = ServerThread(app).start()
    opened = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", server.url + "/__mock__/inspector/events", timeout=30) as s:
            for _ in s.iter_lines():
                opened.set()

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert opened.wait(10)
    server.stop(timeout=5)  # raises ServerError if the stream kept uvicorn waiting
    listener.join(5)
    assert not listener.is_alive()


def _report(job: str) -> dict:
    return {
        "target": "http://127.0.0.1/v1/images/generate",
        "results": [
            {
                "id": "SRV-010",
                "level": "MUST",
                "title": "a paid request returns its job",
                "outcome": "pass",
                "evidence": {"received": {"body": {"id": job}}},
            },
            {"id": "SRV-099", "level": "SHOULD", "title": "t", "outcome": "fail", "evidence": {}},
        ],
    }


def test_an_uploaded_report_links_each_check_to_the_entries_its_evidence_names(
    world: World,
) -> None:
    job, _ = _paid_job(world)
    paid_seq = world.http.get("/__mock__/journal").json()["entries"][-1]["seq"]
    answer = world.http.post("/__mock__/inspector/reports?name=srv.json", json=_report(job))
    assert answer.json() == {"report": 1, "checks": 2}
    html = world.http.get("/__mock__/inspector/live").text
    row = html.split('id="check-1-SRV-010"', 1)[1].split("</tr>", 1)[0]
    assert f'href="#entry-{paid_seq}"' in row
    assert f'id="entry-{paid_seq}"' in html
    other = html.split('id="check-1-SRV-099"', 1)[1].split("</tr>", 1)[0]
    assert "#entry-" not in other
    assert "srv.json" in html


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not json", "not JSON"), (b'{"results": 3}', "expected the JSON of `conformance")],
)
def test_a_report_that_is_not_one_is_a_400_and_nothing_is_kept(
    world: World, content: bytes, message: str
) -> None:
    answer = world.http.post(
        "/__mock__/inspector/reports",
        content=content,
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 400
    assert message in answer.json()["message"]
    assert "None uploaded" in world.http.get("/__mock__/inspector/live").text


def test_a_report_too_large_is_refused_while_it_streams_in(world: World) -> None:
    huge = b'{"results": [], "pad": "' + b"x" * (9 * 1024 * 1024) + b'"}'
    answer = world.http.post(
        "/__mock__/inspector/reports", content=huge, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400


def test_behind_a_token_the_page_asks_for_it_and_a_session_opens_it(
    make_world: Callable[..., World],
) -> None:
    world = make_world(admin_token="s3cret")
    job, _ = _paid_job(world)
    world.http.cookies.clear()
    shell = world.http.get("/__mock__/")
    assert shell.status_code == 200
    assert "admin API has a token" in shell.text
    assert job not in shell.text
    assert world.http.get("/__mock__/inspector/live").status_code == 401
    assert world.http.post("/__mock__/inspector/session").status_code == 401
    granted = world.http.post(
        "/__mock__/inspector/session", headers={"authorization": "Bearer s3cret"}
    )
    port = world.url.rsplit(":", 1)[1]
    cookie = granted.cookies[SESSION_COOKIE_PREFIX + port]
    set_cookie = granted.headers["set-cookie"].lower()
    assert "httponly" in set_cookie
    assert "samesite=strict" in set_cookie
    assert "path=/__mock__" in set_cookie
    assert job in world.http.get("/__mock__/").text  # the client keeps the cookie
    assert world.http.get(f"/__mock__/inspector/thumbnails/{job}.png").status_code == 200
    assert world.http.post("/__mock__/scenario", json={"name": "slow"}).status_code == 200
    name = SESSION_COOKIE_PREFIX + port
    forged = cookie[:-1] + ("A" if cookie[-1] != "A" else "B")
    world.http.cookies.clear()
    shell = world.http.get("/__mock__/", headers={"cookie": f"{name}={forged}"})
    assert "admin API has a token" in shell.text
    refused = world.http.post(
        "/__mock__/reset",
        headers={"cookie": f"{name}={cookie}", "origin": "http://attacker.example"},
    )
    assert refused.status_code == 403


def test_a_pending_purchase_is_shown_with_its_settles_until_it_is_reconciled(
    world: World,
) -> None:
    headers = world.payment_header()
    first = world.pay(headers=headers, **{"X-Mock-Scenario": "facilitator_timeout"})
    assert first.status_code == 503
    [stored] = world.http.get("/__mock__/purchases", params={"state": "pending"}).json()[
        "purchases"
    ]
    html = world.http.get("/__mock__/inspector/live").text
    pending = html.split('<section id="pending">', 1)[1].split("</section>", 1)[0]
    assert f'title="{stored["key"]}"' in pending
    assert "<td>pending</td>" in pending
    assert "<td>1<pre>" in pending  # the one settle made so far, with its answer
    assert '<span class="status s-settlement_pending">' in html
    again = world.pay(headers=headers, **{"X-Mock-Scenario": "facilitator_timeout"})
    assert again.status_code == 200  # the same payment again: reconciled, its job exists
    html = world.http.get("/__mock__/inspector/live").text
    assert '<section id="pending">' not in html
    assert again.json()["id"] in html
