"""The reference paying client against respx routers: paying, refusing, polling, downloading.

Every behaviour runs on both `Payer` and `AsyncPayer` (the `payer` fixture is parametrized).
"""

from __future__ import annotations

import inspect
import ssl
import time
import types
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

import x402_payer as payer_module
from tests.factories import PAY_TO, PRICE, TOKEN_DOMAIN, requirements_v1, requirements_v2
from x402_core.eip3009 import Authorization, recover_signer, transfer_digest
from x402_core.headers import (
    PAYMENT_REQUIRED,
    PAYMENT_RESPONSE,
    PAYMENT_SIGNATURE,
    X_PAYMENT,
    X_PAYMENT_RESPONSE,
    decode_header,
    encode_json_header,
)
from x402_core.models import PaymentPayloadV1, PaymentPayloadV2
from x402_core.wallets import test_wallet
from x402_payer import (
    AsyncPayer,
    DownloadError,
    JobFailedError,
    JobTimeoutError,
    MalformedOfferError,
    NoAcceptableOfferError,
    Payer,
    PayerPolicy,
    PaymentFailedError,
    PaymentUnconfirmedError,
    PollingError,
    PriceTooHighError,
    ProtocolError,
    RefusalReason,
    UnexpectedStatusError,
    UnsupportedAssetError,
    UnsupportedNetworkError,
    UnsupportedSchemeError,
)
from x402_payer.flows import private_key_bytes
from x402_payer.polling import next_poll_delay, parse_retry_after

BASE_URL = "http://xgen.test"
GENERATE = f"{BASE_URL}/v1/images/generate"
STATUS = f"{GENERATE}/job-1"
BODY = {"model": "nano-banana-2", "prompt": "a lighthouse at dusk, ünïcode"}
WALLET = test_wallet(3)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
TX = "0x" + "ab" * 32


# -- builders of server answers ------------------------------------------------------------------


def offer_v2(**changes: Any) -> dict[str, Any]:
    return {
        "x402Version": 2,
        "error": "PAYMENT-SIGNATURE header is required",
        "resource": {"url": GENERATE, "description": "xGen", "mimeType": "application/json"},
        "accepts": [requirements_v2(**changes).wire()],
    }


def offer_v1(**changes: Any) -> dict[str, Any]:
    return {
        "x402Version": 1,
        "error": "X-PAYMENT header is required",
        "accepts": [requirements_v1(**changes).wire()],
    }


def answer_402(
    v2: dict[str, Any] | None = None, v1: dict[str, Any] | None = None, header: str | None = None
) -> httpx.Response:
    headers = {}
    if header is not None:
        headers[PAYMENT_REQUIRED] = header
    elif v2 is not None:
        headers[PAYMENT_REQUIRED] = encode_json_header(v2)
    return httpx.Response(402, json=v1 if v1 is not None else {}, headers=headers)


def settlement(success: bool = True, network: str = "eip155:8453", **extra: Any) -> str:
    data = {"success": success, "transaction": TX if success else "", "network": network}
    return encode_json_header(data | {"payer": WALLET.address} | extra)


def paid_answer(version: int = 2) -> httpx.Response:
    name = PAYMENT_RESPONSE if version == 2 else X_PAYMENT_RESPONSE
    network = "eip155:8453" if version == 2 else "base"
    return httpx.Response(
        200,
        json={"id": "job-1", "status": "pending"},
        headers={name: settlement(network=network), "Location": "/v1/images/generate/job-1"},
    )


def paywall(first: httpx.Response, then: httpx.Response | None = None) -> Callable:
    """A route side effect: `first` to an unpaid request, `then` to a paid one."""

    def answer(request: httpx.Request) -> httpx.Response:
        if PAYMENT_SIGNATURE in request.headers:
            return then or paid_answer(2)
        if X_PAYMENT in request.headers:
            return then or paid_answer(1)
        return first

    return answer


def status(state: str, retry_after: str | None = None, **extra: Any) -> httpx.Response:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    return httpx.Response(200, json={"id": "job-1", "status": state} | extra, headers=headers)


def completed(*urls: str) -> httpx.Response:
    images = [{"url": u, "width": 8, "height": 8, "mime_type": "image/png"} for u in urls]
    return status("completed", images=images)


# -- fixtures -------------------------------------------------------------------------------------


class FakeTime:
    """A clock that moves only when the payer sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, f"asked to sleep {seconds} s"
        assert len(self.sleeps) < 1000, "the payer keeps sleeping: a polling loop that never ends?"
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


class Both:
    """Calls a Payer or an AsyncPayer alike: every method becomes awaitable."""

    def __init__(self, payer: Payer | AsyncPayer) -> None:
        self.payer = payer

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.payer, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        return call


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def router() -> respx.MockRouter:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as mocked:
        yield mocked


@pytest.fixture(scope="module")
def ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


@pytest.fixture(params=["sync", "async"])
async def make_payer(
    request: pytest.FixtureRequest,
    fake_time: FakeTime,
    router: respx.MockRouter,
    ssl_context: ssl.SSLContext,
) -> AsyncIterator[Callable[..., Both]]:
    clients: list[httpx.Client | httpx.AsyncClient] = []

    def make(**policy: Any) -> Both:
        # One SSL context for all: building httpx's default one costs ~20 ms per client.
        key = "0x" + WALLET.private_key.hex()
        if request.param == "sync":
            client = httpx.Client(verify=ssl_context)
            payer: Payer | AsyncPayer = Payer(
                key,
                PayerPolicy(**policy),
                client=client,
                clock=fake_time.clock,
                sleep=fake_time.sleep,
            )
        else:
            client = httpx.AsyncClient(verify=ssl_context)
            payer = AsyncPayer(
                key,
                PayerPolicy(**policy),
                client=client,
                clock=fake_time.clock,
                sleep=fake_time.async_sleep,
            )
        clients.append(client)
        return Both(payer)

    yield make
    for client in clients:
        if isinstance(client, httpx.AsyncClient):
            await client.aclose()
        else:
            client.close()


@pytest.fixture
def payer(make_payer: Callable[..., Both]) -> Both:
    return make_payer()


def payments_sent(route: respx.Route) -> list[httpx.Request]:
    return [
        c.request
        for c in route.calls
        if PAYMENT_SIGNATURE in c.request.headers or X_PAYMENT in c.request.headers
    ]


# -- paying ---------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_v2_is_preferred_when_both_versions_are_offered(payer, router):
    route = router.post("/v1/images/generate").mock(
        side_effect=paywall(answer_402(offer_v2(), offer_v1()))
    )
    paid = await payer.request_paid("POST", GENERATE, json=BODY)
    assert paid.version == 2
    assert isinstance(paid.payment, PaymentPayloadV2)
    assert paid.amount_atomic == PRICE
    retry = route.calls[1].request
    assert PAYMENT_SIGNATURE in retry.headers
    assert X_PAYMENT not in retry.headers
    assert paid.payment.resource is not None
    assert paid.payment.resource.url == GENERATE


@pytest.mark.anyio
async def test_prefer_version_1_pays_the_v1_body(make_payer, router):
    route = router.post("/v1/images/generate").mock(
        side_effect=paywall(answer_402(offer_v2(), offer_v1()))
    )
    paid = await make_payer(prefer_version=1).request_paid("POST", GENERATE, json=BODY)
    assert paid.version == 1
    assert X_PAYMENT in route.calls[1].request.headers


@pytest.mark.anyio
async def test_v1_only_offer_is_paid_with_x_payment(payer, router):
    route = router.post("/v1/images/generate").mock(side_effect=paywall(answer_402(v1=offer_v1())))
    paid = await payer.request_paid("POST", GENERATE, json=BODY)
    assert paid.version == 1
    sent = decode_header(route.calls[1].request.headers[X_PAYMENT], PaymentPayloadV1)
    assert sent == paid.payment
    assert sent.network == "base"
    assert PAYMENT_SIGNATURE not in route.calls[1].request.headers
    assert paid.settlement is not None
    assert paid.settlement.network == "base"


@pytest.mark.anyio
@pytest.mark.parametrize("version", [1, 2])
async def test_payment_is_signed_by_the_payer_for_exactly_the_offer(payer, router, version):
    offers = answer_402(v2=offer_v2()) if version == 2 else answer_402(v1=offer_v1())
    route = router.post("/v1/images/generate").mock(side_effect=paywall(offers))
    before = int(time.time())
    await payer.request_paid("POST", GENERATE, json=BODY)
    request = route.calls[1].request
    if version == 2:
        payment = decode_header(request.headers[PAYMENT_SIGNATURE], PaymentPayloadV2)
        assert payment.accepted == requirements_v2()
    else:
        payment = decode_header(request.headers[X_PAYMENT], PaymentPayloadV1)
    auth = payment.payload.authorization
    digest = transfer_digest(TOKEN_DOMAIN, Authorization.from_wire(auth))
    signature = bytes.fromhex(payment.payload.signature[2:])
    assert recover_signer(digest, signature) == WALLET.address
    assert auth.from_ == WALLET.address
    assert int(auth.value) == PRICE
    assert auth.to.lower() == PAY_TO.lower()
    assert int(auth.valid_after) <= before
    assert int(auth.valid_before) <= int(time.time()) + 300


@pytest.mark.anyio
async def test_the_paid_retry_carries_the_same_body_and_headers(payer, router):
    route = router.post("/v1/images/generate").mock(side_effect=paywall(answer_402(offer_v2())))
    await payer.request_paid("POST", GENERATE, json=BODY, headers={"X-Trace": "t-1"})
    first, second = (c.request for c in route.calls)
    assert first.content == second.content
    assert (
        first.content.decode()
        == '{"model":"nano-banana-2","prompt":"a lighthouse at dusk, ünïcode"}'
    )
    assert second.method == "POST"
    assert second.headers["X-Trace"] == "t-1"
    assert second.headers["Content-Type"] == "application/json"


@pytest.mark.anyio
async def test_an_answer_other_than_402_is_not_paid(payer, router):
    route = router.post("/v1/images/generate").respond(400, json={"error": "prompt is required"})
    paid = await payer.request_paid("POST", GENERATE, json={})
    assert (paid.version, paid.payment, paid.settlement, paid.amount_atomic) == (
        None,
        None,
        None,
        0,
    )
    assert not paid.paid
    assert route.call_count == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("changes", "error", "reason"),
    [
        ({"amount": "100001"}, PriceTooHighError, RefusalReason.PRICE_TOO_HIGH),
        ({"network": "eip155:1"}, UnsupportedNetworkError, RefusalReason.UNSUPPORTED_NETWORK),
        ({"network": "eip155:84532"}, UnsupportedNetworkError, RefusalReason.UNSUPPORTED_NETWORK),
        ({"asset": "0x" + "11" * 20}, UnsupportedAssetError, RefusalReason.UNSUPPORTED_ASSET),
        ({"scheme": "upto"}, UnsupportedSchemeError, RefusalReason.UNSUPPORTED_SCHEME),
        ({"extra": None}, MalformedOfferError, RefusalReason.MALFORMED_OFFER),
    ],
)
async def test_refusals_send_no_payment(payer, router, changes, error, reason):
    route = router.post("/v1/images/generate").mock(
        side_effect=paywall(answer_402(offer_v2(**changes)))
    )
    with pytest.raises(error) as caught:
        await payer.request_paid("POST", GENERATE, json=BODY)
    assert caught.value.reason is reason
    assert caught.value.response is not None
    assert caught.value.response.status_code == 402
    assert route.call_count == 1


@pytest.mark.anyio
async def test_the_price_limit_is_the_policy_s(make_payer, router):
    route = router.post("/v1/images/generate").mock(side_effect=paywall(answer_402(offer_v2())))
    with pytest.raises(PriceTooHighError, match="expected at most 49999"):
        await make_payer(max_amount_atomic=PRICE - 1).request_paid("POST", GENERATE, json=BODY)
    assert route.call_count == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    "header",
    [
        "not base64 at all!",
        encode_json_header("a string"),
        "bm90IGpzb24=",  # base64 of "not json"
        encode_json_header({"x402Version": 2, "error": "pay"}),  # no accepts
        encode_json_header(offer_v1()),  # a v1 document in the v2 header
    ],
)
async def test_a_malformed_payment_required_header_is_never_paid(payer, router, header):
    route = router.post("/v1/images/generate").mock(
        side_effect=paywall(answer_402(header=header, v1=offer_v1()))
    )
    with pytest.raises(MalformedOfferError, match=PAYMENT_REQUIRED):
        await payer.request_paid("POST", GENERATE, json=BODY)
    assert route.call_count == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body", [{}, {"x402Version": 1, "accepts": [{"scheme": "exact"}]}, {"error": "pay me"}]
)
async def test_a_402_without_a_usable_offer_is_refused(payer, router, body):
    route = router.post("/v1/images/generate").respond(402, json=body)
    with pytest.raises(MalformedOfferError):
        await payer.request_paid("POST", GENERATE, json=BODY)
    assert route.call_count == 1


@pytest.mark.anyio
async def test_different_refusals_make_no_acceptable_offer(payer, router):
    offers = answer_402(offer_v2(network="eip155:1"), offer_v1(max_amount_required="900000"))
    router.post("/v1/images/generate").mock(side_effect=paywall(offers))
    with pytest.raises(NoAcceptableOfferError) as caught:
        await payer.request_paid("POST", GENERATE, json=BODY)
    assert "v2 accepts[0]" in caught.value.message
    assert "v1 accepts[0]" in caught.value.message
    assert caught.value.reason is RefusalReason.NO_ACCEPTABLE_OFFER


@pytest.mark.anyio
async def test_an_unacceptable_v2_offer_falls_back_to_an_acceptable_v1_offer(payer, router):
    offers = answer_402(offer_v2(scheme="upto"), offer_v1())
    route = router.post("/v1/images/generate").mock(side_effect=paywall(offers))
    paid = await payer.request_paid("POST", GENERATE, json=BODY)
    assert paid.version == 1
    assert len(payments_sent(route)) == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("refusal", "reason"),
    [
        (answer_402(v1=offer_v1() | {"error": "insufficient_funds"}), "insufficient_funds"),
        (
            answer_402(v2=offer_v2() | {"error": "invalid_exact_evm_payload_signature"}),
            "invalid_exact_evm_payload_signature",
        ),
        (
            httpx.Response(
                402,
                json={},
                headers={
                    PAYMENT_RESPONSE: settlement(False, errorReason="insufficient_funds"),
                    PAYMENT_REQUIRED: encode_json_header(offer_v2() | {"error": "payment failed"}),
                },
            ),
            "insufficient_funds",
        ),
    ],
)
async def test_a_402_after_paying_fails_without_paying_again(payer, router, refusal, reason):
    first = answer_402(offer_v2(), offer_v1())
    route = router.post("/v1/images/generate").mock(side_effect=paywall(first, refusal))
    with pytest.raises(PaymentFailedError) as caught:
        await payer.request_paid("POST", GENERATE, json=BODY)
    assert caught.value.reason == reason
    assert reason in str(caught.value)
    assert route.call_count == 2
    assert len(payments_sent(route)) == 1


@pytest.mark.anyio
async def test_a_failure_settlement_is_kept_on_the_error(payer, router):
    refusal = httpx.Response(
        402, headers={PAYMENT_RESPONSE: settlement(False, errorReason="transaction_failed")}
    )
    router.post("/v1/images/generate").mock(side_effect=paywall(answer_402(offer_v2()), refusal))
    with pytest.raises(PaymentFailedError) as caught:
        await payer.request_paid("POST", GENERATE, json=BODY)
    assert caught.value.settlement is not None
    assert caught.value.settlement.error_reason == "transaction_failed"


@pytest.mark.anyio
async def test_the_settlement_header_is_decoded(payer, router):
    router.post("/v1/images/generate").mock(side_effect=paywall(answer_402(offer_v2())))
    paid = await payer.request_paid("POST", GENERATE, json=BODY)
    assert paid.settlement is not None
    assert paid.settlement.success
    assert paid.settlement.transaction == TX
    assert paid.settlement.network == "eip155:8453"
    assert paid.seconds_to_402 is not None


@pytest.mark.anyio
async def test_a_malformed_settlement_header_is_a_protocol_error(payer, router):
    bad = httpx.Response(200, json={"id": "job-1"}, headers={PAYMENT_RESPONSE: "%%%"})
    route = router.post("/v1/images/generate").mock(
        side_effect=paywall(answer_402(offer_v2()), bad)
    )
    with pytest.raises(ProtocolError, match="SettleResponse"):
        await payer.request_paid("POST", GENERATE, json=BODY)
    assert len(payments_sent(route)) == 1


@pytest.mark.anyio
async def test_no_answer_to_the_payment_resends_the_same_payment_until_the_wait_ends(
    payer, router, fake_time
):
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return answer_402(offer_v2())
        raise httpx.ReadTimeout("timed out", request=request)

    router.post("/v1/images/generate").mock(side_effect=answer)
    with pytest.raises(PaymentUnconfirmedError, match="may have settled") as caught:
        await payer.request_paid("POST", GENERATE, json=BODY)
    assert isinstance(caught.value.payment, PaymentPayloadV2)
    sent = {c.headers[PAYMENT_SIGNATURE] for c in calls[1:]}
    assert len(calls) > 3
    assert len(sent) == 1, "one authorization, sent again, never a new one"
    assert sum(fake_time.sleeps) <= PayerPolicy().settle_wait_seconds


def pending_answer(transaction: str = TX, retry_after: str = "2") -> httpx.Response:
    header = encode_json_header(
        {"success": False, "errorReason": "settlement_pending", "transaction": transaction,
         "network": "eip155:8453", "payer": WALLET.address}
    )  # fmt: skip
    return httpx.Response(
        503,
        json={"error": "settlement_pending", "transaction": transaction},
        headers={PAYMENT_RESPONSE: header, "Retry-After": retry_after},
    )


@pytest.mark.anyio
async def test_a_pending_settlement_is_asked_again_with_the_same_payment(payer, router, fake_time):
    answers = iter([answer_402(offer_v2()), pending_answer(), pending_answer(), paid_answer()])
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return next(answers)

    router.post("/v1/images/generate").mock(side_effect=answer)
    paid = await payer.request_paid("POST", GENERATE, json=BODY)
    assert paid.response.status_code == 200
    assert len({c.headers[PAYMENT_SIGNATURE] for c in calls[1:]}) == 1
    assert len(calls) == 4
    assert fake_time.sleeps == [2.0, 2.0]


@pytest.mark.anyio
async def test_a_settlement_pending_past_the_wait_is_unconfirmed_with_its_transaction(
    make_payer, router, fake_time
):
    payer = make_payer(settle_wait_seconds=5)
    router.post("/v1/images/generate").mock(
        side_effect=paywall(answer_402(offer_v2()), pending_answer())
    )
    with pytest.raises(PaymentUnconfirmedError) as caught:
        await payer.request_paid("POST", GENERATE, json=BODY)
    assert caught.value.transaction == TX
    assert sum(fake_time.sleeps) <= 5


# -- polling --------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_polling_waits_the_retry_after_clamped(make_payer, router, fake_time):
    answers = [
        status("pending", "2"),
        status("processing", "3"),
        status("processing", "0"),
        status("processing", "600"),
        status("processing"),
        completed("/img/1.png"),
    ]
    route = router.get("/v1/images/generate/job-1").mock(side_effect=answers)
    job = await make_payer().poll_job(STATUS)
    assert job["status"] == "completed"
    assert fake_time.sleeps == [2.0, 3.0, 0.5, 10.0, 1.0]
    assert route.call_count == len(answers)


@pytest.mark.anyio
async def test_polling_backs_off_on_429_and_503(payer, router, fake_time):
    answers = [
        httpx.Response(503),
        httpx.Response(429, headers={"Retry-After": "5"}),
        httpx.Response(503),
        status("processing", "1"),
        httpx.Response(503),
        completed("/img/1.png"),
    ]
    router.get("/v1/images/generate/job-1").mock(side_effect=answers)
    await payer.poll_job(STATUS)
    assert fake_time.sleeps == [1.0, 5.0, 4.0, 1.0, 1.0]


@pytest.mark.anyio
async def test_polling_retries_transport_errors(payer, router, fake_time):
    answers = [httpx.ConnectError("refused"), completed("/img/1.png")]
    router.get("/v1/images/generate/job-1").mock(side_effect=answers)
    assert (await payer.poll_job(STATUS))["status"] == "completed"
    assert fake_time.sleeps == [1.0]


@pytest.mark.anyio
async def test_polling_gives_up_after_max_status_retries(make_payer, router):
    route = router.get("/v1/images/generate/job-1").respond(503)
    with pytest.raises(PollingError, match="HTTP 503") as caught:
        await make_payer(max_status_retries=2).poll_job(STATUS)
    assert caught.value.attempts == 3
    assert route.call_count == 3


@pytest.mark.anyio
async def test_polling_stops_at_once_at_a_terminal_state(payer, router, fake_time):
    route = router.get("/v1/images/generate/job-1").mock(
        side_effect=[completed("/img/1.png"), status("pending", "1")]
    )
    await payer.poll_job(STATUS)
    assert route.call_count == 1
    assert fake_time.sleeps == []


@pytest.mark.anyio
async def test_a_stuck_job_times_out(payer, router, fake_time):
    route = router.get("/v1/images/generate/job-1").mock(return_value=status("processing", "3"))
    with pytest.raises(JobTimeoutError, match="still processing") as caught:
        await payer.poll_job(STATUS, timeout=10)
    assert fake_time.sleeps == [3.0, 3.0, 3.0, 1.0]
    assert route.call_count == 5
    assert caught.value.elapsed == 10


@pytest.mark.anyio
async def test_the_policy_timeout_applies_by_default(make_payer, router, fake_time):
    router.get("/v1/images/generate/job-1").mock(return_value=status("pending", "10"))
    with pytest.raises(JobTimeoutError):
        await make_payer(poll_timeout_seconds=25).poll_job(STATUS)
    assert fake_time.sleeps == [10.0, 10.0, 5.0]


@pytest.mark.anyio
async def test_a_failed_job_raises_with_its_error(payer, router):
    failed = status("failed", error={"code": "content_policy", "message": "prompt refused"})
    route = router.get("/v1/images/generate/job-1").mock(
        side_effect=[status("pending", "1"), failed]
    )
    with pytest.raises(JobFailedError, match="content_policy") as caught:
        await payer.poll_job(STATUS)
    assert (caught.value.code, caught.value.error_message) == ("content_policy", "prompt refused")
    assert route.call_count == 2


@pytest.mark.anyio
async def test_progress_is_reported_with_the_elapsed_time(payer, router):
    router.get("/v1/images/generate/job-1").mock(
        side_effect=[status("pending", "2"), status("processing", "2"), completed("/i.png")]
    )
    seen: list[tuple[str, float]] = []
    await payer.poll_job(STATUS, progress=lambda s, t: seen.append((s, t)))
    assert seen == [("pending", 0.0), ("processing", 2.0), ("completed", 4.0)]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(404, json={"error": "not_found"}), UnexpectedStatusError),
        (httpx.Response(200, text="<html>"), ProtocolError),
        (status("queued"), ProtocolError),
    ],
)
async def test_answers_that_retrying_cannot_fix_raise(payer, router, answer, error):
    route = router.get("/v1/images/generate/job-1").mock(return_value=answer)
    with pytest.raises(error, match="expected"):
        await payer.poll_job(STATUS)
    assert route.call_count == 1


# -- downloading ----------------------------------------------------------------------------------


def png_answer(content: bytes = PNG, media_type: str = "image/png") -> httpx.Response:
    return httpx.Response(200, content=content, headers={"Content-Type": media_type})


@pytest.mark.anyio
async def test_images_are_downloaded_from_absolute_and_relative_urls(payer, router, tmp_path):
    router.get("/files/a.png").mock(return_value=png_answer())
    router.get("http://cdn.test/b.png").mock(return_value=png_answer(PNG + b"b"))
    job = completed("/files/a.png", "http://cdn.test/b.png").json()
    files = await payer.download_images(job, tmp_path / "out", status_url=STATUS)
    assert files == [tmp_path / "out" / "job-1-1.png", tmp_path / "out" / "job-1-2.png"]
    assert files[0].read_bytes() == PNG
    assert files[1].read_bytes() == PNG + b"b"


@pytest.mark.anyio
async def test_relative_urls_resolve_against_the_polled_status_url(payer, router, tmp_path):
    router.get("/v1/images/generate/job-1").mock(return_value=completed("job-1/image.png"))
    route = router.get("/v1/images/generate/job-1/image.png").mock(return_value=png_answer())
    job = await payer.poll_job(STATUS)
    assert await payer.download_images(job, tmp_path) == [tmp_path / "job-1-1.png"]
    assert route.call_count == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("answer", "match"),
    [
        (png_answer(media_type="image/jpeg"), "expected image/png"),
        (png_answer(b"GIF89a........"), "PNG signature"),
        (httpx.Response(404), "HTTP 404"),
    ],
)
async def test_downloads_are_checked(payer, router, tmp_path, answer, match):
    router.get("/files/a.png").mock(return_value=answer)
    with pytest.raises(DownloadError, match=match):
        await payer.download_images(completed("/files/a.png").json(), tmp_path, status_url=STATUS)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("job", "error"),
    [
        ({"id": "../escape", "status": "completed", "images": [{"url": "/a.png"}]}, ProtocolError),
        ({"id": "job-1", "status": "completed", "images": []}, ProtocolError),
        ({"id": "job-1", "status": "completed", "images": [{"url": "a.png"}]}, ProtocolError),
        ({"id": "job-1", "status": "pending"}, ValueError),
    ],
)
async def test_jobs_that_cannot_be_downloaded(payer, tmp_path, job, error):
    with pytest.raises(error):
        await payer.download_images(job, tmp_path)


# -- the whole generation -------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("location", [True, False])
async def test_generate_image_pays_polls_and_downloads(payer, router, tmp_path, location):
    accepted = paid_answer()
    if not location:
        del accepted.headers["Location"]
    post = router.post("/v1/images/generate").mock(
        side_effect=paywall(answer_402(offer_v2(), offer_v1()), accepted)
    )
    router.get("/v1/images/generate/job-1").mock(
        side_effect=[status("processing", "2"), completed("/files/job-1.png")]
    )
    router.get("/files/job-1.png").mock(return_value=png_answer())
    result = await payer.generate_image(BASE_URL + "/", BODY, tmp_path)
    assert result.files == [tmp_path / "job-1-1.png"]
    assert result.job["status"] == "completed"
    assert result.status_url == STATUS
    assert result.settlement is not None
    assert result.settlement.transaction == TX
    assert result.timings.to_402 == 0.0
    assert result.timings.to_completed == 2.0
    assert len(payments_sent(post)) == 1


@pytest.mark.anyio
async def test_generate_image_reports_a_bad_body_without_paying(payer, router, tmp_path):
    route = router.post("/v1/images/generate").respond(400, json={"error": "model is required"})
    with pytest.raises(UnexpectedStatusError, match="HTTP 400") as caught:
        await payer.generate_image(BASE_URL, {"prompt": "x"}, tmp_path)
    assert caught.value.settlement is None
    assert route.call_count == 1


@pytest.mark.anyio
async def test_generate_image_keeps_the_settlement_of_a_server_error(payer, router, tmp_path):
    broken = httpx.Response(500, headers={PAYMENT_RESPONSE: settlement()})
    router.post("/v1/images/generate").mock(side_effect=paywall(answer_402(offer_v2()), broken))
    with pytest.raises(UnexpectedStatusError) as caught:
        await payer.generate_image(BASE_URL, BODY, tmp_path)
    assert caught.value.settlement is not None
    assert caught.value.settlement.transaction == TX


# -- pure parts -----------------------------------------------------------------------------------


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-4") == 0.0
    later = format_datetime(now + timedelta(seconds=7), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == 7.0
    for unusable in (None, "", "soon", "nan", "inf"):
        assert parse_retry_after(unusable) is None


@given(st.text(max_size=40))
def test_retry_after_never_raises(value):
    seconds = parse_retry_after(value)
    assert seconds is None or seconds >= 0


@given(
    st.one_of(st.none(), st.floats(min_value=0, max_value=1e9)),
    st.integers(min_value=0, max_value=10_000),
)
def test_poll_delays_stay_within_the_policy_bounds(retry_after, retries):
    policy = PayerPolicy()
    delay = next_poll_delay(policy, retry_after, retries)
    assert policy.min_poll_interval <= delay <= policy.max_poll_interval


@pytest.mark.parametrize(
    "changes",
    [
        {"max_amount_atomic": -1},
        {"prefer_version": 3},
        {"poll_timeout_seconds": 0},
        {"min_poll_interval": 5, "max_poll_interval": 1},
        {"max_status_retries": -1},
    ],
)
def test_an_impossible_policy_is_refused(changes):
    with pytest.raises(ValueError, match="expected"):
        PayerPolicy(**changes)


def test_private_keys_are_read_from_bytes_or_hex():
    hex_key = WALLET.private_key.hex()
    assert private_key_bytes(WALLET.private_key) == WALLET.private_key
    assert private_key_bytes(hex_key) == private_key_bytes("0x" + hex_key) == WALLET.private_key
    for bad in ("0xzz", b"\x01" * 31, bytes(32), "ff" * 32):
        with pytest.raises(ValueError, match="expected"):
            private_key_bytes(bad)
    with Payer(hex_key) as default:
        assert default.address == WALLET.address


def test_all_lists_exactly_the_public_names():
    public = {
        name
        for name, value in vars(payer_module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(payer_module.__all__) == public


@pytest.mark.anyio
async def test_an_async_payer_closes_the_client_it_made():
    async with AsyncPayer(WALLET.private_key) as payer:
        assert payer.address == WALLET.address
        assert payer.policy == PayerPolicy()
    assert payer.client.is_closed
