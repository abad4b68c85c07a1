"""The whole harness started together: chain, facilitator and mock server, on loopback.

with Stack() as stack:            # ledger, in-process, free ports
    httpx.post(stack.endpoint_url, json={...})
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import TracebackType

from starlette.applications import Starlette

from facilitator_sim.app import create_app as create_facilitator_app
from facilitator_sim.chains.base import Chain
from facilitator_sim.chains.factory import OpenedChain, open_chain
from facilitator_sim.config import FacilitatorSettings
from mock_server.app import create_app as create_server_app
from mock_server.config import ServerSettings
from mock_server.state import ServerState
from x402_harness.servers import ServerThread

ENDPOINT_PATH = "/v1/images/generate"
ADMIN_PATH = "/__mock__"


@dataclass(frozen=True)
class StackConfig:
    """What to start. Ports 0 take free ones; the host is loopback."""

    chain: str = "ledger"
    """`ledger`, `anvil`, or the URL of a JSON-RPC node."""
    host: str = "127.0.0.1"
    facilitator_port: int = 0
    server_port: int = 0
    allow_remote_rpc: bool = False
    anvil_state_path: str | None = None
    """Anvil's own state file: chain state survives a restart."""
    server: ServerSettings = field(default_factory=ServerSettings)
    """Mock server settings; its facilitator_url is filled in by the stack."""
    facilitator: FacilitatorSettings = field(default_factory=FacilitatorSettings)


class Stack:
    """Starts what its config names and stops all of it on exit, also when start-up fails."""

    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self._opened: OpenedChain | None = None
        self._servers: list[ServerThread] = []
        self._server_state: ServerState | None = None
        self.facilitator_url = ""
        self.server_url = ""

    @property
    def chain(self) -> Chain:
        if self._opened is None:
            raise RuntimeError("the stack is not started")
        return self._opened.chain

    @property
    def token(self) -> str:
        if self._opened is None:
            raise RuntimeError("the stack is not started")
        return self._opened.token

    @property
    def endpoint_url(self) -> str:
        return self.server_url + ENDPOINT_PATH

    @property
    def admin_url(self) -> str:
        return self.server_url + ADMIN_PATH

    @property
    def server_state(self) -> ServerState:
        """The mock's state (store, journal, clock), for in-process inspection."""
        if self._server_state is None:
            raise RuntimeError("the stack is not started")
        return self._server_state

    @property
    def pay_to(self) -> str:
        return self.server_state.listing.pay_to

    def start(self) -> Stack:
        config = self.config
        try:
            self._opened = open_chain(
                config.chain,
                allow_remote_rpc=config.allow_remote_rpc,
                state_path=config.anvil_state_path,
            )
            facilitator_app = create_facilitator_app(self._opened.chain, config.facilitator)
            facilitator = self._serve(facilitator_app, config.facilitator_port)
            self.facilitator_url = facilitator.url
            server_settings = dataclasses.replace(config.server, facilitator_url=facilitator.url)
            server_app = create_server_app(server_settings)
            self._server_state = server_app.state.mock
            self.server_url = self._serve(server_app, config.server_port).url
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        errors: list[BaseException] = []
        for server in reversed(self._servers):
            try:
                server.stop()
            except Exception as exc:  # stop everything, then report
                errors.append(exc)
        self._servers.clear()
        if self._opened is not None:
            self._opened.close()
            self._opened = None
        if errors:
            raise errors[0]

    def _serve(self, app: Starlette, port: int) -> ServerThread:
        server = ServerThread(app, self.config.host, port)
        self._servers.append(server)
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
