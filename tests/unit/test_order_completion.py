"""The order completes with the change that finishes its last parcel (decision 111): whichever change that is, at
once or racing another, dated when we knew; and the CompleteOrder task kept for executions started before."""

from datetime import timedelta

import pytest
from test_claims import claims, report, shipped
from test_customer_actions import customer, delivered, split_order  # noqa: F401 - the customer fixture

from dawra.app.deliver import CompleteOrder
from dawra.domain.errors import IllegalTransition
from dawra.domain.order import OrderStatus
from dawra.domain.time import iso


def _first_commit_runs(shop, other_change) -> None:
    """Another consumer read the order when we did and commits first: on our first commit only, run it before ours."""
    real = shop.uow.commit

    def commit(**kwargs):
        shop.uow.commit = real
        other_change()
        return real(**kwargs)

    shop.uow.commit = commit


def test_two_last_deliveries_applied_at_once_complete_the_order(shop):
    order_id, tracking = shipped(shop, {"DALLAH-BRASS": 1, "DATES-1KG": 2})
    first, second = sorted(tracking)
    _first_commit_runs(shop, lambda: report(shop, tracking[second], "DELIVERED"))
    assert report(shop, tracking[first], "DELIVERED") == ["moved to delivered"]  # decided again after the race
    order = shop.orders.get(order_id)
    assert order.status == OrderStatus.COMPLETED and all(s.is_delivered for s in order.shipments)
    assert shop.world.timeline_kinds(order_id).count("order_completed") == 1


def test_a_refund_racing_the_other_parcels_delivery_completes_the_order(shop):
    order_id, tracking = shipped(shop, {"DALLAH-BRASS": 1, "DATES-1KG": 2})
    lost_id, other_id = sorted(tracking)
    _, settle = claims(shop, "refund")
    _first_commit_runs(shop, lambda: report(shop, tracking[other_id], "DELIVERED"))
    assert settle(order_id, lost_id).outcome == "refunded"
    assert shop.orders.get(order_id).status == OrderStatus.COMPLETED


def test_the_first_of_two_parcels_delivered_writes_the_header_and_completes_nothing(shop):
    order_id, tracking = shipped(shop, {"DALLAH-BRASS": 1, "DATES-1KG": 2})
    version = shop.orders.get(order_id).version
    report(shop, tracking[sorted(tracking)[0]], "DELIVERED")
    order = shop.orders.get(order_id)
    assert order.status == OrderStatus.SHIPPED and order.version == version + 1  # what a racing change conflicts on


def test_cancelling_the_last_parcel_to_come_after_the_other_arrived_completes_the_order(customer):  # noqa: F811
    order_id, shipments = split_order(customer)
    customer.ship(order_id, shipments["riyadh-dc"])
    delivered(customer, order_id, shipments["riyadh-dc"])
    assert customer.orders.get(order_id).status == OrderStatus.SHIPPED
    customer.customer.cancel(order_id, "cancel-0001", [shipments["jeddah-store"]])
    assert customer.orders.get(order_id).status == OrderStatus.COMPLETED
    assert customer.ship(order_id, shipments["jeddah-store"]).outcome == "cancelled"  # its branch: NothingLeftToShip


def test_a_replacement_delivered_completes_the_order_its_lost_parcel_did_not(shop):
    order_id, tracking = shipped(shop)
    [lost_id] = tracking
    _, settle = claims(shop, "reship")
    answer = settle(order_id, lost_id)
    assert answer.outcome == "reship" and shop.orders.get(order_id).status == OrderStatus.SHIPPED
    again = shop.ship(order_id, answer.shipment_id)
    report(shop, again.tracking_number, "DELIVERED")
    assert shop.orders.get(order_id).status == OrderStatus.COMPLETED


def test_a_parcel_a_person_settles_keeps_the_order_with_them_when_the_other_arrives(shop):
    order_id, tracking = shipped(shop, {"DALLAH-BRASS": 1, "DATES-1KG": 2})
    lost_id, other_id = sorted(tracking)
    _, settle = claims(shop, "agent")
    assert settle(order_id, lost_id).outcome == "agent"
    report(shop, tracking[other_id], "DELIVERED")
    assert shop.orders.get(order_id).status == OrderStatus.NEEDS_ATTENTION


def test_a_last_delivery_reported_late_completes_the_order_when_we_heard_of_it(shop):
    order_id, tracking = shipped(shop, {"DALLAH-BRASS": 1, "DATES-1KG": 2})
    lost_id, other_id = sorted(tracking)
    delivered_at = shop.clock.now() + timedelta(hours=1)  # the carrier delivers one parcel at 1h,
    shop.clock.moment = shop.clock.now() + timedelta(hours=2)
    _, settle = claims(shop, "refund")
    assert settle(order_id, lost_id).outcome == "refunded"  # the other is settled at 3h,
    shop.clock.moment = shop.clock.now() + timedelta(hours=3)
    report(shop, tracking[other_id], "DELIVERED", occurred_at=iso(delivered_at))  # the delivery heard of at 6h
    timeline = shop.orders.timeline(order_id)
    [completed] = [e for e in timeline if e.kind == "order_completed"]
    [delivery] = [e for e in timeline if e.kind == "shipment_delivered"]
    assert delivery.at == iso(delivered_at) and completed.at == iso(shop.clock.now())
    assert [e.kind for e in timeline][-1] == "order_completed"  # after the settlement made before it


def test_the_complete_order_task_of_an_earlier_execution_answers_completes_or_refuses(shop):
    complete = CompleteOrder(shop.orders, shop.uow, shop.clock)
    done, tracking = shipped(shop)
    report(shop, tracking[next(iter(tracking))], "DELIVERED")
    assert complete(done) == {"status": "COMPLETED"}  # completed with its delivery: answered, nothing written
    assert shop.world.timeline_kinds(done).count("order_completed") == 1
    open_order = shop.place({"MUG-CLASSIC": 1}, key="key-00000002")  # another order, its parcel on its way
    for planned in shop.reserve(open_order).shipments:
        shop.ship(open_order, planned.shipment_id)
    with pytest.raises(IllegalTransition, match="not every shipment"):  # that definition asks a person
        complete(open_order)
    assert shop.orders.get(open_order).status == OrderStatus.SHIPPED


def test_the_complete_order_task_completes_an_order_whose_last_parcel_arrived_before_the_upgrade(shop):
    from dawra.domain.shipment import ShipmentStatus

    order_id, _ = shipped(shop)
    for shipment_id, shipment in shop.world.shipments[order_id].items():  # delivered as the old code left it
        shop.world.shipments[order_id][shipment_id] = shipment.model_copy(
            update={"status": ShipmentStatus.DELIVERED, "delivered_at": iso(shop.clock.now())})
    assert shop.orders.get(order_id).status == OrderStatus.SHIPPED
    assert CompleteOrder(shop.orders, shop.uow, shop.clock)(order_id) == {"status": "COMPLETED"}
    assert shop.world.timeline_kinds(order_id).count("order_completed") == 1
