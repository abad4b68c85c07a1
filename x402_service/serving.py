"""An ASGI app served by uvicorn in a background thread, on loopback, for as long as needed."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (another process may still take it before it is used)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class ServerError(RuntimeError):
    """The server did not start, or failed while running."""


def closing_event(app: ASGIApp) -> threading.Event | None:
    """The app's `state.closing`, if it has one: set when its server is asked to stop, so that
    responses that never end by themselves (event streams) end before uvicorn waits for them."""
    closing = getattr(getattr(app, "state", None), "closing", None)
    return closing if isinstance(closing, threading.Event) else None


class ServerThread:
    """uvicorn in a daemon thread; `port=0` takes a free port, read back after `start()`."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self._closing = closing_event(app)
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", access_log=False, lifespan="auto"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run, name=f"uvicorn-{host}:{port}", daemon=True
        )
        self._error: BaseException | None = None
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise ServerError(
                    f"server on {self.host}:{self.port} failed to start: {self._error}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError(f"server on {self.host}:{self.port} not started after {timeout}s")
            time.sleep(0.005)
        sockets = [s for server in self._server.servers for s in server.sockets]
        self.port = sockets[0].getsockname()[1]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._closing is not None:
            self._closing.set()
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            raise ServerError(f"server on {self.url} did not stop within {timeout}s")
        if self._error is not None:
            raise ServerError(f"server on {self.url} failed: {self._error!r}") from self._error

    def _run(self) -> None:
        try:
            self._server.run()
        except BaseException as exc:  # reported to the thread that owns the server
            self._error = exc

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def wait_for_interrupt() -> None:
    """Block until Ctrl-C (or SIGTERM, turned into the same by the CLI)."""
    try:
        print("Press Ctrl-C to stop.", flush=True)  # a signal right after it still stops cleanly
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping", flush=True)
