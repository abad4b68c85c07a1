"""Builders of the xGen payment requirements and of signed verify/settle bodies, for tests.

They are the facilitator conformance probes' own builders, so tests and checks sign alike.
"""

from conformance.facilitator.payloads import (
    PAY_TO,
    PRICE,
    TOKEN_DOMAIN,
    USDC,
    authorization,
    requirements_v1,
    requirements_v2,
    verify_body,
)

__all__ = [
    "PAY_TO",
    "PRICE",
    "TOKEN_DOMAIN",
    "USDC",
    "authorization",
    "requirements_v1",
    "requirements_v2",
    "verify_body",
]
