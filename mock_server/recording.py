"""What the mock's journal records of a payment: the decoded payment header, when it decodes."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers

from mock_server.paywall import read_payment
from x402_core.headers import HeaderError
from x402_service.journal import PaymentReader

NOT_RECORDED_PREFIX = "/__mock__"


def header_payment_reader(versions: frozenset[int]) -> PaymentReader:
    def read(headers: Headers, body: bytes) -> tuple[dict[str, Any] | None, int | None]:
        try:
            decoded = read_payment(headers, versions)
        except HeaderError:
            return None, None  # the malformed header itself is in the recorded headers
        if decoded is None:
            return None, None
        return decoded.payload.wire(), decoded.version

    return read
