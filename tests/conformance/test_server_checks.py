"""The server checks pass on the mock (ledger and Anvil) and catch every broken server."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from conformance.catalog import Level, Outcome, Role, load_all
from conformance.report import Report
from conformance.server import grade_server
from conformance.server.fault_trials import FAULTS
from facilitator_sim.app import create_app as create_facilitator
from facilitator_sim.chains.factory import fund_test_wallets, open_chain
from facilitator_sim.faults import FacilitatorFault
from mock_server.app import create_app as create_mock
from mock_server.config import ServerSettings
from tests.conformance import broken_servers as broken
from tests.conformance.sdk_server import create_sdk_server_app
from x402_core.xgen import XGEN_INDEX_ENTRY, xgen_listing
from x402_harness.cli import main
from x402_harness.stack import Stack, StackConfig
from x402_service.serving import ServerThread

QUICK = {"X-Mock-Scenario": "quick"}
LISTING = xgen_listing()
FAULT_CHECKS = ("SRV-032", "SRV-033", "SRV-034")
FACILITATOR_TIMEOUT = 1.0
"""The mock's timeout on facilitator calls when graded under faults: the timeout fault holds
its answer longer than this, and the slow fault stays well below it."""
UNDER_FAULTS = {"fault_hold": FACILITATOR_TIMEOUT, "fault_slow": 0.2}


@dataclass(frozen=True)
class Variant:
    rewrite: Callable[[], broken.AnswerRewrite | None] = lambda: None
    on_request: broken.RequestRewrite | None = None
    listing_changes: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=lambda: dict(QUICK))
    versions: frozenset[int] = frozenset({1, 2})
    fails: frozenset[str] = frozenset()
    under_faults: bool = False
    """Graded on the fault checks alone, with the facilitator's admin API."""


def _v(*fails: str, **kwargs: Any) -> Variant:
    return Variant(fails=frozenset(fails), **kwargs)


REFUSALS = ("SRV-014", "SRV-015", "SRV-016")
PAID_FLOW = ("SRV-012", *REFUSALS, "SRV-017", "SRV-018", "SRV-019", "SRV-020", "SRV-021")
PAID_FLOW += ("SRV-022",)  # an offer no payment can honour: every paid check fails
VARIANTS: dict[str, Variant] = {
    "unpaid answered 401": _v("SRV-001", rewrite=lambda: broken.unpaid_is_401),
    "PAYMENT-REQUIRED not base64": _v("SRV-002", rewrite=lambda: broken.garble_offer_header),
    "offers v2 only": _v("SRV-003", versions=frozenset({2})),
    "offers v1 only (not broken)": _v(versions=frozenset({1})),
    "price differs from the listing": _v(
        "SRV-004", listing_changes={"max_amount_required_atomic": "60000"}
    ),
    "payTo differs from the listing": _v(
        "SRV-006", listing_changes={"pay_to": "0x000000000000000000000000000000000000b0b0"}
    ),
    "maxTimeoutSeconds differs from the listing": _v(
        "SRV-008", listing_changes={"max_timeout_seconds": 120}
    ),
    "asset rewritten in the offer": _v(
        "SRV-005", *PAID_FLOW, rewrite=lambda: broken.OFFER_REWRITES["asset rewritten"]
    ),
    "network rewritten in the offer": _v(
        "SRV-007",
        *PAID_FLOW,
        rewrite=lambda: broken.OFFER_REWRITES["network rewritten"],
    ),
    "extra missing from the offer": _v(
        "SRV-009", *PAID_FLOW, rewrite=lambda: broken.OFFER_REWRITES["extra missing"]
    ),
    "v1 offer without mimeType and outputSchema": _v(
        "SRV-010", rewrite=lambda: broken.v1_body_undescribed
    ),
    "asks payment before validating": _v("SRV-011", rewrite=lambda: broken.invalid_body_gets_402),
    "charges for an invalid body": _v(
        "SRV-012",
        rewrite=lambda: broken.answer_400_after_charging,
        on_request=broken.settle_despite_invalid_body,
    ),
    "402 for a malformed header": _v("SRV-013", rewrite=lambda: broken.malformed_header_gets_402),
    "a refusal creates a job": _v(*REFUSALS, "SRV-017", rewrite=lambda: broken.refusal_creates_job),
    "refusals read as unpaid": _v(
        *REFUSALS, "SRV-017", rewrite=lambda: broken.refusal_reads_as_unpaid
    ),
    "refusals without a reason": _v("SRV-017", rewrite=lambda: broken.refusal_without_reason),
    "no job id in the paid answer": _v("SRV-018", "SRV-021", rewrite=lambda: broken.drop_job_id),
    "no PAYMENT-RESPONSE": _v("SRV-019", rewrite=lambda: broken.strip_header("payment-response")),
    "no X-PAYMENT-RESPONSE": _v(
        "SRV-020", rewrite=lambda: broken.strip_header("x-payment-response")
    ),
    "no Location": _v("SRV-021", rewrite=lambda: broken.drop_location),
    "replay bought again": _v("SRV-022", rewrite=broken.ReplayRefused),
    "an unknown status word": _v("SRV-023", rewrite=lambda: broken.processing_is_running),
    "a terminal status reopens": _v("SRV-024", rewrite=broken.TerminalReopens),
    "no Retry-After while running": _v("SRV-025", rewrite=lambda: broken.no_retry_after),
    "status answers without the request's fields": _v(
        "SRV-026", rewrite=lambda: broken.drop_status_fields
    ),
    "images are not PNGs": _v("SRV-027", rewrite=lambda: broken.images_are_not_png),
    "500 for an unknown id": _v("SRV-028", rewrite=lambda: broken.unknown_id_is_500),
    "a failed job without its error": _v(
        "SRV-029", rewrite=lambda: broken.failure_without_error, headers={"X-Mock-Scenario": "fail"}
    ),
    "PAYMENT-REQUIRED of 10 KB": _v("SRV-030", rewrite=lambda: broken.oversize_offer_header(10)),
    "PAYMENT-REQUIRED of 20 KB": _v(
        "SRV-030", "SRV-031", rewrite=lambda: broken.oversize_offer_header(20)
    ),
    "the mock under facilitator faults (not broken)": _v(under_faults=True),
    "an unknown settle outcome answered 402": _v(
        "SRV-033", rewrite=lambda: broken.pending_as_refusal, under_faults=True
    ),
    "a job served although the settle failed": _v(
        "SRV-032", "SRV-034", rewrite=lambda: broken.serves_unsettled, under_faults=True
    ),
    "a settled payment forgotten": _v(
        "SRV-033", "SRV-034", rewrite=broken.ForgetsSettledPayments, under_faults=True
    ),
}


@pytest.fixture(scope="module")
def facilitator_url() -> Iterator[str]:
    with open_chain("ledger") as opened:
        fund_test_wallets(opened.chain)
        with ServerThread(create_facilitator(opened.chain)) as server:
            yield server.url


def _listing_file(tmp_path: Path, changes: dict[str, Any]) -> Path:
    data = copy.deepcopy(XGEN_INDEX_ENTRY)
    data["accepts"][0].update(changes)
    path = tmp_path / "listing.json"
    path.write_text(json.dumps(data))
    return path


def _grade_variant(variant: Variant, facilitator_url: str, tmp_path: Path) -> Report:
    listing = _listing_file(tmp_path, variant.listing_changes) if variant.listing_changes else None
    settings = ServerSettings(
        facilitator_url=facilitator_url,
        versions=variant.versions,
        facilitator_timeout=FACILITATOR_TIMEOUT,
        **({"listing_path": listing} if listing else {}),
    )
    app: Any = create_mock(settings)
    rewrite = variant.rewrite()
    if rewrite is not None or variant.on_request is not None:
        app = broken.Rewrite(app, rewrite, variant.on_request)
    faults: dict[str, Any] = {}
    if variant.under_faults:
        faults = {"only": FAULT_CHECKS, "facilitator_admin": facilitator_url, **UNDER_FAULTS}
    with ServerThread(app) as server:
        return grade_server(
            server.url + LISTING.path, LISTING, headers=variant.headers, poll_timeout=15, **faults
        )


def test_there_are_at_least_twenty_server_checks() -> None:
    assert len(load_all().checks(Role.SERVER)) >= 20


@pytest.mark.parametrize("chain", ["ledger", pytest.param("anvil", marks=pytest.mark.anvil)])
def test_the_mock_passes_every_server_check(chain: str) -> None:
    server = ServerSettings(facilitator_timeout=FACILITATOR_TIMEOUT)
    with Stack(StackConfig(chain=chain, server=server)) as stack:
        report = grade_server(
            stack.endpoint_url,
            stack.listing,
            rpc_url=stack.chain.rpc_url,
            headers=QUICK,
            facilitator_admin=stack.facilitator_url,
            **UNDER_FAULTS,
        )
    assert report.failed_ids() == set()
    assert report.errors() == []
    assert {r.check.id for r in report.results if r.outcome is Outcome.NOT_APPLICABLE} == {
        "SRV-029"
    }


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_each_broken_server_fails_exactly_its_checks(
    name: str, facilitator_url: str, tmp_path: Path
) -> None:
    variant = VARIANTS[name]
    report = _grade_variant(variant, facilitator_url, tmp_path)
    assert report.failed_ids() == variant.fails
    assert report.errors() == []


def test_every_check_is_caught_by_some_broken_server() -> None:
    caught = set().union(*(v.fails for v in VARIANTS.values()))
    assert {c.id for c in load_all().checks(Role.SERVER)} <= caught


def test_a_v1_only_server_is_paid_in_v1(facilitator_url: str, tmp_path: Path) -> None:
    report = _grade_variant(VARIANTS["offers v1 only (not broken)"], facilitator_url, tmp_path)
    refused = report.result("SRV-014").verdict.evidence.as_dict()
    assert "X-PAYMENT" in str(refused["sent"])
    assert "PAYMENT-SIGNATURE" not in str(refused["sent"])
    assert report.result("SRV-002").outcome is Outcome.NOT_APPLICABLE


def test_a_server_without_status_routes_says_so_at_once(
    facilitator_url: str, tmp_path: Path
) -> None:
    variant = _v(rewrite=lambda: broken.no_status_route)
    report = _grade_variant(variant, facilitator_url, tmp_path)
    job_checks = {"SRV-023", "SRV-024", "SRV-025", "SRV-026", "SRV-027", "SRV-028", "SRV-029"}
    not_applicable = {r.check.id for r in report.results if r.outcome is Outcome.NOT_APPLICABLE}
    assert job_checks <= not_applicable
    assert "no status route" in report.result("SRV-023").verdict.evidence.note
    assert report.result("SRV-023").seconds < 5  # said at the first poll, not at the deadline


def test_command_line_refuses_bad_headers_and_remote_targets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["conformance", "server", "http://127.0.0.1:1/x", "--header", "nocolon"])
    assert exited.value.code == 2
    assert main(["conformance", "server", "http://198.51.100.7/v1/images/generate"]) == 2
    assert "not on loopback" in capsys.readouterr().out
    assert main(["conformance", "server", "http://127.0.0.1:9/v1/images/generate"]) == 2
    assert "nothing answers at http://127.0.0.1:9" in capsys.readouterr().out


def test_a_url_that_is_no_paid_endpoint_is_one_error(capsys: pytest.CaptureFixture[str]) -> None:
    with Stack() as stack:
        code = main(["conformance", "server", stack.facilitator_url + "/supported"])
    out = capsys.readouterr().out
    assert code == 2
    assert "no x402 offer here" in out
    assert "SRV-" not in out


def test_the_x402_profile_grades_a_server_by_the_spec_alone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with Stack() as stack:
        code = main(
            [
                "conformance",
                "server",
                stack.endpoint_url,
                "--profile",
                "x402",
                "--header",
                "X-Mock-Scenario:quick",
                "--json",
                "/dev/stdout",
            ]
        )
    out = capsys.readouterr().out
    assert code == 0
    assert "SRV-001" in out
    assert "SRV-004" not in out  # the listing's price is xgen's rule


def test_the_trials_cover_every_facilitator_fault() -> None:
    assert set(FAULTS) == {f.value for f in FacilitatorFault}


def test_without_the_facilitator_admin_the_fault_checks_do_not_apply(facilitator_url: str) -> None:
    with ServerThread(create_mock(ServerSettings(facilitator_url=facilitator_url))) as server:
        report = grade_server(server.url + LISTING.path, LISTING, only=FAULT_CHECKS)
    assert {r.outcome for r in report.results} == {Outcome.NOT_APPLICABLE}
    assert "--facilitator-admin" in report.result("SRV-032").verdict.evidence.note


def test_a_facilitator_the_server_does_not_use_is_an_error(facilitator_url: str) -> None:
    """Faults armed on a facilitator the server never calls prove nothing: no verdict."""
    mock = create_mock(ServerSettings(facilitator_url=facilitator_url))
    with (
        open_chain("ledger") as opened,
        ServerThread(create_facilitator(opened.chain)) as other,
        ServerThread(mock) as server,
    ):
        report = grade_server(
            server.url + LISTING.path,
            LISTING,
            headers=QUICK,
            only=FAULT_CHECKS,
            facilitator_admin=other.url,
            **UNDER_FAULTS,
        )
    assert {r.check.id for r in report.errors()} == set(FAULT_CHECKS)
    assert "never saw these payments" in report.result("SRV-033").verdict.evidence.note


def test_a_fault_api_that_fails_is_an_error_once(facilitator_url: str) -> None:
    """A fault API that lists faults but cannot arm one: the trials stop at the first fault,
    are not run again for each check, and no check passes."""
    armed: list[str] = []

    async def faults(request: Request) -> JSONResponse:
        if request.method == "POST":
            armed.append((await request.body()).decode())
            return JSONResponse({"error": "broken"}, 500)
        return JSONResponse({"armed": [], "applied": []})

    async def journal(request: Request) -> JSONResponse:
        return JSONResponse({"entries": []})

    stub = Starlette(
        routes=[
            Route("/__facilitator__/faults", faults, methods=["GET", "POST", "DELETE"]),
            Route("/journal", journal),
        ]
    )
    mock = create_mock(ServerSettings(facilitator_url=facilitator_url))
    with ServerThread(stub) as admin, ServerThread(mock) as server:
        report = grade_server(
            server.url + LISTING.path, LISTING, only=FAULT_CHECKS, facilitator_admin=admin.url
        )
    assert {r.check.id for r in report.errors()} == set(FAULT_CHECKS)
    assert "500" in report.result("SRV-034").verdict.evidence.note
    assert len(armed) == 1


def test_command_line_grades_the_mock_under_faults(capsys: pytest.CaptureFixture[str]) -> None:
    server = ServerSettings(facilitator_timeout=FACILITATOR_TIMEOUT)
    with Stack(StackConfig(server=server)) as stack:
        code = main(
            [
                "conformance",
                "server",
                stack.endpoint_url,
                "--header",
                "X-Mock-Scenario:quick",
                "--facilitator-admin",
                stack.facilitator_url + "/__facilitator__",
                "--fault-hold",
                str(FACILITATOR_TIMEOUT),
                "--fault-slow",
                "0.2",
                "--only",
                "SRV-001",
                "SRV-018",
                *FAULT_CHECKS,
            ]
        )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "MUST: 4 passed, 0 failed" in out
    assert "SHOULD: 1 passed, 0 failed" in out


def test_command_line_refuses_a_url_without_a_fault_api(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with Stack() as stack:
        code = main(
            ["conformance", "server", stack.endpoint_url, "--facilitator-admin", stack.server_url]
        )
    out = capsys.readouterr().out
    assert code == 2
    assert "no facilitator fault API at" in out
    assert "SRV-" not in out
    for seconds in ("0", "601", "soon"):
        with pytest.raises(SystemExit) as exited:
            main(["conformance", "server", "http://127.0.0.1:1/x", "--fault-hold", seconds])
        assert exited.value.code == 2
    assert "not a number of seconds" in capsys.readouterr().err


JOB_CHECKS = {
    "SRV-021",
    "SRV-023",
    "SRV-024",
    "SRV-025",
    "SRV-026",
    "SRV-027",
    "SRV-028",
    "SRV-029",
}
"""They grade the stand-in endpoint behind the SDK's middleware, not the middleware."""
SDK_SERVER_DEPARTURES = {
    "SRV-003": "its 402 body is {}: v1 clients find no offer",
    "SRV-011": "the middleware asks for payment before the route can validate the body",
    "SRV-013": "a malformed payment header is answered 402, not transports-v2's 400",
    "SRV-022": "it keeps no record of purchases: a re-sent payment is refused, its job lost",
}


def test_the_official_python_sdk_middleware_fails_no_must(facilitator_url: str) -> None:
    """The SDK's FastAPI middleware, graded by every check but the stand-in's job checks: no
    MUST fails; its SHOULD failures are its documented departures."""
    with ServerThread(create_sdk_server_app(facilitator_url, LISTING)) as server:
        checks = [c.id for c in load_all().checks(Role.SERVER) if c.id not in JOB_CHECKS]
        report = grade_server(server.url + LISTING.path, LISTING, only=checks)
    assert report.failed_ids(Level.MUST) == set()
    assert report.failed_ids() == set(SDK_SERVER_DEPARTURES)
    assert report.errors() == []
    assert report.result("SRV-013").verdict.evidence.note == "answered [402]"


def test_the_official_python_sdk_middleware_denies_charges_under_faults(
    facilitator_url: str,
) -> None:
    """A departure docs/conformance-results.md records: when a settle's outcome is unknown to
    it, the SDK's middleware answers 402 although the money moved, and then refuses the same
    payment as a used nonce. It serves a job only after a settlement it was told of."""
    app = create_sdk_server_app(facilitator_url, LISTING, facilitator_timeout=FACILITATOR_TIMEOUT)
    with ServerThread(app) as server:
        report = grade_server(
            server.url + LISTING.path,
            LISTING,
            only=FAULT_CHECKS,
            facilitator_admin=facilitator_url,
            **UNDER_FAULTS,
        )
    assert report.failed_ids() == {"SRV-033", "SRV-034"}
    assert report.errors() == []
    denied = report.result("SRV-033").verdict.evidence.note
    assert "answer 1 is a 402 (payment failed)" in denied
