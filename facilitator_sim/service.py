"""The facilitator's decisions: verify a payment, settle it at most once, say what is supported."""

from __future__ import annotations

import json
import time

from facilitator_sim.case import PaymentCase, case_from_request
from facilitator_sim.chains.base import Chain, ChainError, ReceiptTimeoutError, TransferOutcome
from facilitator_sim.identifiers import Binding, IdentifierBindings, MemoryBindings
from facilitator_sim.locks import KeyedLocks
from facilitator_sim.rules import (
    RULES,
    Context,
    Failure,
    Policy,
    Rule,
    first_failure,
    revert_failure,
)
from facilitator_sim.settlements import (
    MemoryRecords,
    SettlementRecord,
    SettlementRecords,
    SettlementState,
    authorization_key,
    payload_id,
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
_ID_CONFLICT = Failure(
    Reason.PAYMENT_IDENTIFIER_CONFLICT,
    "this payment identifier belongs to another payment settled here; send that payment again, "
    "or this one with a new id",
)


class Facilitator:
    """Verifies and settles `exact` EVM payments on one chain. Methods block on chain I/O.

    Settlement is at most once per authorization, and a repeated `/settle` of the same payment
    reports the transaction already made (or still pending) instead of sending another; its
    records say what was sent even when the chain forgot it.
    """

    def __init__(
        self,
        chain: Chain,
        signer_address: str,
        policy: Policy | None = None,
        rules: tuple[Rule, ...] = RULES,
        records: SettlementRecords | None = None,
        bindings: IdentifierBindings | None = None,
    ) -> None:
        self.chain = chain
        self.network = network_by_chain_id(chain.chain_id)
        self.signer_address = signer_address
        self.policy = policy or Policy()
        self.rules = rules
        self.records: SettlementRecords = records or MemoryRecords()
        self.bindings: IdentifierBindings = bindings or MemoryBindings()
        self.locks = KeyedLocks()
        self._started = time.time()

    def verify(self, request: VerifyRequest) -> VerifyResponse:
        case = case_from_request(request)
        failure = self._recorded_use(case) or self._id_conflict(case) or self._first_failure(case)
        if failure is not None:
            return VerifyResponse(
                is_valid=False,
                invalid_reason=failure.reason,
                invalid_message=failure.message,
                payer=case.payer,
            )
        return VerifyResponse(is_valid=True, payer=case.payer)

    def settle(self, request: VerifyRequest) -> SettleResponse:
        return self.settle_case(case_from_request(request))

    def settle_case(self, case: PaymentCase) -> SettleResponse:
        """Settle one payment; settles of the same authorization take turns, so each sees what
        the one before it sent."""
        key = authorization_key(case.asset, case.authorization)
        with self.locks.hold(key, timeout=self.policy.receipt_timeout_seconds) as held:
            if not held:
                return self._pending(case, "", "another settle of this payment is still running")
            return self._settle_held(case, key)

    def _settle_held(self, case: PaymentCase, key: str) -> SettleResponse:
        existing = self.records.get(key)
        if existing is not None:
            return self._repeat(case, existing)
        failure = self._id_conflict(case) or self._first_failure(case)
        if failure is not None:
            return self._settle_failure(case, failure)
        if case.payment_id is not None:
            bound = self.bindings.bind(Binding(case.payment_id, key, self._payload(case)))
            if (bound.key, bound.payload) != (key, self._payload(case)):
                return self._settle_failure(case, _ID_CONFLICT)
        claim = SettlementRecord(
            key, self._payload(case), SettlementState.SUBMITTING, case.network, case.payer
        )
        holder = self.records.claim(claim)
        if holder is not None:  # another facilitator process on the same records
            return self._repeat(case, holder)
        return self._submit(case, key)

    def _id_conflict(self, case: PaymentCase) -> Failure | None:
        """The payment's id is bound to another payment (or to this authorization offered
        under other requirements)."""
        bound = None if case.payment_id is None else self.bindings.get(case.payment_id)
        if bound is None:
            return None
        key = authorization_key(case.asset, case.authorization)
        if (bound.key, bound.payload) == (key, self._payload(case)):
            return None
        return _ID_CONFLICT

    def _submit(self, case: PaymentCase, key: str) -> SettleResponse:
        sent: list[str] = []

        def broadcast(tx_hash: str) -> None:
            self.records.update(key, SettlementState.BROADCAST, tx_hash)
            sent.append(tx_hash)

        try:
            outcome = self.chain.submit_transfer(
                case.asset,
                case.authorization,
                case.signature,
                broadcast,
                self.policy.receipt_timeout_seconds,
            )
        except ReceiptTimeoutError as exc:
            return self._pending(case, exc.tx_hash, str(exc))
        except ChainError as exc:
            if sent:
                return self._pending(case, sent[-1], f"the chain did not confirm: {exc}")
            self.records.release(key)
            return self._settle_failure(case, Failure(Reason.UNEXPECTED_SETTLE_ERROR, str(exc)))
        return self._finish(case, key, outcome)

    def _finish(self, case: PaymentCase, key: str, outcome: TransferOutcome) -> SettleResponse:
        if outcome.success:
            self.records.update(key, SettlementState.SETTLED, outcome.tx_hash)
            return self._settled(case, outcome.tx_hash)
        self.records.release(key)  # reverted: nothing moved, a later settle may try again
        failure = revert_failure(outcome.error or "reverted")
        if failure.reason is not Reason.NONCE_ALREADY_USED:
            failure = Failure(Reason.TRANSACTION_FAILED, failure.message)
        return self._settle_failure(case, failure, outcome.tx_hash)

    def _repeat(self, case: PaymentCase, record: SettlementRecord) -> SettleResponse:
        """A settle of an authorization this facilitator already claimed."""
        if record.payload != self._payload(case):
            return self._settle_failure(
                case,
                Failure(
                    Reason.NONCE_ALREADY_USED,
                    "another authorization with this nonce was settled or is being settled",
                ),
            )
        if record.state is SettlementState.SETTLED:
            return self._settled(case, record.tx_hash)
        if record.state is SettlementState.SUBMITTING:
            if record.updated_at >= self._started:
                return self._pending(case, "", "another facilitator process is sending it")
            # Claimed by a process that died before sending anything (the hash is recorded
            # before a transaction leaves): nothing moved.
            self.records.release(record.key)
            return self._settle_held(case, record.key)
        return self._reconcile(case, record)

    def _reconcile(self, case: PaymentCase, record: SettlementRecord) -> SettleResponse:
        """A transaction was sent for this payment and its outcome is not recorded: ask the
        chain; a transaction the chain never got (or forgot) is sent again only if the
        authorization is still unused."""
        try:
            outcome = self.chain.transaction_outcome(record.tx_hash)
            if outcome is None and self.chain.transaction_known(record.tx_hash):
                wait = self.policy.receipt_timeout_seconds
                outcome = self.chain.transaction_outcome(record.tx_hash, wait)
                if outcome is None:
                    return self._pending(case, record.tx_hash, "the transaction is not mined yet")
            if outcome is not None:
                return self._finish(case, record.key, outcome)
            auth = case.authorization
            used = self.chain.authorization_used(case.asset, auth.from_address, auth.nonce)
        except ChainError as exc:
            return self._pending(case, record.tx_hash, f"the chain did not answer: {exc}")
        self.records.release(record.key)
        if used:
            return self._settle_failure(
                case, Failure(Reason.NONCE_ALREADY_USED, "the authorization was used elsewhere")
            )
        return self._settle_held(case, record.key)

    def disagreements(self) -> list[SettlementRecord]:
        """Settlements recorded here whose authorization the chain says is unused (a chain that
        lost its state); they are never settled again."""
        found = []
        for record in self.records.all():
            if record.state is not SettlementState.SETTLED:
                continue
            token, payer, nonce = record.key.split(":")
            if not self.chain.authorization_used(token, payer, bytes.fromhex(nonce[2:])):
                found.append(record)
        return found

    def _recorded_use(self, case: PaymentCase) -> Failure | None:
        record = self.records.get(authorization_key(case.asset, case.authorization))
        if record is None:
            return None
        where = f" in {record.tx_hash}" if record.tx_hash else ""
        return Failure(
            Reason.NONCE_ALREADY_USED,
            f"this authorization was settled or is being settled by this facilitator{where}",
        )

    @staticmethod
    def _payload(case: PaymentCase) -> str:
        requirements = json.dumps(
            [case.version, case.scheme, case.network, case.amount, case.asset.lower(),
             case.pay_to.lower(), case.max_timeout_seconds, case.extra],
            sort_keys=True,
        )  # fmt: skip
        return payload_id(case.authorization, case.signature, requirements)

    def _settled(self, case: PaymentCase, tx_hash: str) -> SettleResponse:
        return SettleResponse(
            success=True, payer=case.payer, transaction=tx_hash, network=case.network
        )

    def _pending(self, case: PaymentCase, tx_hash: str, message: str) -> SettleResponse:
        return SettleResponse(
            success=False,
            error_reason=Reason.SETTLEMENT_PENDING,
            error_message=f"{message}; settle the same payment again to learn its outcome",
            payer=case.payer,
            transaction=tx_hash,
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
