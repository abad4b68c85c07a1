"""Reading the facilitator's journal: only what is new each time, all of it again after the
facilitator restarted, and a pause after a failure."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import respx

from mock_server.inspector.facilitator_reads import FacilitatorReads
from tests.mock_server.entries import KEY, PAYMENT, recorded
from x402_service.journal import Journal

URL = "http://127.0.0.1:4021"


class FakeFacilitator:
    """Serves a journal's pages as the facilitator does, and remembers each `since` asked."""

    def __init__(self) -> None:
        self.journal = Journal()
        self.asked: list[int] = []

    def settle(self) -> None:
        recorded(
            self.journal,
            path="/settle",
            payment=json.dumps(PAYMENT),
            status=200,
            response_body='{"success": true}',
        )

    def page(self, request: httpx.Request) -> httpx.Response:
        since = int(request.url.params.get("since", "0"))
        self.asked.append(since)
        return httpx.Response(200, text=self.journal.page(since, limit=2))


def _calls(reads: FacilitatorReads) -> tuple[list[int], str | None]:
    async def read() -> tuple[dict[str, Any], str | None]:
        return await reads.calls()

    calls, problem = anyio.run(read)
    return [c.seq for c in calls.get(KEY, [])], problem


def test_each_read_asks_only_for_what_is_new_and_a_restart_is_read_again() -> None:
    facilitator = FakeFacilitator()
    for _ in range(3):
        facilitator.settle()
    with respx.mock(base_url=URL) as router:
        router.get("/journal").mock(side_effect=facilitator.page)
        reads = FacilitatorReads(URL)
        assert _calls(reads) == ([1, 2, 3], None)
        assert facilitator.asked == [0, 2]  # two pages of two
        facilitator.settle()
        facilitator.asked.clear()
        assert _calls(reads) == ([1, 2, 3, 4], None)
        assert facilitator.asked == [2]  # from just before the last entry read: is it still there?
        facilitator.journal = Journal()  # restarted: sequence numbers begin again
        facilitator.settle()
        facilitator.asked.clear()
        assert _calls(reads) == ([1], None)
        assert facilitator.asked == [3, 0]


def test_after_a_failure_the_facilitator_is_left_alone_for_a_while() -> None:
    with respx.mock(base_url=URL) as router:
        route = router.get("/journal").mock(return_value=httpx.Response(404))
        reads = FacilitatorReads(URL)
        first = _calls(reads)
        second = _calls(reads)
    assert first[0] == []
    assert first[1] is not None
    assert "could not be read" in first[1]
    assert second == first
    assert route.call_count == 1
