"""Locust users for a listed paid endpoint, xGen's by default (run with `x402-harness load`, or
Locust directly, `--x402-listing FILE` for another endpoint):

    locust -f loadtests/locustfile.py --host http://127.0.0.1:8402 --headless -u 20 -r 5 -t 30s

PayingUser: unpaid request, 402, sign, pay; for a job, poll with Retry-After and download the
image. UnpaidProbeUser: the 402 path only. StatusPollerUser: polls jobs the paying users bought.
Answers are judged by the paying client's own decisions (`x402_payer.offers`, `.polling`).
Options (also under master/worker): see `loadtests.options`.
"""

from __future__ import annotations

import collections
import functools
import json
import random
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from gevent.pool import Group
from locust import FastHttpUser, events, task
from locust.env import Environment

from loadtests import names
from loadtests.answers import as_httpx, transport_error
from loadtests.options import add_options, apply_options
from loadtests.reporting import Reporter
from loadtests.wallets import Payments, WalletPool
from x402_core.jobstatus import TERMINAL, Status
from x402_core.listing import InputLocation, Listing, parse_listing
from x402_core.networks import NETWORKS
from x402_core.wallets import STARTING_USDC_ATOMIC
from x402_core.xgen import xgen_listing
from x402_payer.errors import PayerError
from x402_payer.offers import Choice, choose_requirement, read_failure, read_offer, read_settlement
from x402_payer.policy import PayerPolicy
from x402_payer.polling import AnswerKind, StatusAnswer, judge_status, next_poll_delay

JOB_POLL_LIMIT_SECONDS = 60.0
POLICY = PayerPolicy(
    max_amount_atomic=STARTING_USDC_ATOMIC,
    networks=frozenset(n.caip2 for n in NETWORKS) | {n.name for n in NETWORKS},
    poll_timeout_seconds=JOB_POLL_LIMIT_SECONDS,
)
"""Pays any USDC offer a load wallet can afford, on every known network."""
known_jobs: collections.deque[str] = collections.deque(maxlen=1000)
"""Job ids the paying users bought, for the status pollers (per process)."""
_wallet_pools: dict[tuple[int, int, int], WalletPool] = {}
_reporters: list[Reporter] = []
"""This process's reporter, made at `init` (held in a list rather than behind `global`)."""


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    add_options(parser)


@events.init.add_listener
def _init(environment: Environment, **kwargs: Any) -> None:
    options = environment.parsed_options
    if options is not None:
        apply_options(options, [PayingUser, UnpaidProbeUser, StatusPollerUser])
    snapshot = getattr(options, "x402_snapshot", "")
    _reporters.append(Reporter(environment, Path(snapshot) if snapshot else None))


def _wallet_pool(environment: Environment) -> WalletPool:
    """The pool of this process, made when the first user starts: on a worker, the master's
    options have arrived by then (at `init` the worker still has its own defaults)."""
    options: Any = environment.parsed_options
    worker = getattr(environment.runner, "worker_index", 0) or 0
    key = (options.x402_first_wallet, options.x402_wallets, worker)
    if key not in _wallet_pools:
        _wallet_pools[key] = WalletPool(key[0], key[1], offset=worker * 7919)
    return _wallet_pools[key]


@functools.cache
def _listing(path: str) -> Listing:
    """The endpoint's listing: the file at `path`, or xGen's ("")."""
    return parse_listing(Path(path).read_text(), path) if path else xgen_listing()


class ListedUser(FastHttpUser):
    abstract = True

    def wait_time(self) -> float:
        options = self.environment.parsed_options
        return random.uniform(options.x402_think_min, options.x402_think_max)

    def on_start(self) -> None:
        options = self.environment.parsed_options
        self.listing = _listing(options.x402_listing)
        self.path = options.x402_endpoint_path
        self.scenario = options.x402_scenario or "default"
        self.headers = {"X-Mock-Scenario": options.x402_scenario} if options.x402_scenario else {}
        self.request = self.listing.example_request()

    def send(self, headers: dict[str, str], name: str) -> Any:
        """The listed request (its JSON body, or its query), as a `catch_response` context."""
        if self.listing.location is InputLocation.QUERY:
            query = {k: v if isinstance(v, str) else json.dumps(v) for k, v in self.request.items()}
            return self.client.request(
                self.listing.method,
                f"{self.path}?{urlencode(query)}",
                headers=headers,
                name=name,
                catch_response=True,
            )
        return self.client.request(
            self.listing.method,
            self.path,
            json=self.request,
            headers=headers,
            name=name,
            catch_response=True,
        )

    def milestone(self, what: str, since: float) -> None:
        _reporters[-1].milestone(names.milestone(what, self.scenario), since)

    def ask_offer(self) -> Choice | None:
        """The unpaid request: a 402 whose offer this payer accepts, else a failure."""
        with self.send(self.headers, names.UNPAID) as answer:
            if answer.status_code != 402:
                answer.failure(transport_error(answer) or f"expected 402, got {answer.status_code}")
                return None
            try:
                choice = choose_requirement(
                    read_offer(as_httpx(answer, self.listing.method)), POLICY
                )
            except PayerError as exc:
                answer.failure(f"unpayable 402: {exc}")
                return None
            answer.success()
            return choice

    def judge_poll(self, answer: Any) -> StatusAnswer | None:
        """A status answer judged as the payer judges it; None when it is a failure."""
        problem = transport_error(answer)
        if problem is None:
            try:
                judged = judge_status(as_httpx(answer, "GET"))
            except PayerError as exc:
                problem = str(exc)
        if problem is not None:
            answer.failure(problem)
            return None
        answer.success()  # a 429 or 503 asks to wait: the scenario's point, not an error
        return judged


class UnpaidProbeUser(ListedUser):
    """Asks for the price, again and again: the 402 path only."""

    weight = 1

    @task
    def probe(self) -> None:
        self.ask_offer()


class PayingUser(ListedUser):
    """Buys: 402, pay; for a job, poll with Retry-After and download its image."""

    weight = 3

    def on_start(self) -> None:
        super().on_start()
        options = self.environment.parsed_options
        self.payments = Payments(_wallet_pool(self.environment).take(), options.x402_presign)
        self.download = bool(options.x402_download)
        self.replays = options.x402_replays

    @task
    def buy(self) -> None:
        started = time.perf_counter()
        choice = self.ask_offer()
        if choice is None:
            return
        self.milestone("402", started)
        header, payment = self.payments.next(choice)
        headers = {**self.headers, header: payment}
        job = self.pay(choice, headers)
        if job is None:
            return
        self.milestone("settlement", started)
        if random.random() < self.replays:
            self.replay(headers, job, concurrently=random.random() < 0.5)
        if not self.listing.is_job:
            return
        known_jobs.append(job["id"])
        job = self.poll(job)
        if job.get("status") != Status.COMPLETED:
            return
        self.milestone("completed job", started)
        if self.download:
            for image in job.get("images", []):
                self.client.get(image["url"], name=names.IMAGE)

    def pay(self, choice: Choice, headers: dict[str, str]) -> dict[str, Any] | None:
        """The paid request: the answer (a job, for a job endpoint) with a successful settlement
        header, else a failure."""
        with self.send(headers, names.PAID) as answer:
            problem = transport_error(answer)
            if problem is not None:
                answer.failure(problem)
                return None
            response = as_httpx(answer, self.listing.method)
            if answer.status_code != 200:
                reason = read_failure(response, choice.version).explanation
                answer.failure(f"paid request answered {answer.status_code}: {reason}")
                return None
            try:
                settlement = read_settlement(response, choice.version)
                job = response.json()
            except (PayerError, ValueError) as exc:
                answer.failure(f"paid answer unreadable: {exc}")
                return None
            if settlement is None or not settlement.success:
                answer.failure("paid answer 200 without a successful settlement header")
                return None
            is_job = isinstance(job, dict) and isinstance(job.get("id"), str)
            if not isinstance(job, dict) or (self.listing.is_job and not is_job):
                answer.failure(f"paid answer is not a job: {answer.text[:120]!r}")
                return None
            answer.success()
            return job

    def replay(self, headers: dict[str, str], first: dict[str, Any], *, concurrently: bool) -> None:
        """Re-send a settled payment (twice at once when `concurrently`): the same answer (the
        same job) must come back, and nothing may be charged again (the invariants check the
        chain afterwards)."""
        name = names.REPLAY_CONCURRENT if concurrently else names.REPLAY
        same = "id" if self.listing.is_job else None

        def send() -> None:
            with self.send(headers, name) as answer:
                body = answer.json() if answer.status_code == 200 else None
                if body is not None and (body.get(same) == first[same] if same else body == first):
                    answer.success()
                else:
                    answer.failure(f"replay answered {answer.status_code}, not what was bought")

        group = Group()
        for _ in range(2 if concurrently else 1):
            group.spawn(send)
        group.join(timeout=JOB_POLL_LIMIT_SECONDS)

    def poll(self, job: dict[str, Any]) -> dict[str, Any]:
        """Poll until the job ends, waiting as the payer would (Retry-After, backoff on 429/5xx)."""
        deadline = time.monotonic() + JOB_POLL_LIMIT_SECONDS
        retries = 0
        while job.get("status") not in TERMINAL and time.monotonic() < deadline:
            with self.client.get(
                f"{self.path}/{job['id']}", name=names.STATUS, catch_response=True
            ) as answer:
                judged = self.judge_poll(answer)
                if judged is None:
                    return job
                if judged.kind is not AnswerKind.RETRY:
                    retries, job = 0, judged.job or job
                elif (retries := retries + 1) > POLICY.max_status_retries:
                    answer.failure(f"still {judged.problem} after {retries} polls in a row")
                    return job
            if job.get("status") not in TERMINAL:
                time.sleep(next_poll_delay(POLICY, judged.retry_after, retries))
        return job


class StatusPollerUser(ListedUser):
    """Polls jobs the paying users of this process bought."""

    weight = 1

    @task
    def poll_a_job(self) -> None:
        if not known_jobs:
            time.sleep(0.5)
            return
        job_id = random.choice(known_jobs)
        with self.client.get(
            f"{self.path}/{job_id}", name=names.POLLER, catch_response=True
        ) as answer:
            self.judge_poll(answer)
