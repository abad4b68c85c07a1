"""The x402 extensions the mock declares in its 402 (bazaar, payment-identifier) and the rules
it applies to the payment-identifier a payment carries."""

from __future__ import annotations

from typing import Any

from mock_server.config import IdentifierPolicy, ServerSettings
from mock_server.paywall import Payment
from mock_server.scenarios import Fault, Scenario
from x402_core import bazaar, payment_identifier
from x402_core.listing import Listing
from x402_core.models import PaymentPayloadV2
from x402_core.payment_identifier import IdentifierError

__all__ = ["IdentifierError", "identifier_required", "offer_extensions", "payment_id_of"]


def identifier_required(settings: ServerSettings, scenario: Scenario) -> bool:
    return settings.payment_identifier == IdentifierPolicy.REQUIRED or scenario.has(
        Fault.IDENTIFIER_REQUIRED
    )


def offer_extensions(
    listing: Listing, settings: ServerSettings, required: bool, mcp: bool = False
) -> dict[str, Any]:
    """`extensions` of a v2 402 (or of the paid tool's PaymentRequired, with `mcp`)."""
    discovery = bazaar.mcp_extension if mcp else bazaar.http_extension
    extensions = {bazaar.BAZAAR: discovery(listing, settings.max_string_chars)}
    if required or settings.payment_identifier != IdentifierPolicy.OFF:
        extensions[payment_identifier.PAYMENT_IDENTIFIER] = payment_identifier.declaration(required)
    return extensions


def payment_id_of(payment: Payment, settings: ServerSettings, required: bool) -> str | None:
    """The id the purchase is recorded under (None: none, or the extension is off).
    IdentifierError when the id is malformed, or missing from a v2 payment that must carry one;
    a v1 payment carries no extensions, and its offer declares none."""
    if not isinstance(payment.payload, PaymentPayloadV2):
        return None
    if settings.payment_identifier == IdentifierPolicy.OFF and not required:
        return None
    found = payment_identifier.identifier_in(payment.payload.extensions)
    if found is None and required:
        raise IdentifierError(
            f"this server requires a payment identifier: echo extensions"
            f"[{payment_identifier.PAYMENT_IDENTIFIER!r}] with info.id set "
            f"({payment_identifier.ID_RULE})"
        )
    return found
