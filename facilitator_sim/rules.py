"""The ordered verification rules of an `exact` EVM payment; the first failing rule answers.

Each rule reads the payment case and the chain (never writes) and returns a Failure or None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from facilitator_sim.case import PaymentCase
from facilitator_sim.chains.base import Chain
from x402_core.eip3009 import Domain, SignatureError, recover_address, transfer_digest
from x402_core.networks import Network
from x402_core.reasons import Reason

_ZERO_ADDRESS = "0x" + "00" * 20
_REVERT_USED = "authorization is used or canceled"


@dataclass(frozen=True, slots=True)
class Failure:
    """A refused payment: the wire reason and a sentence saying what was expected."""

    reason: Reason
    message: str


@dataclass(frozen=True, slots=True)
class Policy:
    """The facilitator's choices where the spec leaves room."""

    v1_value_at_least: bool = False
    """v1's prose says the value 'meets or exceeds' maxAmountRequired; the SDK requires equality."""
    clock_skew_seconds: int = 30
    """How far validBefore may exceed now + maxTimeoutSeconds (payers' clocks drift)."""
    settle_margin_seconds: int = 6
    """validBefore must leave at least this long to get the settlement mined."""
    receipt_timeout_seconds: float = 20.0
    """How long a settle waits for its receipt before answering `settlement_pending`."""


@dataclass(frozen=True, slots=True)
class Context:
    """What the rules see besides the case: the chain, its network, its clock, the policy."""

    chain: Chain
    network: Network
    now: int
    policy: Policy

    @property
    def token_domain(self) -> Domain:
        usdc = self.network.usdc
        return Domain(usdc.eip712_name, usdc.eip712_version, self.network.chain_id, usdc.address)


Rule = Callable[[PaymentCase, Context], Failure | None]


def version_and_scheme(case: PaymentCase, ctx: Context) -> Failure | None:
    if case.scheme != "exact":
        return Failure(
            Reason.UNSUPPORTED_SCHEME, f"scheme {case.scheme!r}: only 'exact' is supported"
        )
    if case.payload_scheme != case.scheme:
        return Failure(
            Reason.INVALID_SCHEME,
            f"payment scheme {case.payload_scheme!r} differs from the required {case.scheme!r}",
        )
    return None


def network_supported(case: PaymentCase, ctx: Context) -> Failure | None:
    expected = ctx.network.name if case.version == 1 else ctx.network.caip2
    if case.network != expected:
        return Failure(
            Reason.INVALID_NETWORK,
            f"network {case.network!r} is not supported; this facilitator settles on {expected!r}",
        )
    if case.payload_network != case.network:
        return Failure(
            Reason.NETWORK_MISMATCH,
            f"payment network {case.payload_network!r} differs from the required {case.network!r}",
        )
    return None


def requirements_well_formed(case: PaymentCase, ctx: Context) -> Failure | None:
    usdc = ctx.network.usdc
    if case.asset.lower() != usdc.address.lower():
        return Failure(
            Reason.INVALID_PAYMENT_REQUIREMENTS,
            f"asset {case.asset} is not settled here; expected USDC at {usdc.address}",
        )
    if case.amount == 0:
        return Failure(Reason.INVALID_PAYMENT_REQUIREMENTS, "the required amount is 0")
    extra = case.extra or {}
    name, version = extra.get("name"), extra.get("version")
    if not isinstance(name, str) or not isinstance(version, str):
        return Failure(
            Reason.MISSING_EIP712_DOMAIN,
            "requirements.extra must give the token's EIP-712 'name' and 'version'",
        )
    if name != usdc.eip712_name:
        return Failure(
            Reason.TOKEN_NAME_MISMATCH,
            f"extra.name is {name!r}; the token's EIP-712 name is {usdc.eip712_name!r}",
        )
    if version != usdc.eip712_version:
        return Failure(
            Reason.TOKEN_VERSION_MISMATCH,
            f"extra.version is {version!r}; the token's EIP-712 version is {usdc.eip712_version!r}",
        )
    return None


def payload_well_formed(case: PaymentCase, ctx: Context) -> Failure | None:
    auth = case.authorization
    if auth.from_address.lower() == _ZERO_ADDRESS:
        return Failure(Reason.INVALID_PAYLOAD, "authorization.from is the zero address")
    if auth.valid_before <= auth.valid_after:
        return Failure(
            Reason.INVALID_PAYLOAD,
            f"validBefore ({auth.valid_before}) must be later than validAfter ({auth.valid_after})",
        )
    return None


def accepted_matches(case: PaymentCase, ctx: Context) -> Failure | None:
    if case.accepted_differs:
        fields = ", ".join(case.accepted_differs)
        return Failure(
            Reason.ACCEPTED_MISMATCH,
            f"payload.accepted differs from the payment requirements in: {fields}",
        )
    return None


def recipient_matches(case: PaymentCase, ctx: Context) -> Failure | None:
    if case.authorization.to.lower() != case.pay_to.lower():
        return Failure(
            Reason.RECIPIENT_MISMATCH,
            f"authorization.to is {case.authorization.to}; payTo is {case.pay_to}",
        )
    return None


def value_matches(case: PaymentCase, ctx: Context) -> Failure | None:
    value = case.authorization.value
    if case.version == 1 and ctx.policy.v1_value_at_least:
        if value < case.amount:
            return Failure(
                Reason.VALUE_MISMATCH,
                f"authorization.value {value} is below maxAmountRequired {case.amount}",
            )
        return None
    if value != case.amount:
        return Failure(
            Reason.VALUE_MISMATCH,
            f"authorization.value is {value}; exactly {case.amount} is required",
        )
    return None


def time_window(case: PaymentCase, ctx: Context) -> Failure | None:
    auth, now = case.authorization, ctx.now
    if auth.valid_after >= now:
        # The token (ours, FiatToken) requires block.timestamp > validAfter: at validAfter
        # itself a transfer reverts "not yet valid", so verify must refuse it too.
        return Failure(
            Reason.VALID_AFTER,
            f"validAfter {auth.valid_after} is not yet past (now {now}); "
            "the token accepts it from validAfter + 1",
        )
    margin = ctx.policy.settle_margin_seconds
    if auth.valid_before < now + margin:
        return Failure(
            Reason.VALID_BEFORE,
            f"validBefore {auth.valid_before} has passed or leaves under {margin}s (now {now})",
        )
    longest = case.max_timeout_seconds + ctx.policy.clock_skew_seconds
    if auth.valid_before - now > longest:
        return Failure(
            Reason.VALID_BEFORE,
            f"validBefore {auth.valid_before} is {auth.valid_before - now}s away; "
            f"maxTimeoutSeconds is {case.max_timeout_seconds}",
        )
    return None


def signature_recovers(case: PaymentCase, ctx: Context) -> Failure | None:
    digest = transfer_digest(ctx.token_domain, case.authorization)
    try:
        signer = recover_address(digest, case.signature)
    except SignatureError as exc:
        return Failure(Reason.SIGNATURE, str(exc))
    if signer != case.payer.lower():
        return Failure(
            Reason.SIGNATURE,
            f"signature recovers to {signer}, not authorization.from {case.payer}, under the "
            f"domain {ctx.token_domain.name!r} v{ctx.token_domain.version} chain "
            f"{ctx.token_domain.chain_id} contract {ctx.token_domain.verifying_contract}",
        )
    return None


def nonce_unused(case: PaymentCase, ctx: Context) -> Failure | None:
    auth = case.authorization
    if ctx.chain.authorization_used(case.asset, auth.from_address, auth.nonce):
        return Failure(
            Reason.NONCE_ALREADY_USED,
            f"nonce 0x{auth.nonce.hex()} of {auth.from_address} was already used or cancelled",
        )
    return None


def balance_suffices(case: PaymentCase, ctx: Context) -> Failure | None:
    balance = ctx.chain.balance_of(case.asset, case.payer)
    if balance < case.authorization.value:
        return Failure(
            Reason.INSUFFICIENT_FUNDS,
            f"{case.payer} holds {balance}; {case.authorization.value} is needed",
        )
    return None


def simulation_succeeds(case: PaymentCase, ctx: Context) -> Failure | None:
    revert = ctx.chain.simulate_transfer(case.asset, case.authorization, case.signature)
    if revert is None:
        return None
    return revert_failure(revert)


def revert_failure(revert: str) -> Failure:
    """The reason for a transferWithAuthorization that reverted with `revert`."""
    if _REVERT_USED in revert:
        return Failure(Reason.NONCE_ALREADY_USED, f"the token refused the nonce: {revert}")
    return Failure(Reason.SIMULATION_FAILED, f"transferWithAuthorization would revert: {revert}")


RULES: tuple[Rule, ...] = (
    version_and_scheme,
    network_supported,
    requirements_well_formed,
    payload_well_formed,
    accepted_matches,
    recipient_matches,
    value_matches,
    time_window,
    signature_recovers,
    nonce_unused,
    balance_suffices,
    simulation_succeeds,
)
"""In the order of ARCHITECTURE.md, "Facilitator verification"."""


def first_failure(
    case: PaymentCase, ctx: Context, rules: tuple[Rule, ...] = RULES
) -> Failure | None:
    """Run `rules` in order; the first failure, or None when the payment is valid."""
    for rule in rules:
        failure = rule(case, ctx)
        if failure is not None:
            return failure
    return None
