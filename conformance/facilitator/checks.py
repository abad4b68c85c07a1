"""The facilitator checks: `/supported`, valid payments, at-most-once settlement, and a refusal
with the expected reason for every tampered payment (`vectors.py`)."""

from __future__ import annotations

import re
import time
from typing import Any

from conformance.catalog import Level, Verdict, catalog, failed, not_applicable, passed
from conformance.facilitator.payloads import PAY_TO, PRICE, authorization, verify_body
from conformance.facilitator.probe import Exchange, FacilitatorProbe
from conformance.facilitator.vectors import VECTORS, Vector
from x402_core.networks import BASE
from x402_core.reasons import Reason

SUPPORTED = "x402-specification-v2.md §7.3 GET /supported"
VERIFY = "x402-specification-v2.md §7.1 POST /verify"
SETTLE = "x402-specification-v2.md §7.2 POST /settle"
REPLAY = "x402-specification-v2.md §10.1 Replay Attack Prevention"
TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
CONCURRENT_SETTLES = 20


def _kinds(probe: FacilitatorProbe) -> set[tuple[Any, Any, Any]]:
    kinds = probe.supported.field("kinds")
    if not isinstance(kinds, list):
        return set()
    return {
        (k.get("x402Version"), k.get("scheme"), k.get("network"))
        for k in kinds
        if isinstance(k, dict)
    }


def _has_kind(probe: FacilitatorProbe, kind: tuple[int, str, str]) -> Verdict:
    ok = probe.supported.status == 200 and kind in _kinds(probe)
    note = f"/supported lists {kind}" if ok else f"/supported does not list {kind}"
    return (passed if ok else failed)(note, expected=kind, **_evidence(probe.supported))


def _evidence(*exchanges: Exchange) -> dict[str, Any]:
    if len(exchanges) == 1:
        return exchanges[0].evidence()
    return {
        "sent": [e.evidence()["sent"] for e in exchanges],
        "received": [e.received() for e in exchanges],
    }


@catalog.check(
    "FAC-001", Level.MUST, "/supported lists the exact scheme on eip155:8453 (v2)", SUPPORTED
)
def supported_v2(probe: FacilitatorProbe) -> Verdict:
    return _has_kind(probe, (2, "exact", BASE.caip2))


@catalog.check("FAC-002", Level.SHOULD, "/supported lists the exact scheme on base (v1)", SUPPORTED)
def supported_v1(probe: FacilitatorProbe) -> Verdict:
    return _has_kind(probe, (1, "exact", BASE.name))


@catalog.check("FAC-003", Level.SHOULD, "/supported names the signer addresses", SUPPORTED)
def supported_signers(probe: FacilitatorProbe) -> Verdict:
    signers = probe.supported.field("signers")
    addresses = (
        [a for group in (signers or {}).values() for a in group]
        if isinstance(signers, dict)
        else []
    )
    ok = bool(addresses) and all(
        isinstance(a, str) and re.fullmatch(r"0x[0-9a-fA-F]{40}", a) for a in addresses
    )
    return (passed if ok else failed)(
        "signers: {eip155:*: [address]}", **_evidence(probe.supported)
    )


def _verify_valid(probe: FacilitatorProbe, version: int) -> Verdict:
    exchange = probe.verify(verify_body(version, wallet=probe.payer))
    ok = exchange.status == 200 and exchange.field("isValid") is True
    payer_ok = str(exchange.field("payer") or "").lower() == probe.payer.address.lower()
    if ok and not payer_ok:
        return failed(
            "valid, but `payer` is not the authorization's from",
            expected=probe.payer.address,
            **_evidence(exchange),
        )
    return (passed if ok else failed)(f"a valid v{version} payment verifies", **_evidence(exchange))


@catalog.check("FAC-004", Level.MUST, "a valid v2 payment verifies, naming its payer", VERIFY)
def verifies_v2(probe: FacilitatorProbe) -> Verdict:
    return _verify_valid(probe, 2)


@catalog.check("FAC-005", Level.MUST, "a valid v1 payment verifies, naming its payer", VERIFY)
def verifies_v1(probe: FacilitatorProbe) -> Verdict:
    return _verify_valid(probe, 1)


def _settled(probe: FacilitatorProbe, version: int) -> tuple[dict[str, Any], Exchange]:
    def settle() -> tuple[dict[str, Any], Exchange]:
        body = verify_body(version, wallet=probe.payer)
        return body, probe.settle(body)

    return probe.observe(f"settled-v{version}", settle)


def _settles(probe: FacilitatorProbe, version: int) -> Verdict:
    _, exchange = _settled(probe, version)
    network = BASE.caip2 if version == 2 else BASE.name
    problems = []
    if exchange.status != 200 or exchange.field("success") is not True:
        problems.append("not settled")
    if not TX_HASH.match(str(exchange.field("transaction") or "")):
        problems.append("`transaction` is not a 32-byte hash")
    if exchange.field("network") != network:
        problems.append(f"`network` is not {network}")
    if str(exchange.field("payer") or "").lower() != probe.payer.address.lower():
        problems.append("`payer` is not the authorization's from")
    if problems:
        return failed("; ".join(problems), **_evidence(exchange))
    chain = probe.chain
    if chain is not None and not chain.transaction_succeeded(exchange.field("transaction")):
        return failed("the transaction it names did not succeed on chain", **_evidence(exchange))
    return passed(f"settled, transaction {exchange.field('transaction')}", **_evidence(exchange))


@catalog.check(
    "FAC-006",
    Level.MUST,
    "a valid v2 payment settles: success, transaction, network, payer",
    SETTLE,
)
def settles_v2(probe: FacilitatorProbe) -> Verdict:
    return _settles(probe, 2)


@catalog.check(
    "FAC-007",
    Level.MUST,
    "a valid v1 payment settles: success, transaction, network, payer",
    SETTLE,
)
def settles_v1(probe: FacilitatorProbe) -> Verdict:
    return _settles(probe, 1)


def _refused(exchange: Exchange) -> bool:
    if 400 <= exchange.status < 500:
        return True
    flag = "isValid" if exchange.path == "/verify" else "success"
    return exchange.status == 200 and exchange.field(flag) is False


def _reason(exchange: Exchange) -> Any:
    return exchange.field("invalidReason" if exchange.path == "/verify" else "errorReason")


def _used_nonce_verdict(probe: FacilitatorProbe, exchange: Exchange, first: Exchange) -> Verdict:
    if first.field("success") is not True:
        return not_applicable("the first settlement failed (see FAC-006)", **_evidence(first))
    expected = {"ours": Reason.NONCE_ALREADY_USED, "x402-sdk": Reason.NONCE_ALREADY_USED}.get(
        probe.reasons
    )
    if not _refused(exchange) or exchange.server_error:
        return failed("a settled authorization was accepted again", **_evidence(first, exchange))
    if expected is not None and _reason(exchange) != expected:
        return failed(
            "refused, with another reason", expected=expected.value, **_evidence(exchange)
        )
    return passed("refused as already used", **_evidence(exchange))


@catalog.check("FAC-008", Level.MUST, "a settled authorization does not settle again", REPLAY)
def settles_once(probe: FacilitatorProbe) -> Verdict:
    """A repeat is refused as used, or reports the transaction already made (idempotent settle,
    as the official SDKs do for a pending settlement); either way no second transfer."""
    chain = probe.chain
    body, first = _settled(probe, 2)
    before = chain.balance_of(PAY_TO) if chain else None
    repeat = probe.settle(body)
    if chain is not None and chain.balance_of(PAY_TO) != before:
        return failed("the repeated settle moved money again", **_evidence(first, repeat))
    if repeat.field("success") is True and first.field("success") is True:
        if repeat.field("transaction") == first.field("transaction"):
            return passed("reports the transaction already made", **_evidence(first, repeat))
        return failed(
            "the repeat succeeded with another transaction",
            expected=f"a refusal, or transaction {first.field('transaction')}",
            **_evidence(first, repeat),
        )
    return _used_nonce_verdict(probe, repeat, first)


@catalog.check(
    "FAC-044", Level.MUST, "/verify refuses an authorization whose nonce was used", REPLAY
)
def used_nonce_refused(probe: FacilitatorProbe) -> Verdict:
    body, first = _settled(probe, 1)
    return _used_nonce_verdict(probe, probe.verify(body), first)


@catalog.check(
    "FAC-009",
    Level.MUST,
    "/verify changes no state: verified three times, it still settles",
    VERIFY,
)
def verify_is_pure(probe: FacilitatorProbe) -> Verdict:
    body = verify_body(2, wallet=probe.payer)
    chain = probe.chain
    before = chain.balance_of(PAY_TO) if chain else None
    verified = [probe.verify(body) for _ in range(3)]
    after = chain.balance_of(PAY_TO) if chain else None
    settled = probe.settle(body)
    if any(v.field("isValid") is not True for v in verified):
        return failed("a valid payment did not verify every time", **_evidence(*verified))
    if before != after:
        return failed(
            f"/verify moved the payee's balance from {before} to {after}", **_evidence(*verified)
        )
    if settled.field("success") is not True:
        return failed(
            "after /verify, the payment no longer settles", **_evidence(*verified, settled)
        )
    return passed("verified three times, then settled once", **_evidence(verified[0], settled))


@catalog.check(
    "FAC-010",
    Level.MUST,
    f"{CONCURRENT_SETTLES} simultaneous settles of one authorization settle in one transaction",
    REPLAY,
)
def concurrent_settles(probe: FacilitatorProbe) -> Verdict:
    body = verify_body(2, wallet=probe.payer)
    chain = probe.chain
    before = chain.balance_of(PAY_TO) if chain else None
    exchanges = probe.settle_concurrently(body, CONCURRENT_SETTLES)
    successes = [e for e in exchanges if e.field("success") is True]
    transactions = {e.field("transaction") for e in successes}
    errors = [e for e in exchanges if e.server_error]
    received = {
        "successes": len(successes),
        "transactions": sorted(map(str, transactions)),
        "5xx": len(errors),
        "answers": [e.received() for e in exchanges[:3]],
    }
    if len(transactions) != 1 or errors:
        return failed(
            f"{len(successes)} of {CONCURRENT_SETTLES} settled in {len(transactions)} "
            f"transactions, {len(errors)} answered 5xx",
            expected="every success names one and the same transaction",
            received=received,
        )
    if chain is not None:
        rise = chain.balance_of(PAY_TO) - before
        if rise != PRICE:
            return failed(f"the payee's balance rose by {rise}", expected=PRICE, received=received)
    return passed("settled in exactly one transaction", received=received)


@catalog.check(
    "FAC-011",
    Level.SHOULD,
    "a settlement moves exactly the value to payTo on chain (needs --rpc-url)",
    SETTLE,
)
def settlement_on_chain(probe: FacilitatorProbe) -> Verdict:
    chain = probe.chain
    if chain is None:
        return not_applicable("no RPC URL given")
    body = verify_body(2, wallet=probe.payer)
    payee, payer = chain.balance_of(PAY_TO), chain.balance_of(probe.payer.address)
    exchange = probe.settle(body)
    rise, fall = chain.balance_of(PAY_TO) - payee, payer - chain.balance_of(probe.payer.address)
    ok = exchange.field("success") is True and rise == PRICE and fall == PRICE
    return (passed if ok else failed)(
        f"payee +{rise}, payer -{fall}", expected=PRICE, **_evidence(exchange)
    )


@catalog.check(
    "FAC-012",
    Level.SHOULD,
    "accepts a window of exactly maxTimeoutSeconds, as clients sign it",
    VERIFY,
)
def full_window_accepted(probe: FacilitatorProbe) -> Verdict:
    now = int(time.time())
    auth = authorization(probe.payer, valid_after=now - 30, valid_before=now + 300)
    exchange = probe.verify(verify_body(2, wallet=probe.payer, auth=auth))
    ok = exchange.field("isValid") is True
    return (passed if ok else failed)(
        "validAfter now-30, validBefore now+300", **_evidence(exchange)
    )


@catalog.check(
    "FAC-052",
    Level.MUST,
    "refuses an authorization the payer cancelled on chain (needs --rpc-url)",
    REPLAY,
)
def cancelled_nonce_refused(probe: FacilitatorProbe) -> Verdict:
    chain = probe.chain
    if chain is None:
        return not_applicable("no RPC URL given: cancelling needs the chain")
    auth = authorization(probe.payer)
    if not chain.cancel_authorization(probe.payer, auth.nonce):
        return not_applicable("the token did not accept cancelAuthorization")
    body = verify_body(2, wallet=probe.payer, auth=auth)
    verify, settle = probe.verify(body), probe.settle(body)
    return _refusal_verdict(
        probe,
        verify,
        settle,
        {"ours": Reason.NONCE_ALREADY_USED, "x402-sdk": Reason.NONCE_ALREADY_USED}.get(
            probe.reasons
        ),
    )


def _refusal_verdict(
    probe: FacilitatorProbe, verify: Exchange, settle: Exchange, expected: Reason | None
) -> Verdict:
    evidence = _evidence(verify, settle)
    if verify.server_error or settle.server_error:
        return failed("answered with a 5xx", **evidence)
    if not _refused(verify):
        return failed("/verify accepted it", **evidence)
    if not _refused(settle):
        return failed("/settle settled it", **evidence)
    if expected is not None and _reason(verify) != expected:
        return failed(
            f"refused, but with reason {_reason(verify)!r}", expected=expected.value, **evidence
        )
    return passed(f"refused: {_reason(verify) or verify.status}", **evidence)


def _vector_check(vector: Vector) -> None:
    def grade(probe: FacilitatorProbe) -> Verdict:
        body = vector.build(probe.payer)
        return _refusal_verdict(
            probe, probe.verify(body), probe.settle(body), vector.expected(probe.reasons)
        )

    catalog.check(vector.check_id, Level.MUST, vector.title, vector.spec)(grade)


for _vector in VECTORS:
    _vector_check(_vector)
