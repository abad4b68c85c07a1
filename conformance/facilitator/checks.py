"""The facilitator checks: `/supported`, valid payments, at-most-once settlement, and a refusal
for every tampered payment (`vectors.py`), with the reason the graded implementation gives
(`reasons.py`)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from conformance.catalog import (
    Verdict,
    catalog,
    failed,
    not_applicable,
    passed,
    policy,
    spec_must,
    spec_should,
)
from conformance.facilitator.payloads import (
    PAY_TO,
    PRICE,
    requirements_v2,
)
from conformance.facilitator.probe import Exchange, FacilitatorProbe
from conformance.facilitator.vectors import V1_VECTORS, VECTORS, Vector
from x402_core.networks import BASE, parse_caip2

SUPPORTED = "x402-specification-v2.md §7.3 GET /supported"
VERIFY = "x402-specification-v2.md §7.1 POST /verify"
SETTLE = "x402-specification-v2.md §7.2 POST /settle"
REPLAY = "x402-specification-v2.md §10.1 Replay Attack Prevention"
TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
CONCURRENT_SETTLES = 20


def _has_kind(probe: FacilitatorProbe, version: int) -> Verdict:
    kind = (version, "exact", BASE.caip2 if version == 2 else BASE.name)
    ok = probe.supported.status == 200 and probe.lists(version)
    note = f"/supported lists {kind}" if ok else f"/supported does not list {kind}"
    return (passed if ok else failed)(note, expected=kind, **_evidence(probe.supported))


def _evidence(*exchanges: Exchange) -> dict[str, Any]:
    if len(exchanges) == 1:
        return exchanges[0].evidence()
    return {
        "sent": [e.evidence()["sent"] for e in exchanges],
        "received": [e.received() for e in exchanges],
    }


def _v1_listed(probe: FacilitatorProbe) -> Verdict | None:
    """Not applicable when the facilitator does not offer x402 v1 (the spec does not ask it to)."""
    if probe.lists(1):
        return None
    return not_applicable("/supported does not list exact on base for x402 v1 (see FAC-002)")


@catalog.check(
    "FAC-001",
    "/supported lists the exact scheme on eip155:8453 (v2), where this suite pays",
    spec_must(SUPPORTED + " (kinds: required)"),
)
def supported_v2(probe: FacilitatorProbe) -> Verdict:
    return _has_kind(probe, 2)


@catalog.check(
    "FAC-002",
    "/supported lists the exact scheme on base (v1)",
    spec_should(SUPPORTED + " (v1 is not required of a v2 facilitator)"),
)
def supported_v1(probe: FacilitatorProbe) -> Verdict:
    return _has_kind(probe, 1)


@catalog.check(
    "FAC-003",
    "/supported names the signer addresses",
    spec_must(SUPPORTED + ", §7.3.1 (signers: required)"),
)
def supported_signers(probe: FacilitatorProbe) -> Verdict:
    signers = probe.supported.field("signers")
    addresses = (
        [a for group in signers.values() if isinstance(group, list) for a in group]
        if isinstance(signers, dict)
        else []
    )
    ok = bool(addresses) and all(isinstance(a, str) and ADDRESS.fullmatch(a) for a in addresses)
    return (passed if ok else failed)(
        "signers: {eip155:*: [address]}", **_evidence(probe.supported)
    )


@catalog.check(
    "FAC-057",
    "every kind /supported lists names a CAIP-2 network (v2)",
    spec_must(SUPPORTED + ", §7.3.1 network in CAIP-2 format; §11.1"),
)
def kinds_are_caip2(probe: FacilitatorProbe) -> Verdict:
    v2 = [k for k in probe.kinds() if k.get("x402Version") == 2]
    if not v2:
        return failed("/supported lists no v2 kind", **_evidence(probe.supported))
    wrong = []
    for kind in v2:
        try:
            parse_caip2(str(kind.get("network")))
        except ValueError:
            wrong.append(kind.get("network"))
    return (failed if wrong else passed)(
        f"not CAIP-2: {wrong}" if wrong else f"{len(v2)} v2 kind(s), all CAIP-2",
        **_evidence(probe.supported),
    )


def _kind_body(probe: FacilitatorProbe, kind: dict[str, Any]) -> dict[str, Any]:
    """A payment for the kind: this suite's valid one, re-addressed to its scheme and network."""
    scheme, network = str(kind.get("scheme")), str(kind.get("network"))
    body = probe.fresh_body(1 if kind.get("x402Version") == 1 else 2)
    body["paymentRequirements"].update(scheme=scheme, network=network)
    if kind.get("x402Version") == 1:
        body["paymentPayload"].update(scheme=scheme, network=network)
    else:
        body["paymentPayload"]["accepted"].update(scheme=scheme, network=network)
    return body


def _structured(exchange: Exchange) -> bool:
    valid = exchange.field("isValid")
    if exchange.server_error or not isinstance(valid, bool):
        return False
    return valid or isinstance(exchange.field("invalidReason"), str)


@catalog.check(
    "FAC-058",
    "every kind /supported lists gets a structured /verify answer (isValid, invalidReason)",
    spec_must(VERIFY + ", §5.4 VerifyResponse (isValid: required)"),
)
def kinds_answer_verify(probe: FacilitatorProbe) -> Verdict:
    kinds = probe.kinds()
    if not kinds:
        return failed("/supported lists no kind", **_evidence(probe.supported))
    exchanges = [probe.verify(_kind_body(probe, kind)) for kind in kinds]
    bad = [e for e in exchanges if not _structured(e)]
    if bad:
        return failed(
            f"{len(bad)} of {len(kinds)} kind(s) got no structured answer", **_evidence(*bad[:3])
        )
    return passed(f"{len(kinds)} kind(s), each answered", **_evidence(*exchanges[:3]))


def _payer_wrong(probe: FacilitatorProbe, exchange: Exchange) -> bool:
    """`payer` is optional; when given it must be the authorization's from."""
    payer = exchange.field("payer")
    return payer is not None and str(payer).lower() != probe.payer.address.lower()


def _verify_valid(probe: FacilitatorProbe, version: int) -> Verdict:
    exchange = probe.verify(probe.fresh_body(version))
    ok = exchange.status == 200 and exchange.field("isValid") is True
    if ok and _payer_wrong(probe, exchange):
        return failed(
            "valid, but `payer` is not the authorization's from",
            expected=probe.payer.address,
            **_evidence(exchange),
        )
    return (passed if ok else failed)(f"a valid v{version} payment verifies", **_evidence(exchange))


@catalog.check("FAC-004", "a valid v2 payment verifies", spec_must(VERIFY))
def verifies_v2(probe: FacilitatorProbe) -> Verdict:
    return _verify_valid(probe, 2)


@catalog.check("FAC-005", "a valid v1 payment verifies (when v1 is offered)", spec_must(VERIFY))
def verifies_v1(probe: FacilitatorProbe) -> Verdict:
    return _v1_listed(probe) or _verify_valid(probe, 1)


def _settled(probe: FacilitatorProbe, version: int) -> tuple[dict[str, Any], Exchange]:
    def settle() -> tuple[dict[str, Any], Exchange]:
        body = probe.fresh_body(version)
        return body, probe.settle(body)

    result: tuple[dict[str, Any], Exchange] = probe.observe(f"settled-v{version}", settle)
    return result


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
    if _payer_wrong(probe, exchange):
        problems.append("`payer` is not the authorization's from")
    if problems:
        return failed("; ".join(problems), **_evidence(exchange))
    chain = probe.chain
    if chain is not None and not chain.transaction_succeeded(exchange.field("transaction")):
        return failed("the transaction it names did not succeed on chain", **_evidence(exchange))
    return passed(f"settled, transaction {exchange.field('transaction')}", **_evidence(exchange))


@catalog.check(
    "FAC-006",
    "a valid v2 payment settles: success, transaction, network",
    spec_must(SETTLE + ", §5.3 SettleResponse"),
)
def settles_v2(probe: FacilitatorProbe) -> Verdict:
    return _settles(probe, 2)


@catalog.check(
    "FAC-007",
    "a valid v1 payment settles: success, transaction, network (when v1 is offered)",
    spec_must(SETTLE + ", §5.3 SettleResponse"),
)
def settles_v1(probe: FacilitatorProbe) -> Verdict:
    return _v1_listed(probe) or _settles(probe, 1)


@catalog.check(
    "FAC-013",
    "/verify and /settle name the payer",
    spec_should("x402-specification-v2.md §5.3, §5.4 (payer: optional)"),
)
def names_payer(probe: FacilitatorProbe) -> Verdict:
    verified = probe.verify(probe.fresh_body())
    _, settled = _settled(probe, 2)
    named = [str(e.field("payer") or "").lower() for e in (verified, settled)]
    ok = named == [probe.payer.address.lower()] * 2
    return (passed if ok else failed)(
        "payer in both answers", expected=probe.payer.address, **_evidence(verified, settled)
    )


def _refused(exchange: Exchange) -> bool:
    if 400 <= exchange.status < 500:
        return True
    flag = "isValid" if exchange.path == "/verify" else "success"
    return exchange.status == 200 and exchange.field(flag) is False


def _reason(exchange: Exchange) -> Any:
    return exchange.field("invalidReason" if exchange.path == "/verify" else "errorReason")


def _at_most_once(
    first_tx: str | None,
    repeats: list[Exchange],
    rise: int | None,
    expected_rise: int,
    expected_reason: str | None,
) -> Verdict:
    """Repeated settlements of one authorization: each is refused (with `expected_reason`, when
    there is one), or reports the transaction already made; never a 5xx, never another
    transaction, never a second transfer (the payee's balance, when the chain can be read)."""
    received = {"payee balance rise": rise, "answers": [e.received() for e in repeats[:5]]}
    if any(e.server_error for e in repeats):
        return failed("a repeated settlement was answered with a 5xx", received=received)
    successes = [e for e in repeats if e.field("success") is True]
    hashes = {e.field("transaction") for e in successes} | ({first_tx} if first_tx else set())
    if len(hashes) > 1:
        return failed(
            "reported success with another transaction: the authorization settled twice",
            expected=first_tx,
            received=received,
        )
    if rise is not None and rise != expected_rise:
        return failed(
            f"the payee's balance rose by {rise}: money moved twice",
            expected=expected_rise,
            received=received,
        )
    refusals = [e for e in repeats if e.field("success") is not True]
    if not all(_refused(e) for e in refusals):
        return failed("an answer neither settled nor refused", received=received)
    wrong = [_reason(e) for e in refusals if expected_reason not in (None, _reason(e))]
    if wrong:
        return failed(
            f"refused with reason {wrong[0]!r}", expected=expected_reason, received=received
        )
    kinds = []
    if successes:
        kinds.append(f"{len(successes)} reported the same transaction")
    if refusals:
        kinds.append(f"{len(refusals)} refused")
    return passed(
        ", ".join(kinds) + ("" if rise is None else f"; payee +{rise}"), received=received
    )


def _payee_balance(probe: FacilitatorProbe) -> int | None:
    return probe.chain.balance_of(PAY_TO) if probe.chain is not None else None


def _rise(probe: FacilitatorProbe, before: int | None) -> int | None:
    return None if before is None else (_payee_balance(probe) or 0) - before


AfterSettlement = Callable[[FacilitatorProbe, dict[str, Any], Exchange], Verdict]


def _after_settlement(grade: AfterSettlement) -> Callable[[FacilitatorProbe], Verdict]:
    """A check of what follows FAC-006's settled payment; not applicable when it did not settle."""

    @functools.wraps(grade)
    def graded(probe: FacilitatorProbe) -> Verdict:
        body, first = _settled(probe, 2)
        if first.field("success") is not True:
            return not_applicable("the first settlement failed (see FAC-006)", **_evidence(first))
        return grade(probe, body, first)

    return graded


@catalog.check(
    "FAC-008",
    "a settled authorization does not settle again (refused, or the same transaction reported)",
    spec_must(REPLAY),
)
@_after_settlement
def settles_once(probe: FacilitatorProbe, body: dict[str, Any], first: Exchange) -> Verdict:
    before = _payee_balance(probe)
    again = probe.settle(body)
    return _at_most_once(
        first.field("transaction"), [again], _rise(probe, before), 0, probe.expected("FAC-008")
    )


@catalog.check(
    "FAC-010",
    f"{CONCURRENT_SETTLES} simultaneous settles of one authorization move the money once",
    spec_must(REPLAY),
)
def concurrent_settles(probe: FacilitatorProbe) -> Verdict:
    body = probe.fresh_body()
    before = _payee_balance(probe)
    exchanges = probe.settle_concurrently(body, CONCURRENT_SETTLES)
    rise = _rise(probe, before)
    if not any(e.field("success") is True for e in exchanges):
        received = {"answers": [e.received() for e in exchanges[:3]]}
        return failed("none of the settlements succeeded", received=received)
    return _at_most_once(None, exchanges, rise, PRICE, None)


@catalog.check(
    "FAC-044",
    "/verify refuses an authorization whose nonce was used",
    spec_must(REPLAY),
)
@_after_settlement
def used_nonce_refused(probe: FacilitatorProbe, body: dict[str, Any], first: Exchange) -> Verdict:
    verify = probe.verify(body)
    return _refusal_verdict(probe, verify, None, probe.expected("FAC-044"))


@catalog.check(
    "FAC-059",
    "a settled payment sent again under other requirements is refused, never reported settled",
    spec_must(REPLAY),
)
@_after_settlement
def replay_elsewhere(probe: FacilitatorProbe, body: dict[str, Any], first: Exchange) -> Verdict:
    other = requirements_v2(max_timeout_seconds=600).wire()
    moved = {**body, "paymentRequirements": other}
    moved["paymentPayload"] = {**body["paymentPayload"], "accepted": other}
    return _refusal_verdict(
        probe, probe.verify(moved), probe.settle(moved), probe.expected("FAC-059")
    )


@catalog.check(
    "FAC-009",
    "/verify changes no state: verified three times, it still settles",
    spec_must(VERIFY + " (without executing the transaction)"),
)
def verify_is_pure(probe: FacilitatorProbe) -> Verdict:
    body = probe.fresh_body()
    before = _payee_balance(probe)
    verified = [probe.verify(body) for _ in range(3)]
    after = _payee_balance(probe)
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
    "FAC-011",
    "a settlement moves exactly the value to payTo on chain (needs --rpc-url)",
    spec_must("scheme_exact_evm.md: the facilitator cannot modify the amount or destination"),
)
def settlement_on_chain(probe: FacilitatorProbe) -> Verdict:
    chain = probe.chain
    if chain is None:
        return not_applicable("no RPC URL given")
    body = probe.fresh_body()
    payee, payer = chain.balance_of(PAY_TO), chain.balance_of(probe.payer.address)
    exchange = probe.settle(body)
    rise, fall = chain.balance_of(PAY_TO) - payee, payer - chain.balance_of(probe.payer.address)
    ok = exchange.field("success") is True and rise == PRICE and fall == PRICE
    return (passed if ok else failed)(
        f"payee +{rise}, payer -{fall}", expected=PRICE, **_evidence(exchange)
    )


@catalog.check(
    "FAC-012",
    "accepts a window of exactly maxTimeoutSeconds, as clients sign it",
    policy("clients sign validBefore = now + maxTimeoutSeconds"),
)
def full_window_accepted(probe: FacilitatorProbe) -> Verdict:
    exchange = probe.verify(probe.fresh_body(auth=probe.fresh_authorization((-30, 300))))
    ok = exchange.field("isValid") is True
    return (passed if ok else failed)(
        "validAfter now-30, validBefore now+300", **_evidence(exchange)
    )


@catalog.check(
    "FAC-052",
    "refuses an authorization the payer cancelled on chain (needs --rpc-url)",
    spec_must(REPLAY + " (EIP-3009 nonces, cancelAuthorization)"),
)
def cancelled_nonce_refused(probe: FacilitatorProbe) -> Verdict:
    chain = probe.chain
    if chain is None:
        return not_applicable("no RPC URL given: cancelling needs the chain")
    auth = probe.fresh_authorization()
    if not chain.cancel_authorization(probe.payer, auth.nonce):
        return not_applicable("the token did not accept cancelAuthorization")
    body = probe.fresh_body(auth=auth)
    verify, settle = probe.verify(body), probe.settle(body)
    return _refusal_verdict(probe, verify, settle, probe.expected("FAC-052"))


def _refusal_verdict(
    probe: FacilitatorProbe, verify: Exchange, settle: Exchange | None, expected: str | None
) -> Verdict:
    """Both refused, without a 5xx; /verify with the expected reason, when there is one."""
    shown = [e for e in (verify, settle) if e is not None]
    evidence = _evidence(*shown)
    if any(e.server_error for e in shown):
        return failed("answered with a 5xx", **evidence)
    if not _refused(verify):
        return failed("/verify accepted it", **evidence)
    if settle is not None and not _refused(settle):
        return failed("/settle settled it", **evidence)
    if expected is not None and _reason(verify) != expected:
        return failed(
            f"refused, but with reason {_reason(verify)!r}", expected=expected, **evidence
        )
    return passed(f"refused: {_reason(verify) or verify.status}", **evidence)


def _vector_check(vector: Vector) -> None:
    def grade(probe: FacilitatorProbe) -> Verdict:
        if vector.check_id in V1_VECTORS and (skip := _v1_listed(probe)) is not None:
            return skip
        now, nonce = probe.draw()
        body = vector.build(probe.payer, now, nonce)
        return _refusal_verdict(
            probe, probe.verify(body), probe.settle(body), probe.expected(vector.check_id)
        )

    catalog.check(vector.check_id, vector.title, vector.source)(grade)


for _vector in VECTORS:
    _vector_check(_vector)
