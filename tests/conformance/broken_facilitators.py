"""Deliberately broken facilitators: the real simulator with one safeguard taken out, or an
answer rewritten on its way out. The facilitator checks must catch each of them. Two are not
broken: the simulator remembering its settlements (a repeat reports the same transaction), and
the official Python SDK's facilitator; the checks must pass them."""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from facilitator_sim import rules
from facilitator_sim.app import create_app
from facilitator_sim.case import case_from_request
from facilitator_sim.chains.base import Broadcast, Chain, TransferOutcome, no_record
from facilitator_sim.chains.evm import EvmChain
from facilitator_sim.chains.ledger import LedgerChain
from facilitator_sim.discovery import Catalogue
from facilitator_sim.identifiers import Binding, MemoryBindings
from facilitator_sim.locks import KeyedLocks
from facilitator_sim.rules import RULES, Policy, Rule
from facilitator_sim.service import Facilitator, VerifyRequest
from facilitator_sim.settlements import MemoryRecords, SettlementRecord
from x402_core.eip3009 import SECP256K1_N, Authorization, malleable_twin
from x402_core.models.facilitator import SettleResponse
from x402_core.networks import BASE
from x402_core.reasons import Reason
from x402_core.wallets import facilitator_wallet

_TRANSFER = function_signature_to_4byte_selector("transfer(address,uint256)")


class NoLocks(KeyedLocks):
    """Lets every settle of one authorization run at once."""

    @contextmanager
    def hold(self, key: str, timeout: float) -> Iterator[bool]:
        yield True


class NoRecords(MemoryRecords):
    """Remembers nothing it sent: every settle claims afresh."""

    def claim(self, record: SettlementRecord) -> SettlementRecord | None:
        return None

    def get(self, key: str) -> SettlementRecord | None:
        return None

    def update(self, key: str, state: object, tx_hash: str) -> None:
        """Forgets."""


class ForgetfulLedger(LedgerChain):
    """Never remembers a used nonce."""

    def submit_transfer(
        self,
        token: str,
        auth: Authorization,
        signature: bytes,
        on_broadcast: Broadcast = no_record,
        receipt_timeout: float | None = None,
    ) -> TransferOutcome:
        outcome = super().submit_transfer(token, auth, signature)
        self._token(token).used.clear()
        return outcome


class CredulousLedger(LedgerChain):
    """Moves whatever it is asked to move: no signature, window, nonce or balance checks."""

    def _transfer_revert(self, state: Any, auth: Authorization, signature: bytes) -> str | None:
        return None

    def submit_transfer(
        self,
        token: str,
        auth: Authorization,
        signature: bytes,
        on_broadcast: Broadcast = no_record,
        receipt_timeout: float | None = None,
    ) -> TransferOutcome:
        state = self._token(token)
        sender = auth.from_address.lower()
        state.balances[sender] = state.balances.get(sender, 0) + auth.value  # never short
        return super().submit_transfer(token, auth, signature)


class RacyLedger(LedgerChain):
    """Checks, then acts, without holding the lock in between (and runs in threads, as a
    chain behind RPC does)."""

    in_process = False

    def submit_transfer(
        self,
        token: str,
        auth: Authorization,
        signature: bytes,
        on_broadcast: Broadcast = no_record,
        receipt_timeout: float | None = None,
    ) -> TransferOutcome:
        state = self._token(token)
        revert = self._transfer_revert(state, auth, signature)
        time.sleep(0.05)
        if revert is not None:
            return TransferOutcome(self._next_tx_hash(auth.from_address, auth.nonce), False, revert)
        with self._lock:
            state.used.add((auth.from_address.lower(), auth.nonce))
            sender = auth.from_address.lower()
            state.balances[sender] -= auth.value
            receiver = auth.to.lower()
            state.balances[receiver] = state.balances.get(receiver, 0) + auth.value
            return TransferOutcome(self._next_tx_hash(auth.from_address, auth.nonce), True)


def _accepting_high_s(case: Any, ctx: Any) -> Any:
    signature = case.signature
    if len(signature) == 65 and int.from_bytes(signature[32:64], "big") > SECP256K1_N // 2:
        case = dataclasses.replace(case, signature=malleable_twin(signature))
    return rules.signature_recovers(case, ctx)


def _without(*names: str) -> tuple[Rule, ...]:
    return tuple(rule for rule in RULES if rule.__name__ not in names)


def _replacing(name: str, replacement: Rule) -> tuple[Rule, ...]:
    return tuple(replacement if rule.__name__ == name else rule for rule in RULES)


class SpendingFacilitator(Facilitator):
    """Settles while it verifies."""

    def verify(self, request: Any) -> Any:
        answer = super().verify(request)
        if answer.is_valid:
            self.settle(request)
        return answer


class RememberingFacilitator(Facilitator):
    """Not broken: a repeated settle of the same request reports the transaction already made
    (as the facilitator will once it reconciles pending settlements)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settled: dict[str, SettleResponse] = {}
        self.lock = threading.Lock()

    def key(self, request: VerifyRequest) -> str:
        return request.model_dump_json()

    def settle(self, request: VerifyRequest) -> SettleResponse:
        remembered = self.settled.get(self.key(request))
        if remembered is not None:
            return self.repeat(request, remembered)
        answer = super().settle(request)
        if answer.success:
            self.settled[self.key(request)] = answer
        return answer

    def repeat(self, request: VerifyRequest, remembered: SettleResponse) -> SettleResponse:
        return remembered


class NonceKeyedFacilitator(RememberingFacilitator):
    """Remembers settlements by (payer, nonce) alone: a settled authorization sent under other
    requirements is reported settled, and the server would deliver twice for one payment."""

    def key(self, request: VerifyRequest) -> str:
        auth = case_from_request(request).authorization
        return f"{auth.from_address.lower()}:{auth.nonce.hex()}"


class PaysAgainFacilitator(RememberingFacilitator):
    """Reports the first transaction on a repeat, but pays the payee again from its own funds
    (settles one at a time, so that every repeat meets the memory)."""

    def settle(self, request: VerifyRequest) -> SettleResponse:
        with self.lock:
            return super().settle(request)

    def repeat(self, request: VerifyRequest, remembered: SettleResponse) -> SettleResponse:
        case = case_from_request(request)
        assert isinstance(self.chain, EvmChain)
        self.chain.transact(
            case.asset, _TRANSFER + encode(["address", "uint256"], [case.pay_to, case.amount])
        )
        return remembered


class UnrelatedTransactionFacilitator(Facilitator):
    """Reports a valid payment settled with the hash of a transaction that moved nothing."""

    def settle(self, request: VerifyRequest) -> SettleResponse:
        if not self.verify(request).is_valid:
            return super().settle(request)
        assert isinstance(self.chain, EvmChain)
        case = case_from_request(request)
        outcome = self.chain.transact(self.chain.signer)
        return SettleResponse(
            success=True, payer=case.payer, transaction=outcome.tx_hash, network=case.network
        )


class RewriteAnswers:
    """ASGI middleware: `rewrite(path, status, body) -> (status, body)` on every JSON answer."""

    def __init__(self, app: ASGIApp, rewrite: Callable[[str, int, Any], tuple[int, Any]]) -> None:
        self.app = app
        self.rewrite = rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        body = bytearray()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            status, data = self.rewrite(scope["path"], start["status"], json.loads(body))
            encoded = json.dumps(data).encode()
            headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
            headers.append((b"content-length", str(len(encoded)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": encoded})

        await self.app(scope, receive, capture)


def _crash_on_400(path: str, status: int, body: Any) -> tuple[int, Any]:
    return (500, {"error": "internal"}) if status == 400 else (status, body)


def _empty_supported(path: str, status: int, body: Any) -> tuple[int, Any]:
    return (
        (status, {"kinds": [], "extensions": [], "signers": {}})
        if path == "/supported"
        else (status, body)
    )


def _generic_reasons(path: str, status: int, body: Any) -> tuple[int, Any]:
    for key in ("invalidReason", "errorReason"):
        if body.get(key):
            body[key] = "invalid_payload"
    return status, body


def _no_payer(path: str, status: int, body: Any) -> tuple[int, Any]:
    if path == "/verify":
        body.pop("payer", None)
    return status, body


def _supported(change: Callable[[dict[str, Any]], None]) -> Callable[[str, int, Any], Any]:
    def rewrite(path: str, status: int, body: Any) -> tuple[int, Any]:
        if path == "/supported":
            change(body)
        return status, body

    return rewrite


def _drop_v1(body: dict[str, Any]) -> None:
    body["kinds"] = [k for k in body["kinds"] if k["x402Version"] != 1]


def _no_signers(body: dict[str, Any]) -> None:
    body["signers"] = {}


def _kind(network: str) -> Callable[[dict[str, Any]], None]:
    def add(body: dict[str, Any]) -> None:
        body["kinds"].append({"x402Version": 2, "scheme": "exact", "network": network})

    return add


UNSERVED = "eip155:84532"


def _crash_on_unserved(path: str, body: Any) -> Any:
    if body.get("paymentRequirements", {}).get("network") == UNSERVED:
        return 500, {"error": f"no RPC configured for {UNSERVED}"}
    return body


_fake_hashes = itertools.count(1)


def _another_transaction(path: str, status: int, body: Any) -> tuple[int, Any]:
    """Every settlement and every refusal of a used nonce reported as a new transaction."""
    repeat = body.get("success") is True or body.get("errorReason") == Reason.NONCE_ALREADY_USED
    if path == "/settle" and repeat:
        body = {**body, "success": True, "transaction": f"0x{next(_fake_hashes):064x}"}
        body.pop("errorReason", None)
        body.pop("errorMessage", None)
    return status, body


def _refuse_all(path: str, status: int, body: Any) -> tuple[int, Any]:
    if path == "/verify" and body.get("isValid") is True:
        body = {**body, "isValid": False, "invalidReason": Reason.UNEXPECTED_VERIFY_ERROR}
    return status, body


def _no_transaction(path: str, status: int, body: Any) -> tuple[int, Any]:
    if path == "/settle" and body.get("success"):
        body["transaction"] = ""
    return status, body


class RewriteRequests:
    """ASGI middleware for /verify and /settle: `rewrite(path, body)` gives the body to pass on,
    or a (status, answer) to answer with instead."""

    def __init__(self, app: ASGIApp, rewrite: Callable[[str, Any], Any]) -> None:
        self.app = app
        self.rewrite = rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in ("/verify", "/settle"):
            await self.app(scope, receive, send)
            return
        message = await receive()
        try:
            outcome = self.rewrite(scope["path"], json.loads(message.get("body", b"")))
        except ValueError:
            outcome = None
        if isinstance(outcome, tuple):
            encoded = json.dumps(outcome[1]).encode()
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": outcome[0], "headers": headers})
            await send({"type": "http.response.body", "body": encoded})
            return
        if outcome is not None:
            message = {**message, "body": json.dumps(outcome).encode()}

        async def replay() -> Message:
            return message

        await self.app(scope, replay, send)


def _refuse_v1(path: str, body: Any) -> Any:
    if body.get("x402Version") != 1:
        return body
    if path == "/verify":
        return 200, {"isValid": False, "invalidReason": "invalid_x402_version"}
    return 200, {"success": False, "errorReason": "invalid_x402_version", "network": ""}


def _any_version_is_v2(path: str, body: Any) -> Any:
    if body.get("x402Version") not in (1, 2):
        body["x402Version"] = body["paymentPayload"]["x402Version"] = 2
    return body


def _ignoring(rule_name: str, *reasons: Reason) -> tuple[Rule, ...]:
    """The standard rules, with `rule_name` blind to failures of `reasons`."""
    original = next(rule for rule in RULES if rule.__name__ == rule_name)

    def lenient(case: Any, ctx: Any) -> Any:
        failure = original(case, ctx)
        return None if failure is not None and failure.reason in reasons else failure

    return _replacing(rule_name, lenient)


def _facilitator(
    chain: Chain, rules_: tuple[Rule, ...] = RULES, cls: type[Facilitator] = Facilitator
) -> Facilitator:
    return cls(chain, facilitator_wallet().address, rules=rules_)


Variant = Callable[[Chain], Starlette | ASGIApp]
"""Builds the broken facilitator's app on a funded chain."""


def _app(chain: Chain, facilitator: Facilitator | None = None) -> Starlette:
    return create_app(chain, facilitator=facilitator)


def _no_nonce_tracking(chain: Chain) -> ASGIApp:
    facilitator = _facilitator(chain, _without("nonce_unused"))
    facilitator.records = NoRecords()
    facilitator.locks = NoLocks()
    return _app(chain, facilitator)


def _racy(chain: Chain) -> ASGIApp:
    facilitator = _facilitator(chain)
    facilitator.records = NoRecords()
    facilitator.locks = NoLocks()
    return _app(chain, facilitator)


class ForgetfulBindings(MemoryBindings):
    """Never remembers which payment an id was settled with."""

    def bind(self, binding: Binding) -> Binding:
        return binding

    def get(self, payment_id: str) -> Binding | None:
        return None


def _forgets_ids(chain: Chain) -> ASGIApp:
    facilitator = _facilitator(chain)
    facilitator.bindings = ForgetfulBindings()
    return _app(chain, facilitator)


class CredulousCatalogue(Catalogue):
    """Catalogues bazaar info without validating it against its schema."""

    @staticmethod
    def problems(extension: object) -> list[str]:
        return []


def _no_pagination(path: str, status: int, body: Any) -> tuple[int, Any]:
    if path.startswith("/discovery") and isinstance(body, dict):
        body.pop("pagination", None)
    return status, body


LEDGER_VARIANTS: dict[str, tuple[type[LedgerChain], Variant]] = {
    "nonce tracking off": (ForgetfulLedger, _no_nonce_tracking),
    "settles twice under concurrency": (RacyLedger, _racy),
    "no signature check": (
        CredulousLedger,
        lambda c: _app(c, _facilitator(c, _without("signature_recovers", "simulation_succeeds"))),
    ),
    "accepts high-s": (
        LedgerChain,
        lambda c: _app(c, _facilitator(c, _replacing("signature_recovers", _accepting_high_s))),
    ),
    "no time window": (
        CredulousLedger,
        lambda c: _app(c, _facilitator(c, _without("time_window", "simulation_succeeds"))),
    ),
    "no value check": (LedgerChain, lambda c: _app(c, _facilitator(c, _without("value_matches")))),
    "no recipient check": (
        LedgerChain,
        lambda c: _app(c, _facilitator(c, _without("recipient_matches"))),
    ),
    "no accepted check": (
        LedgerChain,
        lambda c: _app(c, _facilitator(c, _without("accepted_matches"))),
    ),
    "no balance check": (
        LedgerChain,
        lambda c: _app(c, _facilitator(c, _without("balance_suffices", "simulation_succeeds"))),
    ),
    "no asset check": (
        LedgerChain,
        lambda c: _app(
            c,
            _facilitator(
                c, _ignoring("requirements_well_formed", Reason.INVALID_PAYMENT_REQUIREMENTS)
            ),
        ),
    ),
    "no EIP-712 domain check": (
        LedgerChain,
        lambda c: _app(
            c,
            _facilitator(
                c,
                _ignoring(
                    "requirements_well_formed",
                    Reason.MISSING_EIP712_DOMAIN,
                    Reason.TOKEN_NAME_MISMATCH,
                    Reason.TOKEN_VERSION_MISMATCH,
                ),
            ),
        ),
    ),
    "reads any version as v2": (
        LedgerChain,
        lambda c: RewriteRequests(_app(c), _any_version_is_v2),
    ),
    "no network check": (
        LedgerChain,
        lambda c: _app(c, _facilitator(c, _without("network_supported"))),
    ),
    "no scheme or version check": (
        LedgerChain,
        lambda c: _app(c, _facilitator(c, _without("version_and_scheme"))),
    ),
    "verify spends": (LedgerChain, lambda c: _app(c, _facilitator(c, cls=SpendingFacilitator))),
    "verify refuses valid payments": (LedgerChain, lambda c: RewriteAnswers(_app(c), _refuse_all)),
    "5xx on malformed input": (LedgerChain, lambda c: RewriteAnswers(_app(c), _crash_on_400)),
    "empty /supported": (LedgerChain, lambda c: RewriteAnswers(_app(c), _empty_supported)),
    "generic reasons": (LedgerChain, lambda c: RewriteAnswers(_app(c), _generic_reasons)),
    "no payer in /verify": (LedgerChain, lambda c: RewriteAnswers(_app(c), _no_payer)),
    "no transaction in /settle": (LedgerChain, lambda c: RewriteAnswers(_app(c), _no_transaction)),
    "v2 only": (LedgerChain, lambda c: RewriteRequests(_app(c), _refuse_v1)),
    "lists no v1": (LedgerChain, lambda c: RewriteAnswers(_app(c), _supported(_drop_v1))),
    "no signers": (LedgerChain, lambda c: RewriteAnswers(_app(c), _supported(_no_signers))),
    "a kind that is not CAIP-2": (
        LedgerChain,
        lambda c: RewriteAnswers(_app(c), _supported(_kind("base-mainnet"))),
    ),
    "lists a network it cannot serve": (
        LedgerChain,
        lambda c: RewriteAnswers(
            RewriteRequests(_app(c), _crash_on_unserved), _supported(_kind(UNSERVED))
        ),
    ),
    "refuses windows as long as maxTimeoutSeconds": (
        LedgerChain,
        lambda c: _app(
            c, Facilitator(c, facilitator_wallet().address, Policy(clock_skew_seconds=-60))
        ),
    ),
    "reports another transaction for a repeat": (
        LedgerChain,
        lambda c: RewriteAnswers(_app(c), _another_transaction),
    ),
    "remembers settlements by nonce alone": (
        LedgerChain,
        lambda c: _app(c, _facilitator(c, cls=NonceKeyedFacilitator)),
    ),
    "remembers its settlements (not broken)": (
        LedgerChain,
        lambda c: _app(c, _facilitator(c, cls=RememberingFacilitator)),
    ),
    "forgets payment ids": (LedgerChain, _forgets_ids),
    "a discovery list without pagination": (
        LedgerChain,
        lambda c: RewriteAnswers(_app(c), _no_pagination),
    ),
    "catalogues info its schema refuses": (
        LedgerChain,
        lambda c: create_app(c, catalogue=CredulousCatalogue()),
    ),
}
"""Each on a funded ledger of its class."""

ANVIL_VARIANTS: dict[str, Variant] = {
    "reports an unrelated transaction": lambda c: _app(
        c, _facilitator(c, cls=UnrelatedTransactionFacilitator)
    ),
    "pays the payee again on a repeat": lambda c: _app(
        c, _facilitator(c, cls=PaysAgainFacilitator)
    ),
}
"""Each on a fresh Anvil, graded with its RPC URL: what only the chain's balances can show."""


def fund_signer(chain: EvmChain) -> None:
    """Give the facilitator's signer USDC of its own (what a facilitator that pays again spends)."""
    chain.set_balance(BASE.usdc.address, chain.signer, 10**12)
