"""The payment provider contract (dawra.ports.PaymentProvider), held against the sandbox: idempotency keys on every
call, its documented test inputs, and its signed webhooks."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from fakes import FixedClock

from dawra.adapters.payments.sandbox import (
    AUTHORIZATION_VALIDITY,
    SandboxLedger,
    SandboxPaymentProvider,
    event,
    sign,
)
from dawra.contracts.problems import kind_of
from dawra.domain.errors import (
    AuthorizationExpired,
    PaymentDeclined,
    PaymentKeyReused,
    TransientError,
    WebhookRejected,
)
from dawra.domain.money import Money
from dawra.domain.payment_events import PaymentEventKind

SAR = "SAR"


def sar(amount: int) -> Money:
    return Money(amount=amount, currency=SAR)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def provider(clock: FixedClock) -> SandboxPaymentProvider:
    return SandboxPaymentProvider(clock=clock)


def authorized(provider: SandboxPaymentProvider, token: str = "tok_sandbox_approve", amount: int = 10_000) -> str:
    return provider.authorize(token, sar(amount), "chk_" + "a" * 64)


# --- idempotency keys: same key and parameters, same result; same key, other parameters, refused -------------------
def test_every_call_repeated_under_its_key_answers_the_same(provider):
    auth = authorized(provider)
    assert authorized(provider) == auth
    calls = [
        lambda: provider.capture(auth, sar(4000), "shp_1"),
        lambda: provider.void_part(auth, sar(1000), "ord_1:line"),
        lambda: provider.refund(auth, sar(500), "ord_1:refund:1"),
        lambda: provider.refund(auth, sar(4000), "ret_1:refund"),  # a refund in full: another key
        lambda: provider.void(auth, "ord_1:cancel"),
    ]
    for call in calls:
        assert call() == call()
    assert len({call() for call in calls}) == len(calls)  # each key its own result


@pytest.mark.parametrize("again", [
    lambda p, auth: p.authorize("tok_sandbox_approve", sar(10_001), "chk_" + "a" * 64),  # another amount
    lambda p, auth: p.authorize("tok_sandbox_capture_retry", sar(10_000), "chk_" + "a" * 64),  # another card
    lambda p, auth: p.capture(auth, sar(4001), "shp_1"),
    lambda p, auth: p.refund(auth, sar(501), "ord_1:refund:1"),
    lambda p, auth: p.void_part(auth, sar(999), "ord_1:line"),
    lambda p, auth: p.reauthorize(auth, sar(9000), "ord_1:reauth:0"),
])
def test_the_same_key_with_other_parameters_is_refused_and_moves_nothing(provider, again):
    auth = authorized(provider)
    first = (provider.capture(auth, sar(4000), "shp_1"), provider.refund(auth, sar(500), "ord_1:refund:1"),
             provider.void_part(auth, sar(1000), "ord_1:line"), provider.reauthorize(auth, sar(10_000),
                                                                                      "ord_1:reauth:0"))
    with pytest.raises(PaymentKeyReused) as refused:
        again(provider, auth)
    assert "used before with other parameters" in refused.value.message
    assert kind_of(refused.value).status == 422 and kind_of(refused.value).code == "idempotency_key_reused"
    # the first answers stand
    assert first == (provider.capture(auth, sar(4000), "shp_1"), provider.refund(auth, sar(500), "ord_1:refund:1"),
                     provider.void_part(auth, sar(1000), "ord_1:line"),
                     provider.reauthorize(auth, sar(10_000), "ord_1:reauth:0"))


def test_keys_are_scoped_to_their_operation(provider):
    auth = authorized(provider)
    refunded = provider.refund(auth, sar(100), "ord_1:cancel")
    voided = provider.void(auth, "ord_1:cancel")  # compensation refunds and voids under the order's one key
    assert refunded != voided


def test_two_providers_sharing_a_ledger_agree_as_one_provider_would(clock):
    ledger = SandboxLedger()
    one, other = SandboxPaymentProvider(clock, ledger), SandboxPaymentProvider(clock, ledger)
    auth = authorized(one)
    assert authorized(other) == auth
    with pytest.raises(PaymentKeyReused):
        other.authorize("tok_sandbox_approve", sar(1), "chk_" + "a" * 64)


# --- the documented test inputs ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("token", "error", "status"), [
    ("tok_sandbox_decline", PaymentDeclined, 402),
    ("tok_sandbox_insufficient", PaymentDeclined, 402),
    ("tok_sandbox_unknown", PaymentDeclined, 402),
    ("tok_sandbox_unavailable", TransientError, 503),
])
def test_declines_and_processor_errors_map_to_domain_errors_and_http(provider, token, error, status):
    with pytest.raises(error) as raised:
        authorized(provider, token)
    assert kind_of(raised.value).status == status


def test_insufficient_funds_says_so(provider):
    with pytest.raises(PaymentDeclined, match="insufficient funds"):
        authorized(provider, "tok_sandbox_insufficient")


def test_an_approved_authorisation_lapses_after_its_documented_validity(provider, clock):
    assert provider.authorization_validity == AUTHORIZATION_VALIDITY == timedelta(days=7)
    auth = authorized(provider)
    clock.advance(days=6, hours=23)
    provider.capture(auth, sar(100), "shp_1")  # still good
    clock.advance(hours=1)
    with pytest.raises(AuthorizationExpired) as lapsed:
        provider.capture(auth, sar(100), "shp_2")
    assert isinstance(lapsed.value, PaymentDeclined) and kind_of(lapsed.value).status == 402
    assert provider.capture(auth, sar(100), "shp_1")  # a repeat of a capture applied in time still answers


def test_the_expired_token_lapses_at_once_and_reauthorises(provider, clock):
    auth = authorized(provider, "tok_sandbox_expired")
    with pytest.raises(AuthorizationExpired):
        provider.capture(auth, sar(100), "shp_1")
    renewed = provider.reauthorize(auth, sar(10_000), "ord_1:reauth:0")
    assert renewed != auth and provider.capture(renewed, sar(100), "shp_1")


def test_a_renewal_releases_the_old_authorisation(provider):
    auth = authorized(provider)
    provider.reauthorize(auth, sar(10_000), "ord_1:reauth:0")
    with pytest.raises(PaymentDeclined, match="released"):
        provider.capture(auth, sar(100), "shp_1")


def test_the_expired_no_reauth_token_declines_the_reauthorisation(provider):
    auth = authorized(provider, "tok_sandbox_expired_no_reauth")
    with pytest.raises(AuthorizationExpired):
        provider.capture(auth, sar(100), "shp_1")
    with pytest.raises(PaymentDeclined, match="declined the re-authorisation"):
        provider.reauthorize(auth, sar(10_000), "ord_1:reauth:0")


def test_the_capture_retry_token_fails_once_per_key_then_captures(provider):
    auth = authorized(provider, "tok_sandbox_capture_retry")
    with pytest.raises(TransientError):
        provider.capture(auth, sar(100), "shp_1")
    captured = provider.capture(auth, sar(100), "shp_1")
    assert provider.capture(auth, sar(100), "shp_1") == captured
    with pytest.raises(TransientError):
        provider.capture(auth, sar(100), "shp_2")  # another shipment's capture: its own first failure


def test_a_payment_link_never_lapses(provider, clock):
    auth, url = provider.create_link(sar(5000), "chk_" + "b" * 64)
    assert url.endswith(auth) and provider.create_link(sar(5000), "chk_" + "b" * 64) == (auth, url)
    with pytest.raises(PaymentKeyReused):
        provider.create_link(sar(5001), "chk_" + "b" * 64)
    clock.advance(days=30)
    assert provider.capture(auth, sar(5000), "shp_1")


# --- webhooks ------------------------------------------------------------------------------------------------------
def body(**overrides) -> bytes:
    fields = {"event_id": "evt_1", "kind": PaymentEventKind.REFUND_FAILED, "authorization_id": "auth_" + "0" * 24,
              "payment_reference": "chk_" + "a" * 64, "occurred_at": "2026-11-23T12:00:00+03:00",
              "reference": "ret_1:refund", "amount": sar(500), "reason": "card closed"} | overrides
    return event(fields.pop("event_id"), fields.pop("kind"), fields.pop("authorization_id"),
                 fields.pop("payment_reference"), **fields)


def test_a_signed_webhook_is_verified_in_its_replay_window_and_read(provider):
    raw, now = body(), int(time.time())
    provider.verify(raw, sign(raw, b"k", now), b"k", now * 1000)
    provider.verify(raw, sign(raw, b"k", now - 299), b"k", now * 1000)
    (read,) = provider.parse(raw)
    assert (read.kind, read.amount, read.reference, read.reason) == (PaymentEventKind.REFUND_FAILED, sar(500),
                                                                     "ret_1:refund", "card closed")
    assert read.occurred_at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC) and read.dedup_key == "payment#sandbox#evt_1"


@pytest.mark.parametrize(("signature", "reason"), [
    (None, "signature"),
    ("v1=abc", "signature"),
    ("t=NOW,v1=" + "0" * 64, "signature"),
    ("OTHER_KEY", "signature"),
    ("OLD", "replay"),
])
def test_bad_signatures_and_replays_are_rejected(provider, signature, reason):
    raw, now = body(), int(time.time())
    given = {"OTHER_KEY": sign(raw, b"other", now), "OLD": sign(raw, b"k", now - 301)}.get(
        signature or "", (signature or "").replace("NOW", str(now)) or None)
    with pytest.raises(WebhookRejected) as rejected:
        provider.verify(raw, given, b"k", now * 1000)
    assert rejected.value.reason == reason


@pytest.mark.parametrize("raw", [b"not json", body(kind="payment.teleported"), body(occurred_at="2026-11-23T12:00"),
                                 body(event_id="evt 1 with spaces")])
def test_malformed_events_are_rejected_as_shape(provider, raw):
    with pytest.raises(WebhookRejected) as rejected:
        provider.parse(raw)
    assert rejected.value.reason == "shape"
