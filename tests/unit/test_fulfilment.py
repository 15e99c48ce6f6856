"""Reserve, ship, wait, complete, and compensation that undoes only what has not happened for the customer."""

import pytest

from dawra.domain.errors import IllegalTransition, OrderNotFound, OutOfStock, TransientError
from dawra.domain.inventory import ReservationState
from dawra.domain.tracking import TrackingEvent


def shipped_order(shop, lines=None):
    order_id = shop.place(lines or {"MUG-CLASSIC": 2})
    allocation = shop.reserve(order_id)
    for planned in allocation.shipments:
        shop.ship(order_id, planned.shipment_id)
    return order_id, [s.shipment_id for s in allocation.shipments]


def test_reserving_holds_stock_at_the_preferred_location_once(shop):
    order_id = shop.place({"MUG-CLASSIC": 2})
    allocation = shop.reserve(order_id)
    assert [s.location_id for s in allocation.shipments] == ["riyadh-dc"]
    level = shop.stock("MUG-CLASSIC", "riyadh-dc")
    assert (level.on_hand, level.reserved, level.available) == (40, 2, 38)
    assert shop.reserve(order_id) == allocation  # Step Functions retried the task
    assert shop.stock("MUG-CLASSIC", "riyadh-dc").reserved == 2
    assert shop.orders.get(order_id).status == "ALLOCATED"


def test_a_split_order_gets_one_shipment_per_location(shop):
    order_id = shop.place({"DALLAH-BRASS": 1, "DATES-1KG": 2})
    allocation = shop.reserve(order_id)
    assert sorted(s.location_id for s in allocation.shipments) == ["jeddah-store", "riyadh-dc"]
    order = shop.orders.get(order_id)
    assert sum(s.amount.amount for s in order.shipments) == order.totals.total.amount


def test_stock_sold_between_checkout_and_reservation_fails_it_and_changes_nothing(shop):
    order_id = shop.place({"PRAYER-MAT": 2})  # checkout saw both mats
    shop.world.set_stock("PRAYER-MAT", "riyadh-dc", 1)  # another order took one before this one was reserved
    with pytest.raises(OutOfStock):
        shop.reserve(order_id)
    assert shop.stock("PRAYER-MAT", "riyadh-dc").available == 1
    assert shop.orders.get(order_id).status == "CONFIRMED" and not shop.world.reservations


def test_stock_taken_by_someone_else_between_read_and_commit_is_replanned(shop):
    order_id = shop.place({"MUG-CLASSIC": 5})
    original = shop.inventory.levels

    def racing(skus, locations):
        seen = original(skus, locations)
        shop.world.set_stock("MUG-CLASSIC", "riyadh-dc", 3)  # a concurrent order took the Riyadh mugs
        shop.inventory.levels = original
        return seen

    shop.inventory.levels = racing
    allocation = shop.reserve(order_id)
    assert [s.location_id for s in allocation.shipments] == ["jeddah-store"]


def test_shipping_books_captures_and_consumes_once(shop):
    order_id, [shipment_id] = shipped_order(shop)
    order = shop.orders.get(order_id)
    assert order.status == "SHIPPED" and order.payment.captured == order.totals.total
    level = shop.stock("MUG-CLASSIC", "riyadh-dc")
    assert (level.on_hand, level.reserved) == (38, 0)
    first = shop.ship(order_id, shipment_id)  # retried after a lost answer
    assert first.tracking_number == order.shipment(shipment_id).tracking_number
    assert shop.orders.get(order_id).payment.captured == order.totals.total
    assert shop.world.timeline_kinds(order_id).count("shipment_shipped") == 1
    assert first.delivery_timeout_s > 0


def test_a_ship_commit_applied_but_unanswered_is_not_redone(shop):
    order_id = shop.place({"MUG-CLASSIC": 1})
    [planned] = shop.reserve(order_id).shipments
    shop.uow.faults = ["ambiguous"]
    with pytest.raises(TransientError):
        shop.ship(order_id, planned.shipment_id)
    shop.ship(order_id, planned.shipment_id)
    assert len(shop.payments.effective("capture")) == 1
    assert shop.orders.get(order_id).payment.captured.amount == shop.orders.get(order_id).totals.total.amount


def test_the_delivery_wait_ends_at_the_promise_plus_grace(shop):
    order_id = shop.place({"MUG-CLASSIC": 1})  # placed Monday 23 Nov 09:00 UTC, 5 business days (Fri, Sat off)
    [planned] = shop.reserve(order_id).shipments
    wait = shop.ship(order_id, planned.shipment_id).delivery_timeout_s
    assert shop.orders.get(order_id).promised_by == "2026-11-30"
    assert wait == (8 * 24 - 9 + 48) * 3600  # to the end of Monday 30th, then 48 hours of grace
    shop.clock.advance(days=30)
    assert shop.ship(order_id, planned.shipment_id).delivery_timeout_s == 1  # already overdue: ask at once


def test_waiting_parks_the_token_and_a_delivery_reported_first_resumes_at_once(shop):
    order_id, [shipment_id] = shipped_order(shop)
    assert shop.await_delivery(order_id, shipment_id, "token-1") == {"waiting": True}
    assert shop.orders.get(order_id).shipment(shipment_id).resume_token == "token-1"
    assert not shop.workflow.resumed


def _delivered(shop, order_id: str, shipment_id: str, event_id: str) -> list[str]:
    tracking = shop.orders.get(order_id).shipment(shipment_id).tracking_number
    return shop.tracking.apply(TrackingEvent(carrier="sandbox", event_id=event_id, tracking_number=tracking,
                                             status="delivered", occurred_at="2026-11-24T10:00:00.000Z",
                                             carrier_status="DELIVERED"))


def test_the_order_completes_with_the_report_that_delivers_its_last_parcel(shop):
    order_id, shipment_ids = shipped_order(shop, {"DALLAH-BRASS": 1, "DATES-1KG": 2})
    first, last = shipment_ids
    _delivered(shop, order_id, first, "d1")
    assert shop.orders.get(order_id).status == "SHIPPED"  # one parcel is still on its way
    assert "order_completed" not in shop.world.timeline_kinds(order_id)
    _delivered(shop, order_id, last, "d2")
    order = shop.orders.get(order_id)
    assert order.status == "COMPLETED" and order.every_parcel_done
    completed = [e for e in shop.orders.timeline(order_id) if e.kind == "order_completed"]
    assert [e.at for e in completed] == [order.shipment(last).delivered_at]  # in the delivery's own commit
    kinds = shop.world.timeline_kinds(order_id)  # read after the delivery that completed it, at the same moment
    assert kinds[kinds.index("order_completed") - 1] == "shipment_delivered"


def test_release_gives_back_held_units_once_and_cancel_voids(shop):
    order_id = shop.place({"DALLAH-BRASS": 1, "DATES-1KG": 2})
    shop.reserve(order_id)
    released = shop.release(order_id)
    assert (released.released_units, released.parcels_shipped) == (3, 0)
    assert shop.release(order_id).released_units == 0  # a retry releases nothing twice
    assert shop.stock("DALLAH-BRASS", "jeddah-store").available == 3
    assert {r.state for r in shop.world.reservations.values()} == {ReservationState.RELEASED}
    assert shop.cancel(order_id, "OutOfStock") == {"status": "CANCELLED"}
    assert shop.cancel(order_id, "OutOfStock") == {"status": "CANCELLED"}
    order = shop.orders.get(order_id)
    assert order.payment.voided and order.cancellation_reason == "OutOfStock"
    assert len(shop.payments.effective("void")) == 1
    assert shop.world.timeline_kinds(order_id).count("order_cancelled") == 1


def test_after_a_parcel_left_nothing_is_released_refunded_or_cancelled(shop):
    order_id = shop.place({"DALLAH-BRASS": 1, "DATES-1KG": 2})
    first, _ = shop.reserve(order_id).shipments
    shop.ship(order_id, first.shipment_id)
    before = dict(shop.world.stock)
    released = shop.release(order_id)
    assert (released.released_units, released.parcels_shipped) == (0, 1)
    assert shop.world.stock == before
    with pytest.raises(IllegalTransition):
        shop.cancel(order_id, "TransientError")
    assert shop.ask_a_person(order_id, "TransientError") == {"status": "NEEDS_ATTENTION"}
    assert shop.ask_a_person(order_id, "TransientError") == {"status": "NEEDS_ATTENTION"}
    order = shop.orders.get(order_id)
    assert order.attention_reason == "TransientError" and order.payment.refunded.amount == 0
    assert shop.alerts.alerts == [(order_id, "TransientError")] * 2  # a retried task alerts again, never never
    assert not shop.payments.effective("refund")


def test_a_capture_whose_order_was_cancelled_before_the_commit_is_refunded(shop):
    order_id = shop.place({"MUG-CLASSIC": 1})
    [planned] = shop.reserve(order_id).shipments
    original_commit = shop.uow.commit

    def cancelled_meanwhile(**changes):
        shop.uow.commit = original_commit
        shop.release(order_id)
        shop.cancel(order_id, "StoppedByOperator")
        return original_commit(**changes)

    shop.uow.commit = cancelled_meanwhile
    with pytest.raises(IllegalTransition):
        shop.ship(order_id, planned.shipment_id)
    assert shop.payments.effective("refund") == {f"{planned.shipment_id}:undo": shop.orders.get(order_id).totals.total.amount}
    assert shop.orders.get(order_id).status == "CANCELLED"


def test_unknown_orders_are_named(shop):
    with pytest.raises(OrderNotFound):
        shop.reserve("ord_" + "0" * 32)


def test_a_delivery_reported_again_completes_the_order_once(shop):
    order_id, [shipment_id] = shipped_order(shop)
    _delivered(shop, order_id, shipment_id, "d")
    _delivered(shop, order_id, shipment_id, "d")  # the carrier's retry
    _delivered(shop, order_id, shipment_id, "d-again")  # another scan of the same delivery
    assert shop.orders.get(order_id).status == "COMPLETED"
    assert shop.world.timeline_kinds(order_id).count("order_completed") == 1


def test_viewing_an_order_shows_it_with_its_timeline_or_names_it_missing(shop):
    order_id = shop.place({"MUG-CLASSIC": 1})
    order, timeline = shop.view(order_id)
    assert order.order_id == order_id and [e.kind.value for e in timeline] == ["order_confirmed"]
    with pytest.raises(OrderNotFound):
        shop.view("ord_" + "f" * 32)
