"""Start and stop a local Anvil node (Foundry's dev chain) for the EVM backend and its tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx

from x402_service.children import die_with_parent

_REAL_BINARY = Path("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
_NODE_WRAPPER = Path("node_modules/.bin/anvil")
_PORT_ATTEMPTS = 5
_ADDRESS_IN_USE = "Address already in use"


class AnvilNotFoundError(FileNotFoundError):
    """No Anvil binary where this module looks for one."""


class AnvilStartError(RuntimeError):
    """Anvil exited or did not answer JSON-RPC before its start-up deadline."""


def _ancestors(start: Path) -> Iterator[Path]:
    start = start.resolve()
    yield start
    yield from start.parents


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_anvil(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The Anvil binary: `explicit`, `$ANVIL_BIN`, the project's node_modules, then `$PATH`."""
    for origin, value in (("the anvil_bin argument", explicit), ("ANVIL_BIN", _env_anvil_bin())):
        if value is None:
            continue
        path = Path(value).expanduser()
        if not _is_executable(path):
            # A path someone chose must not silently fall back to another Anvil.
            raise AnvilNotFoundError(
                f"{origin} points at {path}, which is not an executable file; fix it or unset it "
                f"to use the project's Anvil (`npm install` in the project installs it)"
            )
        return path
    searched: list[Path] = []
    for start in (Path.cwd(), Path(__file__).parent):
        for directory in _ancestors(start):
            for candidate in (directory / _REAL_BINARY, directory / _NODE_WRAPPER):
                if _is_executable(candidate):
                    return candidate
                searched.append(candidate)
    on_path = shutil.which("anvil")
    if on_path is not None:
        return Path(on_path)
    places = "\n  ".join(str(p) for p in dict.fromkeys(searched))
    raise AnvilNotFoundError(
        "Anvil (Foundry's local chain) was not found. Looked at: the anvil_bin argument, the "
        f"ANVIL_BIN environment variable, these paths:\n  {places}\nand `anvil` on PATH. "
        "Run `npm install` in the project directory (package.json pins @foundry-rs/anvil), "
        "or set ANVIL_BIN to an Anvil binary."
    )


def _env_anvil_bin() -> str | None:
    return os.environ.get("ANVIL_BIN") or None


def _claim_port(host: str, port: int) -> int:
    """`port` (0: any) if nothing listens on it now, checked by binding it briefly.

    Anvil must not find the port taken: readiness is judged by `eth_chainId` answering there, and
    another node on that port would answer for it. A racer can still take the port before Anvil
    binds it; Anvil then exits with "Address already in use" and `start` retries.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As servers do: a port whose old connections linger in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise AnvilStartError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        claimed: int = probe.getsockname()[1]
        return claimed


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class AnvilProcess:
    """A running Anvil child process, its RPC URL, and how to stop it."""

    def __init__(self, process: subprocess.Popen[bytes], log: IO[bytes], host: str, port: int):
        self._process = process
        self._log = log
        self.host = host
        self.port = port
        self.rpc_url = f"http://{_url_host(host)}:{port}"

    @property
    def pid(self) -> int:
        return self._process.pid

    @classmethod
    def start(
        cls,
        *,
        binary: str | os.PathLike[str] | None = None,
        chain_id: int = 8453,
        port: int | None = None,
        host: str = "127.0.0.1",
        fork_url: str | None = None,
        state_path: str | os.PathLike[str] | None = None,
        block_time: float | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 20.0,
    ) -> AnvilProcess:
        """Start Anvil and return once it answers `eth_chainId`; `port=None` picks a free one."""
        executable = find_anvil(binary)
        # Past a few blocks Anvil writes every historical state to ~/.foundry/anvil/tmp (hundreds
        # of KB each, GBs per load test) and leaves it there on exit; 0 keeps them in memory only.
        options = ["--silent", "--host", host, "--chain-id", str(chain_id)]
        options += ["--max-persisted-states", "0"]
        if fork_url is not None:
            # Anvil caches forked storage under ~/.foundry/cache/rpc/<chain>/<block>: two local
            # chains with the same chain id and height would read each other's balances.
            options += ["--fork-url", fork_url, "--no-storage-caching"]
        if state_path is not None:
            # Anvil's own state file: loaded when it exists, dumped on exit.
            options += ["--state", os.fspath(state_path)]
        if block_time is not None:
            options += ["--block-time", str(block_time)]
        options += list(extra_args)
        # `--port 0` works, but Anvil only prints the port it got when not --silent, and then it
        # logs every request; choosing the port here keeps it silent.
        attempts_left = 1 if port is not None else _PORT_ATTEMPTS
        while True:
            chosen = _claim_port(host, port or 0)
            argv = [os.fspath(executable), *options, "--port", str(chosen)]
            anvil = cls._spawn(argv, host, chosen)
            try:
                anvil._wait_ready(chain_id, startup_timeout)
                return anvil
            except BaseException as exc:
                anvil.stop()
                attempts_left -= 1
                if _ADDRESS_IN_USE not in str(exc) or attempts_left == 0:
                    raise

    @classmethod
    def _spawn(cls, argv: list[str], host: str, port: int) -> AnvilProcess:
        # A file, not a pipe: nobody reads Anvil's output while it runs, and a full pipe blocks it.
        # It lives as long as the process; stop() closes it.
        log = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group, so stop() also reaches the real binary when `argv[0]` is
                # node_modules/.bin/anvil (a node wrapper that spawns it).
                start_new_session=True,
                preexec_fn=die_with_parent(),  # also when this process is SIGKILLed
            )
        except BaseException:
            log.close()
            raise
        return cls(process, log, host, port)

    def _wait_ready(self, chain_id: int, timeout: float) -> None:
        """Poll `eth_chainId` until it answers `chain_id`; raise with Anvil's output otherwise."""
        deadline = time.monotonic() + timeout
        request = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        with httpx.Client(timeout=1.0) as client:
            while True:
                if self._process.poll() is not None:
                    raise AnvilStartError(
                        f"anvil exited with code {self._process.returncode} before answering "
                        f"on {self.rpc_url}: {self.output().strip() or '(no output)'}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    answer = client.post(self.rpc_url, json=request).json()
                    if int(answer["result"], 16) != chain_id:
                        raise AnvilStartError(
                            f"{self.rpc_url} answered chain id {int(answer['result'], 16)}, "
                            f"not {chain_id}: another node holds the port?"
                        )
                    return
                if time.monotonic() >= deadline:
                    raise AnvilStartError(
                        f"anvil did not answer on {self.rpc_url} within {timeout:.0f} s: "
                        f"{self.output().strip() or '(no output)'}"
                    )
                time.sleep(0.02)

    def output(self) -> str:
        """What Anvil printed so far (with --silent: only errors)."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the process group (Anvil dumps `--state` then), SIGKILL if it lingers."""
        if self._process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self._process.wait(timeout)
        if not self._log.closed:
            self._log.close()

    def kill(self) -> None:
        """SIGKILL: Anvil dies at once and writes no state (a crash, for fault tests)."""
        self._signal(signal.SIGKILL)
        self._process.wait(5)
        if not self._log.closed:
            self._log.close()

    def _signal(self, signum: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signum)

    def __enter__(self) -> AnvilProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"AnvilProcess(pid={self.pid}, rpc_url={self.rpc_url!r})"
