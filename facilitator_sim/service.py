"""The facilitator's decisions: verify a payment, settle it at most once, say what is supported."""

from __future__ import annotations

import threading

from facilitator_sim.case import PaymentCase, case_from_request
from facilitator_sim.chains.base import Chain, ChainError
from facilitator_sim.rules import (
    RULES,
    Context,
    Failure,
    Policy,
    Rule,
    first_failure,
    revert_failure,
)
from x402_core.models.facilitator import (
    SettleResponse,
    SupportedKind,
    SupportedResponse,
    VerifyRequestV1,
    VerifyRequestV2,
    VerifyResponse,
)
from x402_core.networks import network_by_chain_id
from x402_core.reasons import Reason

VerifyRequest = VerifyRequestV1 | VerifyRequestV2


class Reservations:
    """Authorizations (payer, nonce) being or already settled: the at-most-once guard."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: set[tuple[str, bytes]] = set()

    def reserve(self, payer: str, nonce: bytes) -> bool:
        key = (payer.lower(), nonce)
        with self._lock:
            if key in self._held:
                return False
            self._held.add(key)
            return True

    def release(self, payer: str, nonce: bytes) -> None:
        with self._lock:
            self._held.discard((payer.lower(), nonce))


class Facilitator:
    """Verifies and settles `exact` EVM payments on one chain. Methods block on chain I/O."""

    def __init__(
        self,
        chain: Chain,
        signer_address: str,
        policy: Policy | None = None,
        rules: tuple[Rule, ...] = RULES,
    ) -> None:
        self.chain = chain
        self.network = network_by_chain_id(chain.chain_id)
        self.signer_address = signer_address
        self.policy = policy or Policy()
        self.rules = rules
        self.reservations = Reservations()

    def verify(self, request: VerifyRequest) -> VerifyResponse:
        case = case_from_request(request)
        failure = self._first_failure(case)
        if failure is not None:
            return VerifyResponse(
                is_valid=False,
                invalid_reason=failure.reason,
                invalid_message=failure.message,
                payer=case.payer,
            )
        return VerifyResponse(is_valid=True, payer=case.payer)

    def settle(self, request: VerifyRequest) -> SettleResponse:
        case = case_from_request(request)
        failure = self._first_failure(case)
        if failure is not None:
            return self._settle_failure(case, failure)
        auth = case.authorization
        if not self.reservations.reserve(auth.from_address, auth.nonce):
            return self._settle_failure(
                case,
                Failure(
                    Reason.NONCE_ALREADY_USED,
                    "this authorization is already being settled or was settled",
                ),
            )
        try:
            outcome = self.chain.submit_transfer(case.asset, auth, case.signature)
        except ChainError as exc:
            self.reservations.release(auth.from_address, auth.nonce)
            return self._settle_failure(case, Failure(Reason.UNEXPECTED_SETTLE_ERROR, str(exc)))
        if not outcome.success:
            self.reservations.release(auth.from_address, auth.nonce)
            failure = revert_failure(outcome.error or "reverted")
            if failure.reason is not Reason.NONCE_ALREADY_USED:
                failure = Failure(Reason.TRANSACTION_FAILED, failure.message)
            return self._settle_failure(case, failure, outcome.tx_hash)
        return SettleResponse(
            success=True,
            payer=case.payer,
            transaction=outcome.tx_hash,
            network=case.network,
        )

    def supported(self) -> SupportedResponse:
        extra = self.network.usdc.extra()
        return SupportedResponse(
            kinds=[
                SupportedKind(
                    x402_version=1, scheme="exact", network=self.network.name, extra=extra
                ),
                SupportedKind(
                    x402_version=2, scheme="exact", network=self.network.caip2, extra=extra
                ),
            ],
            signers={"eip155:*": [self.signer_address]},
        )

    def _first_failure(self, case: PaymentCase) -> Failure | None:
        ctx = Context(
            chain=self.chain, network=self.network, now=self.chain.now(), policy=self.policy
        )
        try:
            return first_failure(case, ctx, self.rules)
        except ChainError as exc:
            return Failure(Reason.UNEXPECTED_VERIFY_ERROR, f"the chain did not answer: {exc}")

    @staticmethod
    def _settle_failure(case: PaymentCase, failure: Failure, tx_hash: str = "") -> SettleResponse:
        return SettleResponse(
            success=False,
            error_reason=failure.reason,
            error_message=failure.message,
            payer=case.payer,
            transaction=tx_hash,
            network=case.network,
        )
