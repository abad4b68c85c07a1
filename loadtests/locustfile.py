"""Locust users for xGen's paid endpoint (run with `x402-harness load`, or Locust directly):

    locust -f loadtests/locustfile.py --host http://127.0.0.1:8402 --headless -u 20 -r 5 -t 30s

PayingImageUser: unpaid request, 402, sign, pay, poll with Retry-After, download the image.
UnpaidProbeUser: the 402 path only. StatusPollerUser: polls jobs the paying users bought.
Options (also under master/worker): see `loadtests.options`.
"""

from __future__ import annotations

import collections
import random
import time
from typing import Any

from gevent.pool import Group
from locust import FastHttpUser, events, task
from locust.env import Environment

from loadtests.options import add_options, apply_options
from loadtests.wallets import Payments, WalletPool
from x402_core.headers import PAYMENT_REQUIRED, PAYMENT_SIGNATURE, HeaderError, decode_header
from x402_core.models import PaymentRequiredV2

TERMINAL = ("completed", "failed")
JOB_POLL_LIMIT_SECONDS = 60.0
known_jobs: collections.deque[str] = collections.deque(maxlen=1000)
"""Job ids the paying users bought, for the status pollers (per process)."""
_wallet_pools: dict[tuple[int, int, int], WalletPool] = {}


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    add_options(parser)


@events.init.add_listener
def _init(environment: Environment, **kwargs: Any) -> None:
    if environment.parsed_options is not None:
        apply_options(
            environment.parsed_options, [PayingImageUser, UnpaidProbeUser, StatusPollerUser]
        )


def _wallet_pool(environment: Environment) -> WalletPool:
    """The pool of this process, made when the first user starts: on a worker, the master's
    options have arrived by then (at `init` the worker still has its own defaults)."""
    options = environment.parsed_options
    worker = getattr(environment.runner, "worker_index", 0) or 0
    key = (options.x402_first_wallet, options.x402_wallets, worker)
    if key not in _wallet_pools:
        _wallet_pools[key] = WalletPool(key[0], key[1], offset=worker * 7919)
    return _wallet_pools[key]


def _metric(environment: Environment, name: str, started: float) -> None:
    """A custom Locust metric: seconds from the user's first request to this milestone."""
    environment.events.request.fire(
        request_type="x402",
        name=name,
        response_time=(time.perf_counter() - started) * 1000,
        response_length=0,
        exception=None,
        context={},
    )


class XgenUser(FastHttpUser):
    abstract = True

    def wait_time(self) -> float:
        options = self.environment.parsed_options
        return random.uniform(options.x402_think_min, options.x402_think_max)

    def on_start(self) -> None:
        options = self.environment.parsed_options
        self.path = options.x402_endpoint_path
        self.scenario = options.x402_scenario or "default"
        self.headers = {"X-Mock-Scenario": options.x402_scenario} if options.x402_scenario else {}
        self.body = {"model": "nano-banana-2", "prompt": f"load test {random.random():.6f}"}

    def ask_offer(self) -> PaymentRequiredV2 | None:
        with self.client.post(
            self.path,
            json=self.body,
            headers=self.headers,
            name="POST generate (unpaid)",
            catch_response=True,
        ) as answer:
            if answer.status_code != 402:
                answer.failure(f"expected 402, got {answer.status_code}")
                return None
            try:
                offer = decode_header(answer.headers[PAYMENT_REQUIRED], PaymentRequiredV2)
            except (KeyError, HeaderError) as exc:
                answer.failure(f"unreadable PAYMENT-REQUIRED: {exc}")
                return None
            answer.success()
            return offer


class UnpaidProbeUser(XgenUser):
    """Asks for the price, again and again: the 402 path only."""

    weight = 1

    @task
    def probe(self) -> None:
        self.ask_offer()


class PayingImageUser(XgenUser):
    """Buys images: 402, pay, poll with Retry-After, download."""

    weight = 3

    def on_start(self) -> None:
        super().on_start()
        options = self.environment.parsed_options
        self.payments = Payments(_wallet_pool(self.environment).take(), options.x402_presign)
        self.download = options.x402_download
        self.replays = options.x402_replays

    @task
    def buy_an_image(self) -> None:
        started = time.perf_counter()
        offer = self.ask_offer()
        if offer is None:
            return
        _metric(self.environment, f"time to 402 [{self.scenario}]", started)
        headers = {**self.headers, PAYMENT_SIGNATURE: self.payments.next(offer.accepts[0])}
        with self.client.post(
            self.path,
            json=self.body,
            headers=headers,
            name="POST generate (paid)",
            catch_response=True,
        ) as answer:
            if answer.status_code != 200:
                reason = _error_of(answer)
                answer.failure(f"paid request answered {answer.status_code}: {reason}")
                return
            job = answer.json()
            answer.success()
        _metric(self.environment, f"time to settlement [{self.scenario}]", started)
        known_jobs.append(job["id"])
        if random.random() < self.replays:
            self.replay(headers, job["id"], concurrently=random.random() < 0.5)
        job = self.poll(job)
        if job.get("status") != "completed":
            return
        _metric(self.environment, f"time to completed job [{self.scenario}]", started)
        if self.download:
            for image in job.get("images", []):
                self.client.get(image["url"], name="GET image")

    def replay(self, headers: dict[str, str], job_id: str, *, concurrently: bool) -> None:
        """Re-send a settled payment (twice at once when `concurrently`): the same job must come
        back, and nothing may be charged again (the invariants check the chain afterwards)."""
        name = "POST generate (replay, concurrent)" if concurrently else "POST generate (replay)"

        def send() -> None:
            with self.client.post(
                self.path, json=self.body, headers=headers, name=name, catch_response=True
            ) as answer:
                if answer.status_code == 200 and answer.json().get("id") == job_id:
                    answer.success()
                else:
                    answer.failure(f"replay answered {answer.status_code}, not job {job_id}")

        group = Group()
        for _ in range(2 if concurrently else 1):
            group.spawn(send)
        group.join(timeout=JOB_POLL_LIMIT_SECONDS)

    def poll(self, job: dict[str, Any]) -> dict[str, Any]:
        deadline = time.monotonic() + JOB_POLL_LIMIT_SECONDS
        while job.get("status") not in TERMINAL and time.monotonic() < deadline:
            with self.client.get(
                f"{self.path}/{job['id']}", name="GET status", catch_response=True
            ) as answer:
                wait = float(answer.headers.get("Retry-After", "1"))
                if answer.status_code == 200:
                    job = answer.json()
                    answer.success()
                elif answer.status_code in (429, 503):
                    answer.success()  # asked to wait: the scenario's point, not an error
                else:
                    answer.failure(f"status answered {answer.status_code}")
                    return job
            if job.get("status") not in TERMINAL:
                time.sleep(wait)
        return job


class StatusPollerUser(XgenUser):
    """Polls jobs the paying users of this process bought."""

    weight = 1

    @task
    def poll_a_job(self) -> None:
        if not known_jobs:
            time.sleep(0.5)
            return
        job_id = random.choice(known_jobs)
        self.client.get(f"{self.path}/{job_id}", name="GET status (poller)")


def _error_of(answer: Any) -> str:
    try:
        return str(answer.json().get("error"))
    except ValueError:
        return answer.text[:120] if answer.text else ""
