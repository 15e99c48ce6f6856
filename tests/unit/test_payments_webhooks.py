"""A payment provider's webhooks (dawra.app.payment_events) with in-memory fakes: verified, applied once by event id,
in any order; a paid payment link releases its order's hold; failures and disputes are told to operations."""

from __future__ import annotations

import time

import pytest
from fakes import SECRET, FakeSecrets, RecordingPayments, request

from dawra.adapters.payments.sandbox import SandboxPaymentProvider, event, sign
from dawra.app.payment_events import ALERTS, PAID_AFTER_CANCELLATION, ApplyPaymentEvents
from dawra.contracts.webhook import PaymentWebhookEnvelope
from dawra.domain.errors import TransientError
from dawra.domain.holds import Hold, HoldKind
from dawra.domain.money import Money
from dawra.domain.order import OrderStatus
from dawra.domain.payment_events import PaymentEventKind as K
from dawra.domain.payment_events import checkout_reference
from dawra.domain.timeline import TimelineKind

AT = "2026-11-23T09:30:00Z"


@pytest.fixture
def pay(shop):
    sandbox = SandboxPaymentProvider(clock=shop.clock)
    shop.payments = RecordingPayments(sandbox)
    shop.events = ApplyPaymentEvents(shop.orders, shop.uow, shop.workflow, {"sandbox": sandbox},
                                     FakeSecrets({"pay-secret": SECRET}), {"sandbox": "pay-secret"}, shop.rejections,
                                     shop.alerts, shop.clock)
    return shop


def link_order(shop, key: str = "agent-key-0001", reserve: bool = True) -> tuple[str, str, str]:
    """(order id, its authorisation, its payment reference): an agent's payment-link order, held for the payment."""
    links = shop.payments.provider
    found: dict[str, str] = {}

    def pay_by_link(total: Money, reference: str) -> tuple[str, str]:
        found["reference"] = reference
        return "sandbox", links.create_link(total, reference)[0]

    order = shop.checkout.place(key, request({"MUG-CLASSIC": 1}), pay_by_link,
                                hold=Hold(kind=HoldKind.AWAITING_LINK_PAYMENT, reason="awaiting payment by link"))
    if reserve:
        shop.reserve(order.order_id)
    return order.order_id, order.payment.authorization_id, found["reference"]


def post(shop, raw: bytes, *, secret: str = SECRET, signed_at: int | None = None, message: str = "m-1") -> list[str]:
    now = int(time.time())
    envelope = PaymentWebhookEnvelope.wrap("sandbox", raw, sign(raw, secret.encode(), signed_at or now), now * 1000)
    return shop.events.handle_stored(envelope.model_dump_json(), message)


def payment_events(shop, order_id: str) -> list[dict[str, str]]:
    return [e.detail for e in shop.orders.timeline(order_id) if e.kind == TimelineKind.PAYMENT_EVENT]


def test_the_checkout_reference_leads_to_the_order():
    assert checkout_reference("ab" * 32) == "chk_" + "ab" * 32


def test_a_paid_link_releases_the_hold_and_resumes_the_waiting_parcel(pay):
    order_id, auth, reference = link_order(pay)
    order = pay.orders.get(order_id)
    assert order.status == OrderStatus.ON_HOLD and order.held_as == HoldKind.AWAITING_LINK_PAYMENT
    order.wait_for_release(order.shipments[0].shipment_id, "token-1")
    pay.uow.commit(order=order)
    assert post(pay, event("evt_paid", K.LINK_PAID, auth, reference, occurred_at=AT)) == ["released"]
    order = pay.orders.get(order_id)
    assert order.status == OrderStatus.ALLOCATED and pay.workflow.resumed == {"token-1": {"released": True}}
    assert [d["event"] for d in payment_events(pay, order_id)] == ["payment_link.paid"]
    assert TimelineKind.ORDER_RELEASED in [e.kind for e in pay.orders.timeline(order_id)]


def test_a_link_paid_before_the_stock_is_reserved_is_never_held(pay):
    order_id, auth, reference = link_order(pay, reserve=False)  # out of order: the payment outran the reservation
    assert post(pay, event("evt_paid", K.LINK_PAID, auth, reference, occurred_at=AT)) == ["released"]
    pay.reserve(order_id)
    assert pay.orders.get(order_id).status == OrderStatus.ALLOCATED


def test_an_event_delivered_twice_is_applied_once(pay):
    order_id, auth, reference = link_order(pay)
    raw = event("evt_paid", K.LINK_PAID, auth, reference, occurred_at=AT)
    assert post(pay, raw, message="m-1") == ["released"]
    assert post(pay, raw, message="m-2") == ["duplicate"]
    assert len(payment_events(pay, order_id)) == 1


def test_a_link_paid_after_a_manager_released_it_is_only_recorded(pay):
    order_id, auth, reference = link_order(pay)
    order = pay.orders.get(order_id)
    order.release_hold("2026-11-23T09:10:00.000Z", "manager")
    pay.uow.commit(order=order)
    assert post(pay, event("evt_paid", K.LINK_PAID, auth, reference, occurred_at=AT)) == ["recorded"]
    assert pay.alerts.alerts == []


def test_a_link_paid_after_the_order_was_cancelled_asks_a_person_to_give_it_back(pay):
    order_id, auth, reference = link_order(pay)
    order = pay.orders.get(order_id)
    order.request_cancellation("never paid", "2026-11-23T09:10:00.000Z", "agent")
    pay.uow.commit(order=order)
    assert post(pay, event("evt_paid", K.LINK_PAID, auth, reference, occurred_at=AT)) == ["paid after cancellation"]
    assert pay.alerts.alerts == [(order_id, PAID_AFTER_CANCELLATION)]


def card_order(shop) -> tuple[str, str, str]:
    order_id = shop.place({"MUG-CLASSIC": 1}, key="card-key-0001")
    order = shop.orders.get(order_id)
    from dawra.app.checkout import key_hash
    return order_id, order.payment.authorization_id, checkout_reference(key_hash("card-key-0001"))


@pytest.mark.parametrize("kind", [K.CAPTURE_FAILED, K.REFUND_FAILED, K.DISPUTE_OPENED])
def test_failures_and_disputes_go_on_the_timeline_and_to_operations(pay, kind):
    order_id, auth, reference = card_order(pay)
    raw = event("evt_1", kind, auth, reference, occurred_at=AT, amount=Money(amount=500, currency="SAR"),
                reference="ret_1:refund", reason="card closed")
    assert post(pay, raw) == ["recorded"]
    (detail,) = payment_events(pay, order_id)
    assert detail["event"] == kind.value and detail["amount"] == "500" and detail["reason"] == "card closed"
    assert pay.alerts.alerts == [(order_id, ALERTS[kind])]
    assert post(pay, raw, message="m-2") == ["duplicate"]  # an alert may repeat, never be lost
    assert len(payment_events(pay, order_id)) == 1


def test_events_out_of_order_are_each_recorded_at_the_providers_time(pay):
    order_id, auth, reference = card_order(pay)
    later = event("evt_2", K.REFUND_FAILED, auth, reference, occurred_at="2026-11-23T09:40:00Z")
    earlier = event("evt_1", K.REFUND_SETTLED, auth, reference, occurred_at="2026-11-23T09:20:00Z")
    assert post(pay, later) == ["recorded"] and post(pay, earlier) == ["recorded"]
    timeline = [e for e in pay.orders.timeline(order_id) if e.kind == TimelineKind.PAYMENT_EVENT]
    assert [e.detail["event"] for e in sorted(timeline, key=lambda e: e.at)] == ["refund.settled", "refund.failed"]
    assert pay.orders.get(order_id).status == OrderStatus.CONFIRMED  # nothing moved backwards or forwards


def test_a_time_in_the_future_is_recorded_as_the_time_it_reached_us(pay):
    order_id, auth, reference = card_order(pay)
    post(pay, event("evt_1", K.CAPTURE_SETTLED, auth, reference, occurred_at="2099-01-01T00:00:00Z"))
    (settled,) = [e for e in pay.orders.timeline(order_id) if e.kind == TimelineKind.PAYMENT_EVENT]
    assert settled.at < "2099" and settled.at == settled.detail["received_at"]


@pytest.mark.parametrize(("tamper", "reason"), [
    ({"secret": "another-secret"}, "signature"),
    ({"signed_at": int(time.time()) - 3600}, "replay"),
])
def test_forged_and_replayed_webhooks_are_rejected_and_recorded(pay, tamper, reason):
    order_id, auth, reference = link_order(pay)
    assert post(pay, event("evt_paid", K.LINK_PAID, auth, reference, occurred_at=AT), **tamper) == [
        f"rejected: {reason}"]
    assert pay.orders.get(order_id).status == OrderStatus.ON_HOLD
    assert pay.rejections.recorded[-1]["carrier"] == "payments:sandbox"
    assert pay.rejections.recorded[-1]["reason"] == reason


def test_an_event_about_another_authorisation_or_reference_is_rejected(pay):
    order_id, auth, reference = link_order(pay)
    assert post(pay, event("e1", K.LINK_PAID, "auth_" + "f" * 24, reference, occurred_at=AT)) == ["rejected: shape"]
    assert post(pay, event("e2", K.LINK_PAID, auth, "order-42", occurred_at=AT)) == ["rejected: shape"]
    assert post(pay, b"{}") == ["rejected: shape"]
    assert pay.events.handle_stored("not an envelope", "m") == ["rejected: shape"]
    assert pay.orders.get(order_id).status == OrderStatus.ON_HOLD


def test_an_unknown_provider_is_rejected(pay):
    raw = b"{}"
    envelope = PaymentWebhookEnvelope.wrap("acme", raw, sign(raw, SECRET.encode(), int(time.time())),
                                           int(time.time() * 1000))
    assert pay.events.handle_stored(envelope.model_dump_json(), "m") == ["rejected: carrier"]


def test_an_event_for_an_order_not_visible_yet_is_retried(pay):
    with pytest.raises(TransientError):
        post(pay, event("e1", K.CAPTURE_SETTLED, "auth_" + "0" * 24, "chk_" + "0" * 64, occurred_at=AT))
