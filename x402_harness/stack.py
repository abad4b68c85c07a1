"""The whole harness started together: chain, facilitator and mock server, on loopback.

    with Stack() as stack:            # ledger, in-process, free ports
        httpx.post(stack.endpoint_url, json={...})

In `processes` mode the facilitator and the server run as `x402-harness` child processes (as in
docker-compose); the chain handle stays in this process unless it is the embedded ledger, which
then lives inside the facilitator process.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from types import TracebackType

from starlette.applications import Starlette

from conformance.target import StackUrls
from facilitator_sim.app import create_app as create_facilitator_app
from facilitator_sim.chains.anvil import AnvilProcess
from facilitator_sim.chains.base import Chain
from facilitator_sim.chains.factory import OpenedChain, open_chain
from facilitator_sim.config import ENV_PREFIX as FACILITATOR_ENV
from facilitator_sim.config import FacilitatorSettings
from facilitator_sim.service import Facilitator
from mock_server.app import create_app as create_server_app
from mock_server.config import ENV_PREFIX as SERVER_ENV
from mock_server.config import ServerSettings
from mock_server.state import ServerState
from x402_core.listing import Listing
from x402_harness.mock_admin import MockAdmin
from x402_harness.processes import ServiceProcess
from x402_service.envconfig import to_env
from x402_service.listings import read_listing
from x402_service.serving import ServerThread, free_port

ADMIN_PATH = "/__mock__"


class StackMode(StrEnum):
    THREADS = "threads"
    """uvicorn in this process."""
    PROCESSES = "processes"
    """`x402-harness facilitator` and `server` as child processes, as in docker-compose."""


class StackError(RuntimeError):
    """The stack was asked for something its configuration does not provide."""


@dataclass(frozen=True)
class StackConfig:
    """What to start. Ports 0 take free ones; the host is loopback."""

    chain: str = "ledger"
    """`ledger`, `anvil`, or the URL of a JSON-RPC node."""
    mode: StackMode = StackMode.THREADS
    """`threads` (uvicorn in this process) or `processes` (child processes)."""
    host: str = "127.0.0.1"
    facilitator_port: int = 0
    server_port: int = 0
    allow_remote_rpc: bool = False
    state_dir: Path | None = None
    """Keep every component's state here across restarts: the chain (the ledger, or Anvil's
    state file), the facilitator's settlement records and the mock's store (unless the server
    settings name another store)."""
    server: ServerSettings = field(default_factory=ServerSettings)
    """Mock server settings; its facilitator_url is filled in by the stack."""
    facilitator: FacilitatorSettings = field(default_factory=FacilitatorSettings)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "mode", StackMode(self.mode))
        except ValueError:
            known = ", ".join(m.value for m in StackMode)
            raise StackError(f"mode is {self.mode!r}; expected one of {known}") from None


@dataclass(frozen=True, slots=True)
class StateFiles:
    """Where `--state DIR` keeps each component's state."""

    facilitator: Path
    """The facilitator's settlement records, and the ledger when the chain is the ledger."""
    anvil: Path
    mock: Path

    @classmethod
    def under(cls, directory: Path) -> StateFiles:
        return cls(
            directory / "facilitator.sqlite",
            directory / "anvil-state.json",
            directory / "mock.sqlite",
        )


class Stack:
    """Starts what its config names and stops all of it on exit, also when start-up fails."""

    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self._opened: OpenedChain | None = None
        self._threads: list[ServerThread] = []
        self._processes: list[ServiceProcess] = []
        self._server_state: ServerState | None = None
        self._facilitator: Facilitator | None = None
        self.facilitator_url = ""
        self.server_url = ""

    @property
    def chain(self) -> Chain:
        if self._opened is None:
            raise StackError(
                "no chain handle here: the stack is not started, or it runs the embedded ledger "
                "inside a facilitator process (use mode 'threads' or chain 'anvil')"
            )
        return self._opened.chain

    @property
    def anvil(self) -> AnvilProcess | None:
        """The Anvil this stack started, if any (fault tests kill it)."""
        return None if self._opened is None else self._opened.anvil

    @property
    def token(self) -> str:
        return self.listing.asset

    @cached_property
    def listing(self) -> Listing:
        return read_listing(self.config.server.listing_path)

    @property
    def pay_to(self) -> str:
        return self.listing.pay_to

    @property
    def endpoint_url(self) -> str:
        return self.server_url + self.listing.path

    @property
    def admin_url(self) -> str:
        return self.server_url + ADMIN_PATH

    @property
    def admin_headers(self) -> dict[str, str]:
        """What a request to the admin API carries: the bearer token, when one is set."""
        return self.urls().admin_headers

    @property
    def admin(self) -> MockAdmin:
        """The mock's admin API; `queue`, `advance_clock`, `set_scenario` and `reset` below
        are its most used calls."""
        return MockAdmin(self.admin_url, self.admin_headers)

    def queue(self, *scenarios: str) -> None:
        """The scenarios of the next paid jobs, in order; MockAdminError names the known ones
        when one is unknown (and none is queued)."""
        self.admin.queue(scenarios)

    def set_scenario(self, name: str) -> None:
        """The scenario of paid jobs when no `X-Mock-Scenario` header names one and none is
        queued."""
        self.admin.set_scenario(name)

    def advance_clock(self, seconds: float) -> float:
        """Moves the mock's test clock (a stack whose server settings say clock 'test')."""
        return self.admin.advance_clock(seconds)

    def reset(self) -> None:
        """The mock as new: no jobs, purchases or journal, no queued scenarios, the default
        scenario of its settings; a test clock catches up with the wall clock."""
        self.admin.reset(purchases=True)

    def urls(self) -> StackUrls:
        """Where everything listens, as conformance runs are handed it."""
        return StackUrls(
            self.server_url,
            self.listing.path,
            self.admin_url,
            self.facilitator_url,
            None if self._opened is None else self._opened.chain.rpc_url,
            self.config.server.admin_token,
        )

    @property
    def processes(self) -> dict[str, ServiceProcess]:
        """The child processes by name (`facilitator`, `server`), in mode `processes`."""
        return {process.name: process for process in self._processes}

    @property
    def server_state(self) -> ServerState:
        """The mock's state (store, journal, clock), in `threads` mode."""
        if self._server_state is None:
            raise StackError("the mock's state is only reachable in-process, in mode 'threads'")
        return self._server_state

    def disagreements(self) -> list[str]:
        """Settlements the facilitator recorded that the chain says never happened (a chain
        restarted without its state), by transaction; in mode 'threads'."""
        if self._facilitator is None:
            return []
        return [record.tx_hash for record in self._facilitator.disagreements()]

    def start(self) -> Stack:
        try:
            if self.config.mode is StackMode.THREADS:
                self._start_threads()
            else:
                self._start_processes()
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def state_files(self) -> StateFiles | None:
        return None if self.config.state_dir is None else StateFiles.under(self.config.state_dir)

    def _open_chain(self) -> OpenedChain:
        config = self.config
        files = self.state_files
        chain_state = None
        if files is not None and config.chain in ("ledger", "anvil"):
            chain_state = files.facilitator if config.chain == "ledger" else files.anvil
        self._opened = open_chain(
            config.chain,
            allow_remote_rpc=config.allow_remote_rpc,
            state_path=chain_state,
            signer_key=config.facilitator.signer_private_key(),
            network=self.listing.network,
        )
        return self._opened

    def _facilitator_settings(self) -> FacilitatorSettings:
        """The facilitator serves the listing's network, and keeps its state where asked."""
        settings = dataclasses.replace(self.config.facilitator, network=self.listing.network.name)
        files = self.state_files
        if files is None:
            return settings
        return dataclasses.replace(settings, state_path=files.facilitator)

    def _server_settings(self) -> ServerSettings:
        # Bound where the stack binds: off loopback the mock then insists on its admin token.
        server = dataclasses.replace(
            self.config.server, facilitator_url=self.facilitator_url, host=self.config.host
        )
        files = self.state_files
        if files is None or server.store != "memory":
            return server
        return dataclasses.replace(server, store=f"sqlite:{files.mock}")

    def _start_threads(self) -> None:
        config = self.config
        opened = self._open_chain()
        facilitator_app = create_facilitator_app(opened.chain, self._facilitator_settings())
        self._facilitator = facilitator_app.state.facilitator
        self.facilitator_url = self._serve(facilitator_app, config.facilitator_port).url
        server_app = create_server_app(self._server_settings())
        self._server_state = server_app.state.mock
        self.server_url = self._serve(server_app, config.server_port).url

    def _start_processes(self) -> None:
        config = self.config
        chain_spec = config.chain
        if chain_spec != "ledger":
            chain_spec = self._open_chain().chain.rpc_url or chain_spec
        host = config.host
        facilitator_port = config.facilitator_port or free_port(host)
        self.facilitator_url = f"http://{host}:{facilitator_port}"
        facilitator_settings = dataclasses.replace(
            self._facilitator_settings(),
            chain=chain_spec,
            host=host,
            port=facilitator_port,
            allow_remote_rpc=config.allow_remote_rpc,
        )
        self._spawn(
            ["facilitator"], to_env(facilitator_settings, FACILITATOR_ENV), self.facilitator_url
        )
        server_port = config.server_port or free_port(host)
        self.server_url = f"http://{host}:{server_port}"
        server_args = ["server", "--host", host, "--port", str(server_port)]
        self._spawn(server_args, to_env(self._server_settings(), SERVER_ENV), self.server_url)

    def _spawn(self, cli_args: list[str], env: dict[str, str], url: str) -> None:
        process = ServiceProcess(cli_args[0], cli_args, env)
        self._processes.append(process)
        process.start(f"{url}/health")

    def stop(self) -> None:
        errors: list[BaseException] = []
        stoppables: list[ServerThread | ServiceProcess] = [
            *reversed(self._threads),
            *reversed(self._processes),
        ]
        for stoppable in stoppables:
            try:
                stoppable.stop()
            except Exception as exc:  # stop everything, then report
                errors.append(exc)
        self._threads.clear()
        self._processes.clear()
        if self._opened is not None:
            self._opened.close()
            self._opened = None
        if errors:
            raise errors[0]

    def _serve(self, app: Starlette, port: int) -> ServerThread:
        server = ServerThread(app, self.config.host, port)
        self._threads.append(server)
        return server.start()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
