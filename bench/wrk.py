"""wrk sending a list of distinct requests, and proof that it did.

The requests are written to a file that the Lua script reads when each wrk thread starts: a Lua
table literal of tens of thousands of requests exceeds LuaJIT's constant limit, and Debian's wrk
then silently sends plain GETs. The script reports how many requests it loaded and sent and how
many answers were unexpected; a run without that report, or with other counts, fails loudly.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

Request = tuple[str, bytes, dict[str, str]]
"""(method, body, headers)."""
REPORT = re.compile(r"^x402-bench: loaded (\d+), sent (\d+), unexpected (\d+)$", re.MULTILINE)
COMPLETED = re.compile(r"(\d+) requests in ")
RATE = re.compile(r"Requests/sec:\s+([\d.]+)")

SCRIPT = """
local path = %(path)s
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  pool, loaded, sent, unexpected = {}, 0, 0, 0
  local file = assert(io.open(path, "rb"))
  while true do
    local size = file:read("*l")
    if not size then break end
    pool[#pool + 1] = file:read(tonumber(size))
  end
  file:close()
  loaded = #pool
end

function request()
  sent = sent + 1
  return pool[(sent - 1) %% loaded + 1]
end

%(response)s
function done(summary, latency, requests)
  local loaded, sent, unexpected = 0, 0, 0
  for _, thread in ipairs(threads) do
    loaded = loaded + thread:get("loaded")
    sent = sent + thread:get("sent")
    unexpected = unexpected + thread:get("unexpected")
  end
  io.write(string.format("x402-bench: loaded %%d, sent %%d, unexpected %%d\\n",
    loaded, sent, unexpected))
end
"""


EXPECT = """
function response(status, headers, body)
  if status ~= %(status)d then unexpected = unexpected + 1 end
end
"""
NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")


class WrkScriptError(RuntimeError):
    """wrk did not run the script as written: what it measured is not what was asked."""


@dataclass(frozen=True, slots=True)
class WrkReport:
    rate: float
    """Requests per second, as wrk counts them."""
    completed: int
    loaded: int
    """Requests the script read, summed over wrk's threads."""
    sent: int
    unexpected: int
    """Answers other than the one status code expected (0 when 2xx are expected)."""
    non_2xx: int
    """Answers wrk itself counted as neither 2xx nor 3xx."""


def raw_request(url: str, method: str, body: bytes, headers: dict[str, str]) -> bytes:
    """The bytes of one HTTP/1.1 request to `url`, as wrk.format would build them."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def write_requests(path: Path, url: str, requests: list[Request]) -> None:
    """Each request as its length on a line, then its bytes: what the script reads."""
    with path.open("wb") as file:
        for method, body, headers in requests:
            raw = raw_request(url, method, body, headers)
            file.write(b"%d\n" % len(raw) + raw)


def lua_script(requests_path: Path, expect: str = "2xx") -> str:
    """The script: `expect` is `2xx` (wrk counts other answers itself, and a Lua `response`
    function would slow wrk down) or one status code (`402`), counted by the script."""
    response = "" if expect == "2xx" else EXPECT % {"status": int(expect)}
    path = '"' + str(requests_path).replace("\\", "\\\\").replace('"', '\\"') + '"'
    return SCRIPT % {"path": path, "response": response}


def run_wrk(url: str, script: str, seconds: int, connections: int) -> str:
    """wrk's output for one thread and `connections` connections running `script`."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: `make bench` installs it (apt-get install wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as file:
        file.write(script)
        file.flush()
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", file.name, url]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 120, check=False
        )
    if done.returncode != 0:
        raise WrkScriptError(f"wrk exited {done.returncode}: {done.stderr or done.stdout}")
    return done.stdout + done.stderr


def parse_report(output: str) -> WrkReport:
    """The script's report and wrk's counts; WrkScriptError when the script did not report."""
    report, completed, rate = REPORT.search(output), COMPLETED.search(output), RATE.search(output)
    if report is None or completed is None or rate is None:
        raise WrkScriptError(
            "wrk did not run its Lua script (no 'x402-bench:' report), so it did not send the "
            f"requests it was given; its output:\n{output}"
        )
    loaded, sent, unexpected = (int(n) for n in report.groups())
    non_2xx = NON_2XX.search(output)
    return WrkReport(
        float(rate[1]),
        int(completed[1]),
        loaded,
        sent,
        unexpected,
        int(non_2xx[1]) if non_2xx else 0,
    )


def wrk_rate(
    url: str, requests: list[Request], seconds: int, connections: int, expect: str = "2xx"
) -> float:
    """Requests per second that wrk (one thread) gets sending `requests` in turn. Distinct
    requests where it matters: the facilitator caches signature recovery, so one repeated
    payment would measure the cache."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "requests.bin"
        write_requests(path, url, requests)
        report = parse_report(run_wrk(url, lua_script(path, expect), seconds, connections))
    if report.loaded != len(requests):
        raise WrkScriptError(f"the script loaded {report.loaded} of {len(requests)} requests")
    if report.sent < report.completed:
        raise WrkScriptError(
            f"wrk completed {report.completed} requests but the script built {report.sent}"
        )
    unexpected = report.non_2xx if expect == "2xx" else report.unexpected
    if unexpected:
        raise RuntimeError(
            f"{unexpected} of {report.completed} answers were not {expect} during the run"
        )
    return report.rate
