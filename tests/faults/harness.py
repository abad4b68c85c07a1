"""The stack as separate processes that tests can kill and restart, a paid flood, and a judge of
the five money invariants against the chain's own records.

    with FaultStack(tmp_path, chain="ledger") as stack:
        flood = Flood(stack, sales(120))
        flood.run_until(40)          # hundreds of purchases, many at once, in a thread
        stack.kill("facilitator"); stack.start_facilitator()
        flood.finish()
        report = stack.recover_and_judge(flood.sales)
        report.assert_money_is_true()
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from facilitator_sim.chains.anvil import AnvilProcess
from facilitator_sim.chains.evm import EvmChain
from facilitator_sim.settlements import SettlementState, SqliteRecords
from mock_server.purchases import PurchaseState
from x402_core.eip3009 import random_nonce
from x402_core.headers import PAYMENT_SIGNATURE, encode_header
from x402_core.payments import pay_v2
from x402_core.wallets import TestWallet, payer_wallets
from x402_core.xgen import xgen_listing
from x402_harness.processes import ServiceProcess
from x402_service.serving import free_port

LISTING = xgen_listing()
PRICE = LISTING.amount
HOST = "127.0.0.1"
CHARGED_ANSWERS = frozenset({200})
NOTHING_CHARGED_ERRORS = frozenset({"facilitator_unavailable"})
"""503 errors that tell the client nothing was charged."""


@dataclass(frozen=True, slots=True)
class Answer:
    phase: str
    """`flood` or `resend`."""
    status: int | None
    """None: no answer (connection refused or dropped, timeout)."""
    error: str | None = None
    job_id: str | None = None


@dataclass
class Sale:
    """One payment offered for one request, and every answer it got."""

    index: int
    wallet: TestWallet
    nonce: bytes
    header: str
    body: dict[str, Any]
    answers: list[Answer] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.wallet.address.lower()}:0x{self.nonce.hex()}"


def make_sales(count: int) -> list[Sale]:
    """`count` signed payments from the nine funded test wallets, each for its own prompt."""
    requirements = LISTING.requirements_v2()
    wallets = payer_wallets()
    sales = []
    for index in range(count):
        wallet = wallets[index % len(wallets)]
        nonce = random_nonce()
        payload = pay_v2(requirements, wallet.private_key, wallet.address, nonce=nonce)
        body = {"model": "nano-banana-2", "prompt": f"fault test image {index}"}
        sales.append(Sale(index, wallet, nonce, encode_header(payload), body))
    return sales


LASTING_PORTS = range(20_000, 32_000)
"""Below Linux's ephemeral range (32768 and up), where `bind(0)` never hands a port out: a
process killed and started again finds its port still free, whatever other tests bind."""


def lasting_port() -> int:
    """A free port below the ephemeral range, for a process that is killed and restarted."""
    rng = random.Random()
    for _ in range(200):
        port = rng.choice(LASTING_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {LASTING_PORTS}")


class FaultStack:
    """Anvil (optional), the facilitator and N mock servers as processes with fixed ports and
    their state in `directory`, so each can be killed and started again where it was."""

    def __init__(
        self,
        directory: Path,
        chain: str = "ledger",
        replicas: int = 1,
        server_env: dict[str, str] | None = None,
        facilitator_env: dict[str, str] | None = None,
        proxy: bool = False,
    ) -> None:
        self.directory = directory
        self.chain = chain
        self.server_env = {
            "X402H_SERVER_FACILITATOR_TIMEOUT": "1",
            "X402H_SERVER_RECONCILE_INTERVAL": "0.5",
            **(server_env or {}),
        }
        self.facilitator_env = {"X402H_FACILITATOR_SETTLE_TIMEOUT": "5", **(facilitator_env or {})}
        self.facilitator_port = lasting_port()
        self.server_ports = [lasting_port() for _ in range(replicas)]
        self.anvil: AnvilProcess | None = None
        self.anvil_port = lasting_port() if chain == "anvil" else None
        self.proxy: ResettingProxy | None = None
        if proxy:
            self.proxy = ResettingProxy(HOST, self.facilitator_port)
        self.processes: dict[str, ServiceProcess] = {}

    # ------------------------------------------------------------------ where things are

    @property
    def server_urls(self) -> list[str]:
        return [f"http://{HOST}:{port}" for port in self.server_ports]

    @property
    def facilitator_url(self) -> str:
        return f"http://{HOST}:{self.facilitator_port}"

    @property
    def rpc_url(self) -> str | None:
        return None if self.anvil_port is None else f"http://{HOST}:{self.anvil_port}"

    @property
    def facilitator_state(self) -> Path:
        return self.directory / "facilitator.sqlite"

    @property
    def facilitator_journal(self) -> Path:
        return self.directory / "facilitator.jsonl"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FaultStack:
        if self.chain == "anvil":
            self.start_anvil()
        self.start_facilitator()
        if self.proxy is not None:
            self.proxy.start()
        for replica in range(len(self.server_ports)):
            self.start_server(replica)
        return self

    def start_anvil(self) -> None:
        self.anvil = AnvilProcess.start(
            port=self.anvil_port,
            state_path=self.directory / "anvil-state.json",
            extra_args=["--state-interval", "1"],
        )

    def start_facilitator(self) -> None:
        chain = self.rpc_url or "ledger"
        args = ["facilitator", "--chain", chain, "--port", str(self.facilitator_port)]
        args += ["--state", str(self.facilitator_state)]
        args += ["--journal", str(self.facilitator_journal)]
        self._spawn("facilitator", args, self.facilitator_env, self.facilitator_url)

    def start_server(self, replica: int = 0, env: dict[str, str] | None = None) -> None:
        facilitator = self.proxy.url if self.proxy is not None else self.facilitator_url
        args = ["server", "--facilitator-url", facilitator, "--port"]
        args += [str(self.server_ports[replica])]
        args += ["--store", f"sqlite:{self.directory / 'mock.sqlite'}"]
        url = self.server_urls[replica]
        self._spawn(f"server{replica}", args, {**self.server_env, **(env or {})}, url)

    def _spawn(self, name: str, args: list[str], env: dict[str, str], url: str) -> None:
        process = ServiceProcess(name, args, env)
        self.processes[name] = process
        process.start(f"{url}/health")

    def kill(self, name: str) -> None:
        if name == "anvil":
            assert self.anvil is not None
            self.anvil.kill()
            return
        self.processes[name].kill()

    def wait_for_exit(self, name: str, timeout: float = 30.0) -> int:
        """The exit code of a process expected to die by itself (an armed crash point)."""
        process = self.processes[name]
        deadline = time.monotonic() + timeout
        while process.returncode is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} did not exit within {timeout} s")
            time.sleep(0.02)
        return process.returncode

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()
        if self.proxy is not None:
            self.proxy.stop()
        if self.anvil is not None:
            self.anvil.stop()

    def __enter__(self) -> FaultStack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ recovery and judgement

    def admin(self, path: str) -> Any:
        return httpx.get(f"{self.server_urls[0]}/__mock__{path}", timeout=30).json()

    def wait_until_settled(self, timeout: float = 60.0) -> None:
        """Until no purchase is claimed or pending: the servers reconciled every one."""
        deadline = time.monotonic() + timeout
        while True:
            counts = self.admin("/health")["purchases"]
            if counts["claimed"] == 0 and counts["pending"] == 0:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"purchases still open after {timeout} s: {counts}")
            time.sleep(0.2)

    def recover_and_judge(self, sales: Sequence[Sale], rounds: int = 5) -> FaultReport:
        """Wait for the servers to reconcile, note what moved, send every payment once more (a
        payment refused before may now be bought), and again while a re-send's own settlement
        is still pending (recovery has finished when every payment has a final answer); then
        judge."""
        self.wait_until_settled()
        moved_before = _chain_view(self, sales)[0] | _recorded_settlements(self)
        unsettled = list(sales)
        for _ in range(rounds):
            send_all(self.server_urls, unsettled, "resend", concurrency=10)
            unsettled = [s for s in unsettled if not _final(s.answers[-1])]
            if not unsettled:
                break
            self.wait_until_settled()
        return judge(self, sales, moved_before)


def _final(answer: Answer) -> bool:
    """An answer that decides the purchase: its job, or a refusal."""
    return answer.status in (200, 402)


# ---------------------------------------------------------------------- the paid flood


def send(client: httpx.Client, url: str, sale: Sale, phase: str) -> None:
    try:
        answer = client.post(
            url + LISTING.path, json=sale.body, headers={PAYMENT_SIGNATURE: sale.header}
        )
    except httpx.TransportError:
        sale.answers.append(Answer(phase, None))
        return
    try:
        data = answer.json()
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    job_id = data.get("id") if answer.status_code == 200 else None
    sale.answers.append(Answer(phase, answer.status_code, data.get("error"), job_id))


def send_all(urls: Sequence[str], sales: Sequence[Sale], phase: str, concurrency: int = 12) -> None:
    """Each sale once, to the replicas in turn, `concurrency` at a time."""
    with (
        httpx.Client(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as client,
        ThreadPoolExecutor(concurrency) as pool,
    ):
        list(pool.map(lambda s: send(client, urls[s.index % len(urls)], s, phase), sales))


class Flood:
    """The sales sent in a background thread; `run_until(n)` returns once n have answers."""

    def __init__(self, stack: FaultStack, sales: list[Sale], concurrency: int = 12) -> None:
        self.stack = stack
        self.sales = sales
        self.concurrency = concurrency
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            send_all(self.stack.server_urls, self.sales, "flood", self.concurrency)
        except BaseException as exc:  # reported by finish()
            self._error = exc

    def run_until(self, answered: int, timeout: float = 60.0) -> Flood:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while sum(1 for s in self.sales if s.answers) < answered:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                break
            time.sleep(0.005)
        return self

    def finish(self, timeout: float = 120.0) -> None:
        if not self._thread.is_alive() and not any(s.answers for s in self.sales):
            self._thread.start()
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"the flood did not finish within {timeout} s")
        if self._error is not None:
            raise self._error


# ---------------------------------------------------------------------- judging


@dataclass(frozen=True)
class FaultReport:
    """What the chain, the facilitator's records and the servers say after a fault."""

    purchases: int
    charged: int
    """Authorizations the chain says were used."""
    rolled_back: int
    """Settlements the facilitator recorded that the chain forgot (it lost its state)."""
    jobs: int
    lies: list[str]
    """Answers saying nothing was charged (or naming another job) for a charged payment."""
    double_charges: list[str]
    """Authorizations settled in more than one transaction."""
    unreturned: list[str]
    """Charged payments whose re-send after recovery did not return their job."""
    jobs_without_charge: list[str]
    payee_rise: int | None

    def assert_money_is_true(self) -> None:
        assert self.lies == [], f"answers that lied about money: {self.lies[:5]}"
        assert self.double_charges == [], f"settled twice: {self.double_charges[:5]}"
        assert self.unreturned == [], f"charged, job not returned: {self.unreturned[:5]}"
        assert self.jobs_without_charge == [], f"jobs without a charge: {self.jobs_without_charge}"
        assert self.jobs == self.charged + self.rolled_back
        if self.payee_rise is not None:
            assert self.payee_rise == PRICE * self.charged, "the payee got another sum"
        assert self.charged > 0, "nothing was bought: the test proves nothing"


def judge(stack: FaultStack, sales: Sequence[Sale], moved_before: set[str]) -> FaultReport:
    """`moved_before`: what had moved once the servers reconciled, before the last re-send: a
    flood answer saying nothing moved is a lie if its payment is in it; a re-send answer saying
    so is a lie if its payment moved at all."""
    used, payee = _chain_view(stack, sales)
    recorded = _recorded_settlements(stack)
    purchases = {p["key"]: p for p in stack.admin("/purchases")["purchases"]}
    jobs = {j["id"] for j in stack.admin("/jobs")["jobs"]}
    moved = used | recorded
    lies, unreturned = [], []
    for sale in sales:
        bought = purchases.get(sale.key)
        job_id = bought["job_id"] if bought and bought["state"] == PurchaseState.SETTLED else None
        for answer in sale.answers:
            moved_then = moved_before if answer.phase == "flood" else moved
            if sale.key in moved_then and _says_nothing_moved(answer):
                lies.append(f"{sale.key}: {answer}")
            if answer.job_id is not None and answer.job_id != job_id:
                lies.append(f"{sale.key}: job {answer.job_id}, its purchase names {job_id}")
        last = sale.answers[-1] if sale.answers else None
        if sale.key in moved and (last is None or last.job_id is None or last.job_id != job_id):
            unreturned.append(f"{sale.key}: {last}")
    settled_keys = {k for k, p in purchases.items() if p["state"] == PurchaseState.SETTLED}
    return FaultReport(
        purchases=len(sales),
        charged=len(used),
        rolled_back=len(recorded - used),
        jobs=len(jobs),
        lies=lies,
        double_charges=_double_settlements(stack.facilitator_journal),
        unreturned=unreturned,
        jobs_without_charge=sorted(settled_keys - moved),
        payee_rise=None if recorded - used else payee,
    )


def _says_nothing_moved(answer: Answer) -> bool:
    if answer.status == 402:
        return True
    return answer.status == 503 and answer.error in NOTHING_CHARGED_ERRORS


def _chain_view(stack: FaultStack, sales: Sequence[Sale]) -> tuple[set[str], int]:
    """(keys of the sales whose authorization the chain says is used, the payee's balance)."""
    if stack.rpc_url is not None:
        chain = EvmChain(stack.rpc_url)
        try:
            used = {
                s.key
                for s in sales
                if chain.authorization_used(LISTING.asset, s.wallet.address, s.nonce)
            }
            return used, chain.balance_of(LISTING.asset, LISTING.pay_to)
        finally:
            chain.close()
    with contextlib.closing(sqlite3.connect(stack.facilitator_state)) as db:
        rows = db.execute("SELECT authorizer, nonce FROM used_nonces").fetchall()
        (balance,) = db.execute(
            "SELECT amount FROM balances WHERE account = ?", (LISTING.pay_to.lower(),)
        ).fetchone() or ("0",)
    chain_used = {f"{authorizer}:0x{bytes(nonce).hex()}" for authorizer, nonce in rows}
    return {s.key for s in sales if s.key in chain_used}, int(balance)


def _recorded_settlements(stack: FaultStack) -> set[str]:
    """Keys (`payer:nonce`) the facilitator recorded as settled."""
    records = SqliteRecords(stack.facilitator_state)
    try:
        settled = [r for r in records.all() if r.state is SettlementState.SETTLED]
    finally:
        records.close()
    return {r.key.split(":", 1)[1] for r in settled}


def _double_settlements(journal: Path) -> list[str]:
    """Authorizations the facilitator reported settled in more than one transaction."""
    transactions: dict[str, set[str]] = defaultdict(set)
    for line in journal.read_text().splitlines() if journal.exists() else []:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            entry = json.loads(line)
            answer = json.loads(entry["response_body"])
            if entry["path"] == "/settle" and answer.get("success") is True:
                auth = entry["payment"]["payload"]["authorization"]
                key = f"{auth['from'].lower()}:{auth['nonce'].lower()}"
                transactions[key].add(answer["transaction"])
    return sorted(k for k, txs in transactions.items() if len(txs) > 1)


# ---------------------------------------------------------------------- a connection that drops


class ResettingProxy:
    """A TCP proxy in front of the facilitator that drops every third `/settle` connection after
    the facilitator answered, before the answer reaches the server: the request was handled
    (money moved), the server never hears of it."""

    def __init__(self, host: str, upstream_port: int, every: int = 3) -> None:
        self.host = host
        self.upstream_port = upstream_port
        self.every = every
        self.port = free_port()
        self.settles = 0
        self.dropped = 0
        self.dropping = True
        """Set to False to let every answer through (recovery after the flood)."""
        self._loop_thread: threading.Thread | None = None
        self._stop: Any = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        import asyncio

        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            server = loop.run_until_complete(
                asyncio.start_server(self._handle, self.host, self.port)
            )
            self._stop = (loop, server)
            ready.set()
            loop.run_forever()
            server.close()
            loop.run_until_complete(server.wait_closed())
            loop.close()

        self._loop_thread = threading.Thread(target=run, daemon=True)
        self._loop_thread.start()
        ready.wait(10)

    def stop(self) -> None:
        if self._stop is not None:
            loop, _ = self._stop
            loop.call_soon_threadsafe(loop.stop)
        if self._loop_thread is not None:
            self._loop_thread.join(10)

    async def _handle(self, client_reader: Any, client_writer: Any) -> None:
        import asyncio

        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self.host, self.upstream_port
            )
        except OSError:
            client_writer.close()
            return
        last_request = [b""]

        async def to_upstream() -> None:
            while data := await client_reader.read(65536):
                if data[:5] in (b"POST ", b"GET /"):
                    last_request[0] = data.split(b"\r\n", 1)[0]
                upstream_writer.write(data)
                await upstream_writer.drain()
            upstream_writer.close()

        async def to_client() -> None:
            while data := await upstream_reader.read(65536):
                if data.startswith(b"HTTP/") and b"/settle" in last_request[0]:
                    self.settles += 1
                    if self.dropping and self.settles % self.every == 0:
                        self.dropped += 1
                        client_writer.transport.abort()  # RST: the answer is lost
                        upstream_writer.close()
                        return
                client_writer.write(data)
                await client_writer.drain()
            client_writer.close()

        with contextlib.suppress(OSError, ConnectionError):
            await asyncio.gather(to_upstream(), to_client())


@contextlib.contextmanager
def slow_mining(rpc_url: str) -> Iterator[None]:
    """Anvil mines a block every 2 s instead of on every transaction."""
    chain = EvmChain(rpc_url)
    try:
        chain.rpc("evm_setAutomine", [False])
        chain.rpc("evm_setIntervalMining", [2])
        yield
    finally:
        with contextlib.suppress(Exception):
            chain.rpc("evm_setIntervalMining", [0])
            chain.rpc("evm_setAutomine", [True])
        chain.close()
