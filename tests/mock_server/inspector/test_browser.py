"""The inspector in a real browser: Debian's chromium driven by Playwright (`make test` installs
both). Paid through the stack, the page shows the job, the transaction and the thumbnail; a
payment made while it is open arrives live; its controls change the server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from tests.browser import CHROMIUM, launch_chromium
from tests.mock_server.conftest import World
from x402_core.headers import PAYMENT_RESPONSE, decode_json_header

WAIT_MS = 10_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"no {CHROMIUM}: `make test` installs Debian's chromium (apt-get install)")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    yield page
    context.close()
    assert problems == []


def _pay(world: World, scenario: str | None = None) -> tuple[str, str]:
    """(job id, transaction) of a paid request, in `scenario` if given."""
    answer = world.pay(**({"X-Mock-Scenario": scenario} if scenario else {}))
    assert answer.status_code == 200
    settlement = decode_json_header(answer.headers[PAYMENT_RESPONSE])
    assert isinstance(settlement, dict)
    return answer.json()["id"], settlement["transaction"]


def _purchase(page: Page, job: str) -> Locator:
    return page.locator("article.purchase", has=page.locator("code.job-id", has_text=job))


def test_a_paid_job_shows_live_and_a_queued_scenario_is_applied(world: World, page: Page) -> None:
    job, transaction = _pay(world, "instant")
    page.goto(world.url + "/__mock__/")
    purchase = _purchase(page, job)
    expect(purchase.locator("code.tx")).to_have_text(transaction)
    thumbnail = purchase.locator("img.thumb")
    expect(thumbnail).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
    )
    expect(page.locator("#live-status")).to_have_text("live")
    paid_seq = world.http.get("/__mock__/journal").json()["entries"][-1]["seq"]
    row = page.locator(f"#entry-{paid_seq} details.entry")
    row.locator("summary").click()  # its readable form is fetched when unfolded
    expect(row.locator("pre")).to_contain_text(f'"transaction": "{transaction}"')

    later, _ = _pay(world, "instant")  # while the page is open: it arrives without a reload
    expect(_purchase(page, later).locator("img.thumb")).to_be_visible()
    assert int(page.evaluate("document.body.dataset.updates")) >= 1

    page.select_option("form[data-action=queue] select", "fail")
    page.click("form[data-action=queue] button")
    expect(page.locator("#queue")).to_have_text("fail")
    assert world.http.get("/__mock__/scenarios").json()["queued"] == ["fail"]
    failing, _ = _pay(world)
    expect(_purchase(page, failing).locator(".heading")).to_contain_text("scenario fail")
    expect(page.locator("#queue")).to_have_text("empty")


def test_behind_an_admin_token_a_link_with_it_opens_the_page(
    make_world: Callable[..., World], page: Page
) -> None:
    world = make_world(admin_token="s3cret")
    job, _ = _pay(world, "instant")
    page.goto(world.url + "/__mock__/#token=s3cret")
    expect(_purchase(page, job).locator("img.thumb")).to_be_visible()
    assert page.url == world.url + "/__mock__/"  # the token left the address bar
    expect(page.locator("#live-status")).to_have_text("live")
    page.click("form[data-action=reset] button")
    expect(page.locator("#notice")).to_have_text("reset: done")
