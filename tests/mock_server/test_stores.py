"""Stores: one purchase per payment across processes, a job exactly when settled, and a restart
that forgets nothing. The SQLite store behaves as the memory store under any sequence of steps."""

from __future__ import annotations

import sqlite3
import tempfile
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from mock_server.jobs import Job, Plan
from mock_server.purchases import OPEN_STATES, Purchase, PurchaseState
from mock_server.stores import MemoryStore, SqliteStore, Store, StoreSpecError, open_store
from tests.mock_server.conftest import World

PLAN = Plan(1.0, 3.0)


def _purchase(
    key: str = "0xab:0x01", job_id: str = "job_1", sha: str = "h", payment_id: str | None = None
) -> Purchase:
    return Purchase(
        key=key,
        request_sha256=sha,
        job_id=job_id,
        state=PurchaseState.CLAIMED,
        version=2,
        settle_body={"x402Version": 2, "paymentRequirements": {"network": "eip155:8453"}},
        request={"model": "m", "prompt": "p"},
        payer="0xab",
        scenario="happy",
        created_at=12.5,
        payment_id=payment_id,
    )


def _job(purchase: Purchase) -> Job:
    return Job(purchase.job_id, 20.0, PLAN, purchase.request, purchase.payer, purchase.scenario)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "s.db")


def test_a_purchase_is_claimed_once_and_its_job_made_when_settled(store: Store) -> None:
    purchase = _purchase()
    assert store.claim(purchase) is None
    holder = store.claim(replace(purchase, job_id="job_other"))
    assert holder is not None
    assert holder.job_id == "job_1"
    assert store.get_job("job_1") is None
    assert store.settle(purchase.key, {"success": True, "transaction": "0x1"}, _job(purchase))
    assert not store.settle(purchase.key, {"success": True}, _job(purchase))
    settled = store.get_purchase(purchase.key)
    assert settled is not None
    assert (settled.state, settled.transaction) == (PurchaseState.SETTLED, "0x1")
    assert [j.id for j in store.jobs()] == ["job_1"]
    assert store.counts() == {"jobs": 1, "claimed": 0, "pending": 0, "settled": 1, "refused": 0}


def test_a_refused_purchase_can_be_claimed_again_and_a_settled_one_cannot_be_refused(
    store: Store,
) -> None:
    purchase = _purchase()
    store.claim(purchase)
    assert store.mark_refused(purchase.key, {"errorReason": "x"}, "x")
    assert store.claim(purchase) is None
    store.mark_pending(purchase.key, {"transaction": "0x2"}, "timeout")
    pending = store.get_purchase(purchase.key)
    assert pending is not None
    assert (pending.state, pending.transaction) == (PurchaseState.PENDING, "0x2")
    store.settle(purchase.key, {"transaction": "0x2"}, _job(purchase))
    assert not store.mark_refused(purchase.key, None, "late")
    store.mark_pending(purchase.key, None, "late")
    assert store.get_purchase(purchase.key).state is PurchaseState.SETTLED  # type: ignore[union-attr]


def test_stale_lists_open_purchases_untouched_since(store: Store) -> None:
    store.claim(_purchase("a:1", "job_a"))
    store.claim(_purchase("b:1", "job_b"))
    store.settle("b:1", {}, _job(_purchase("b:1", "job_b")))
    assert [p.key for p in store.stale(before=1e12)] == ["a:1"]
    assert store.stale(before=0) == []


def test_reset_keeps_what_moved_money_unless_asked(store: Store) -> None:
    for key, job_id in (("a:1", "job_a"), ("b:1", "job_b"), ("c:1", "job_c")):
        store.claim(_purchase(key, job_id))
    store.settle("a:1", {}, _job(_purchase("a:1", "job_a")))
    store.mark_pending("b:1", None, "timeout")
    store.mark_refused("c:1", None, "refused")
    store.clear()
    assert {p.key for p in store.purchases()} == {"a:1", "b:1"}
    assert [j.id for j in store.jobs()] == ["job_a"]
    store.clear(purchases=True)
    assert store.purchases() == []
    assert store.jobs() == []


def test_two_connections_to_one_file_claim_a_payment_once(tmp_path: Path) -> None:
    """As two server processes on one store do: of 40 simultaneous claims one wins."""
    stores = [SqliteStore(tmp_path / "shared.db") for _ in range(4)]
    winners: list[str] = []
    start = threading.Barrier(40)

    def claim(n: int) -> None:
        start.wait()
        if stores[n % 4].claim(_purchase(job_id=f"job_{n}")) is None:
            winners.append(f"job_{n}")

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(winners) == 1
    assert all(s.get_purchase("0xab:0x01").job_id == winners[0] for s in stores)  # type: ignore[union-attr]


def test_a_restarted_server_keeps_jobs_and_replays(
    make_world: Callable[..., World], tmp_path: Path
) -> None:
    store = f"sqlite:{tmp_path / 'jobs.db'}"
    first = make_world(store=store)
    headers = first.payment_header()
    job = first.pay(headers=headers).json()
    restarted = make_world(store=store)
    restarted.chain = first.chain  # the same chain, seen from the new server
    assert restarted.http.get(f"/v1/images/generate/{job['id']}").json()["id"] == job["id"]
    replay = restarted.pay(headers=headers)
    assert replay.status_code == 200
    assert replay.json()["id"] == job["id"]


def test_a_payment_id_belongs_to_one_purchase_until_that_one_is_refused(store: Store) -> None:
    first = _purchase("a:1", "job_a", payment_id="pay_0123456789abcdef")
    assert store.claim(first) is None
    other = _purchase("b:1", "job_b", payment_id="pay_0123456789abcdef")
    holder = store.claim(other)
    assert holder is not None
    assert (holder.key, holder.job_id) == ("a:1", "job_a")
    assert store.get_purchase("b:1") is None
    assert store.mark_refused("a:1", None, "refused")
    assert store.claim(other) is None  # nothing moved for the refused one: the id is free again
    taken = store.purchase_with_id("pay_0123456789abcdef")
    assert taken is not None
    assert taken.key == "b:1"
    assert store.get_purchase("a:1") is None


def test_a_store_file_from_before_payment_ids_gets_the_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    old.close()
    store = SqliteStore(path)
    assert store.claim(_purchase(payment_id="pay_0123456789abcdef")) is None
    assert store.purchase_with_id("pay_0123456789abcdef") is not None
    store.close()


OLD_SCHEMA = """
CREATE TABLE purchases (
    key TEXT PRIMARY KEY, request_sha256 TEXT NOT NULL, job_id TEXT NOT NULL,
    state TEXT NOT NULL, version INTEGER NOT NULL, settle_body TEXT NOT NULL,
    request TEXT NOT NULL, payer TEXT NOT NULL, scenario TEXT NOT NULL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, settlement TEXT, reason TEXT NOT NULL);
"""


def test_store_specs(tmp_path: Path) -> None:
    assert isinstance(open_store("memory"), MemoryStore)
    for bad in ("sqlite:", "redis://x", ""):
        with pytest.raises(StoreSpecError, match="sqlite:PATH"):
            open_store(bad)
    with pytest.raises(StoreSpecError, match="does not exist"):
        open_store(f"sqlite:{tmp_path}/no/such/dir/x.db")


KEYS = st.sampled_from(["a:1", "b:1", "c:1"])
PAYMENT_IDS = st.sampled_from([None, "pay_aaaaaaaaaaaaaaaa", "pay_bbbbbbbbbbbbbbbb"])


class StoreMachine(RuleBasedStateMachine):
    """Random sequences of purchase steps: both stores agree, and jobs are exactly the settled
    purchases."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.TemporaryDirectory()
        self.stores: list[Store] = [MemoryStore(), SqliteStore(Path(self.directory.name) / "s")]
        self.made = 0

    @rule(key=KEYS, sha=st.sampled_from(["h1", "h2"]), payment_id=PAYMENT_IDS)
    def claim(self, key: str, sha: str, payment_id: str | None) -> None:
        self.made += 1
        purchase = _purchase(key, f"job_{key}_{self.made}", sha, payment_id)
        holders = [store.claim(purchase) for store in self.stores]
        assert _view(holders[0]) == _view(holders[1])

    @rule(payment_id=PAYMENT_IDS.filter(bool))
    def find_by_id(self, payment_id: str) -> None:
        found = [store.purchase_with_id(payment_id) for store in self.stores]
        assert _view(found[0]) == _view(found[1])

    @rule(key=KEYS)
    def settle(self, key: str) -> None:
        outcomes = []
        for store in self.stores:
            current = store.get_purchase(key)
            job = None if current is None else _job(current)
            outcomes.append(job is not None and store.settle(key, {"transaction": key}, job))
        assert outcomes[0] == outcomes[1]

    @rule(key=KEYS, state=st.sampled_from([PurchaseState.PENDING, PurchaseState.REFUSED]))
    def change(self, key: str, state: PurchaseState) -> None:
        for store in self.stores:
            if state is PurchaseState.PENDING:
                store.mark_pending(key, {"transaction": "0x9"}, "unknown")
            else:
                store.mark_refused(key, None, "refused")

    @rule(everything=st.booleans())
    def clear(self, everything: bool) -> None:
        for store in self.stores:
            store.clear(purchases=everything)

    @invariant()
    def stores_agree_and_jobs_are_the_settled_purchases(self) -> None:
        views = [{_view(p) for p in store.purchases()} for store in self.stores]
        assert views[0] == views[1]
        for store in self.stores:
            settled = {p.job_id for p in store.purchases() if p.state is PurchaseState.SETTLED}
            assert {j.id for j in store.jobs()} == settled
            counts = store.counts()
            assert counts["jobs"] == len(settled)
            open_count = sum(counts[s] for s in OPEN_STATES)
            assert open_count == len(store.purchases(OPEN_STATES))
            ids = [p.payment_id for p in store.purchases() if p.payment_id is not None]
            assert len(ids) == len(set(ids))

    def teardown(self) -> None:
        for store in self.stores:
            store.close()
        self.directory.cleanup()


def _view(purchase: Purchase | None) -> tuple[str, str, str, str, str, str | None] | None:
    if purchase is None:
        return None
    return (
        purchase.key,
        purchase.job_id,
        purchase.state,
        purchase.request_sha256,
        purchase.reason,
        purchase.payment_id,
    )


TestStoreMachine = StoreMachine.TestCase
TestStoreMachine.settings = settings(max_examples=40, derandomize=True, deadline=None)
