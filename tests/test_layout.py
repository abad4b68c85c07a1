"""The layout of ARCHITECTURE.md: each package imports only what its row allows, x402_core is
pure (no web framework, HTTP client or file I/O), and Locust stays inside loadtests."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
OURS = (
    "x402_core",
    "x402_payer",
    "x402_service",
    "facilitator_sim",
    "mock_server",
    "conformance",
    "loadtests",
    "x402_harness",
)
MAY_IMPORT = {
    "x402_core": {"x402_core"},
    "x402_payer": {"x402_core", "x402_payer"},
    "x402_service": {"x402_core", "x402_service"},
    "facilitator_sim": {"x402_core", "x402_service", "facilitator_sim"},
    "mock_server": {"x402_core", "x402_service", "mock_server"},
    "conformance": {"x402_core", "x402_payer", "conformance"},
    "loadtests": {"x402_core", "x402_payer", "loadtests"},
    "x402_harness": set(OURS),
    "bench": set(OURS) | {"bench"},
}
IMPURE = {
    "starlette", "fastapi", "uvicorn", "httpx", "aiohttp", "requests", "urllib3", "web3",
    "sqlite3", "socket", "subprocess", "locust", "respx",
}  # fmt: skip
FILE_CALLS = {"open", "read_text", "write_text", "read_bytes", "write_bytes", "unlink", "mkdir"}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_each_package_imports_only_what_its_row_allows(package: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _modules(package)
        for line, name in _imports(path)
        if name.split(".")[0] in (*OURS, "tests", "bench")
        and name.split(".")[0] not in MAY_IMPORT[package]
    ]
    assert wrong == []


def test_x402_core_is_pure() -> None:
    wrong = []
    for path in _modules("x402_core"):
        for line, name in _imports(path):
            if name.split(".")[0] in IMPURE:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else None
                called = called or (node.func.id if isinstance(node.func, ast.Name) else None)
                if called in FILE_CALLS:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {called}")
    assert wrong == []


LOCUST_SIDE = {ROOT / "loadtests" / "locustfile.py", ROOT / "loadtests" / "reporting.py"}
"""Where Locust runs: the locustfile and the module it reports through."""


def test_locust_is_imported_only_where_it_runs() -> None:
    """Locust patches the interpreter with gevent when imported."""
    wrong = [
        f"{path.relative_to(ROOT)}:{line}"
        for package in OURS
        for path in _modules(package)
        if path not in LOCUST_SIDE
        for line, name in _imports(path)
        if name.split(".")[0] in ("locust", "gevent")
    ]
    assert wrong == []


def test_every_package_is_in_the_table() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert packages <= set(MAY_IMPORT)
