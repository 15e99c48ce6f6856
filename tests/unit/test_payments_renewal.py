"""Card authorisations that lapse (dawra.app.payments): renewed in time by a job scheduled only for orders that may
wait, renewed at shipping when the provider finds one lapsed, and a person told when the provider declines."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fakes import FakeLater, RecordingPayments, request

from dawra.adapters.payments.sandbox import SandboxPaymentProvider
from dawra.app.checkout import Checkout
from dawra.app.payments import LAPSED_ALERT, RENEW_AUTHORIZATION, RenewAuthorization, renewal_job_name
from dawra.app.ship import ShipShipment
from dawra.domain.errors import AuthorizationExpired, TransientError
from dawra.domain.holds import Hold
from dawra.domain.order import AUTHORIZATION_LAPSED, OrderStatus
from dawra.domain.timeline import TimelineKind


@pytest.fixture
def card(shop):
    """The shop with the sandbox on the shop's clock, checkout scheduling renewals, shipping renewing lapses."""
    shop.payments = RecordingPayments(SandboxPaymentProvider(clock=shop.clock))
    shop.later = FakeLater()
    o, i, u, c = shop.orders, shop.inventory, shop.uow, shop.clock
    shop.renewals = RenewAuthorization(o, u, shop.payments, shop.alerts, c, later=shop.later)
    shop.checkout = Checkout(o, i, u, shop.payments, shop.alerts, c, later=shop.later)
    shop.ship = ShipShipment(o, i, u, shop.carriers, shop.payments, c, timedelta(hours=48), renewals=shop.renewals)
    return shop


def place_held(shop, token: str = "tok_sandbox_approve", key: str = "key-held-0001") -> str:
    provider = shop.payments
    order = shop.checkout.place(key, request({"MUG-CLASSIC": 1}, payment_token=token),
                                lambda total, reference: (provider.name, provider.authorize(token, total, reference)),
                                hold=Hold(reason="the customer asked us to wait"),
                                authorization_validity=provider.authorization_validity)
    shop.reserve(order.order_id)
    return order.order_id


def kinds(shop, order_id: str) -> list[TimelineKind]:
    return [event.kind for event in shop.orders.timeline(order_id)]


def test_an_ordinary_order_records_when_its_authorisation_lapses_and_schedules_nothing(card):
    order_id = card.place({"MUG-CLASSIC": 1})
    order = card.orders.get(order_id)
    assert datetime.fromisoformat(order.payment.expires_at) == card.clock.now() + timedelta(days=7)
    assert card.later.pending == {}  # no job, no extra request: it ships long before
    (shipment,) = card.reserve(order_id).shipments
    card.ship(order_id, shipment.shipment_id)
    assert [op for op, *_ in card.payments.ledger] == ["authorize", "capture"]


def test_a_held_order_is_renewed_by_its_job_a_day_before_it_lapses_and_ships_on_the_new_one(card):
    order_id = place_held(card)
    placed = card.orders.get(order_id)
    when, job = card.later.pending[renewal_job_name(order_id)]
    assert job == {"kind": RENEW_AUTHORIZATION, "order_id": order_id}
    assert when == datetime.fromisoformat(placed.payment.expires_at) - timedelta(days=1)
    card.clock.advance(days=6)
    # It alerts operations when declined: the ops-jobs function's, never the later-jobs one's (which may publish to
    # no SNS topic).
    assert card.later.take_due(card.clock.now(), queue="later-jobs") == []
    assert card.later.take_due(card.clock.now(), queue="ops-jobs") == [job]
    assert card.renewals.when_due(order_id) == "renewed"
    renewed = card.orders.get(order_id)
    assert renewed.payment.earlier_authorizations == (placed.payment.authorization_id,)
    assert renewed.payment.authorization_id != placed.payment.authorization_id
    assert datetime.fromisoformat(renewed.payment.expires_at) == card.clock.now() + timedelta(days=7)
    assert renewed.status == OrderStatus.ON_HOLD and TimelineKind.PAYMENT_REAUTHORIZED in kinds(card, order_id)
    assert renewal_job_name(order_id) in card.later.pending  # still held: renewed again in time
    assert card.later.queue_of(card.later.pending[renewal_job_name(order_id)][1]) == "ops-jobs"
    assert card.renewals.when_due(order_id) == "not_yet"  # a repeat of the job renews nothing
    # Released weeks after checkout, it captures on the renewed authorisation.
    card.clock.advance(days=2)
    order = card.orders.get(order_id)
    order.release_hold("2026-12-01T00:00:00.000Z", "r")
    card.uow.commit(order=order)
    card.ship(order_id, order.shipments[0].shipment_id)
    assert card.payments.ledger[-1][:2] == ("capture", renewed.payment.authorization_id)


def test_a_renewal_declined_by_the_issuer_is_told_to_operations_and_put_on_the_timeline(card):
    order_id = place_held(card, "tok_sandbox_expired_no_reauth")
    card.clock.advance(days=6)
    [job] = card.later.take_due(card.clock.now(), queue="ops-jobs")
    assert card.renewals.when_due(job["order_id"]) == "not_renewed"
    order = card.orders.get(order_id)
    assert TimelineKind.PAYMENT_REAUTHORIZATION_FAILED in kinds(card, order_id)
    assert (order_id, LAPSED_ALERT) in card.alerts.alerts
    assert order.status == OrderStatus.ON_HOLD  # already held: it stays with the person who holds it


def test_a_capture_refused_as_lapsed_at_shipping_renews_and_captures(card):
    order_id = card.place({"MUG-CLASSIC": 1}, payment_token="tok_sandbox_expired")
    (shipment,) = card.reserve(order_id).shipments
    shipped = card.ship(order_id, shipment.shipment_id)
    order = card.orders.get(order_id)
    assert shipped.outcome == "shipped" and order.status == OrderStatus.SHIPPED
    operations = [op for op, *_ in card.payments.ledger]
    assert operations == ["authorize", "capture", "reauthorize", "capture"]
    assert card.payments.ledger[-1][1] == order.payment.authorization_id != order.payment.earlier_authorizations[0]
    assert order.payment.captured == order.totals.total
    assert TimelineKind.PAYMENT_REAUTHORIZED in kinds(card, order_id)


def test_a_lapse_the_issuer_will_not_renew_holds_the_order_for_a_person_instead_of_shipping(card):
    order_id = card.place({"MUG-CLASSIC": 1}, payment_token="tok_sandbox_expired_no_reauth")
    (shipment,) = card.reserve(order_id).shipments
    shipped = card.ship(order_id, shipment.shipment_id)
    order = card.orders.get(order_id)
    assert shipped.outcome == "on_hold"  # the workflow waits for a person (release, or cancel)
    assert order.status == OrderStatus.ON_HOLD and order.hold_reason == AUTHORIZATION_LAPSED
    assert [r.code for r in order.hold_reasons] == ["payment.authorization_lapsed"]
    assert not order.shipment(shipment.shipment_id).has_shipped and order.payment.captured.amount == 0
    assert (order_id, LAPSED_ALERT) in card.alerts.alerts
    assert {TimelineKind.PAYMENT_REAUTHORIZATION_FAILED, TimelineKind.ORDER_ON_HOLD} <= set(kinds(card, order_id))


def test_without_renewals_wired_a_lapse_fails_the_task_as_before(card):
    card.ship = ShipShipment(card.orders, card.inventory, card.uow, card.carriers, card.payments, card.clock,
                             timedelta(hours=48))
    order_id = card.place({"MUG-CLASSIC": 1}, payment_token="tok_sandbox_expired")
    (shipment,) = card.reserve(order_id).shipments
    with pytest.raises(AuthorizationExpired):
        card.ship(order_id, shipment.shipment_id)


def test_a_processor_error_at_capture_is_retried_and_never_cancels(card):
    order_id = card.place({"MUG-CLASSIC": 1}, payment_token="tok_sandbox_capture_retry")
    (shipment,) = card.reserve(order_id).shipments
    with pytest.raises(TransientError):  # the state machine's Retry policy retries TransientError
        card.ship(order_id, shipment.shipment_id)
    assert card.orders.get(order_id).status == OrderStatus.ALLOCATED
    assert card.ship(order_id, shipment.shipment_id).outcome == "shipped"
    assert card.orders.get(order_id).status == OrderStatus.SHIPPED
