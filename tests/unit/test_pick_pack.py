"""Pick and pack (decision 96): a shipment at a pick_pack location (or with work its lines need) waits for the
warehouse to confirm picked and packed before anything is booked or captured; work tasks block packing; the SLA
alerts operations once; the console's actions are idempotent and audited."""

from __future__ import annotations

import pytest
from fakes import FakeAuditLog, FakeOrderSearch

from dawra.app.ship import AwaitPacking, PackingIsLate
from dawra.app.warehouse import Warehouse
from dawra.domain.access import Actor, Role
from dawra.domain.errors import Forbidden, IllegalTransition
from dawra.domain.order import OrderStatus
from dawra.domain.shipment import (
    SHIPMENT_TRANSITIONS,
    IllegalShipmentTransition,
    Shipment,
    ShipmentEvent,
    ShipmentStatus,
)

St, Ev = ShipmentStatus, ShipmentEvent
WAREHOUSE = Actor(user_id="u-wh", username="warehouse@dawra.example", roles=frozenset({Role.WAREHOUSE}))
AGENT = Actor(user_id="u-agent", username="agent@dawra.example", roles=frozenset({Role.AGENT}))


@pytest.fixture
def floor(shop):
    """The shop with riyadh-dc picking and packing by hand (4 hours' SLA), and the warehouse's use cases."""
    shop.world.locations = [loc.model_copy(update={"preparation": "pick_pack", "pack_within_hours": 4})
                            if loc.location_id == "riyadh-dc" else loc for loc in shop.world.locations]
    shop.audit = FakeAuditLog(shop.world)
    shop.warehouse = Warehouse(shop.orders, FakeOrderSearch(shop.world), shop.uow, shop.audit, shop.workflow,
                               shop.clock, wave_size=2)
    shop.await_packing = AwaitPacking(shop.orders, shop.uow, shop.workflow)
    shop.packing_late = PackingIsLate(shop.orders, shop.uow, shop.alerts, shop.clock)
    return shop


def engraved(shop):
    shop.world.catalog["MUG-CLASSIC"] = shop.world.catalog["MUG-CLASSIC"].model_copy(update={"work": "engraving"})


def reserved(shop, lines=None, key="key-00000001"):
    order_id = shop.place(lines or {"MUG-CLASSIC": 2}, key=key)
    (planned,) = shop.reserve(order_id).shipments
    return order_id, planned.shipment_id


def test_the_transition_table_puts_picked_and_packed_before_the_label():
    assert SHIPMENT_TRANSITIONS[Ev.PICK] == (frozenset({St.ALLOCATED}), St.PICKED)
    assert SHIPMENT_TRANSITIONS[Ev.PACK] == (frozenset({St.ALLOCATED, St.PICKED}), St.PACKED)
    assert SHIPMENT_TRANSITIONS[Ev.BOOK][0] == frozenset({St.ALLOCATED, St.PACKED})
    shipment = Shipment.model_validate({"shipment_id": "shp_1", "order_id": "ord_1", "location_id": "riyadh-dc",
                                        "lines": [], "amount": {"amount": 1, "currency": "SAR"}})
    for event, status in [(Ev.PICK, St.PICKED), (Ev.PACK, St.PACKED)]:
        assert shipment.apply(event) == status
        assert not shipment.has_shipped  # still in the building: cancellable, changeable
    with pytest.raises(IllegalShipmentTransition):
        shipment.apply(Ev.PICK)
    shipment.apply(Ev.BOOK)
    assert shipment.has_shipped


def test_an_ordinary_shipment_keeps_nothing_of_pick_and_pack(shop):
    order_id, shipment_id = reserved(shop)
    shipment = shop.orders.get(order_id).shipment(shipment_id)
    assert (shipment.preparation, shipment.prepare_by, shipment.work_tasks) == (None, None, None)
    assert shop.ship(order_id, shipment_id).outcome == "shipped"


def test_a_pick_pack_shipment_waits_before_any_side_effect_then_ships_once_packed(floor):
    order_id, shipment_id = reserved(floor)
    shipped = floor.ship(order_id, shipment_id)
    assert (shipped.outcome, shipped.prepare_timeout_s) == ("preparing", 4 * 3600)
    assert [op for op, *_ in floor.payments.ledger] == ["authorize"]  # nothing captured
    order = floor.orders.get(order_id)
    assert order.shipment(shipment_id).status == St.ALLOCATED and order.payment.captured.amount == 0
    assert order.shipment(shipment_id).tracking_number is None  # nothing booked
    assert floor.await_packing(order_id, shipment_id, "tok-1") == {"waiting": True}

    floor.warehouse.pick(WAREHOUSE, order_id, shipment_id, "pick-0001")
    assert floor.workflow.resumed == {}  # picked is not packed
    floor.warehouse.pack(WAREHOUSE, order_id, shipment_id, "pack-0001")
    assert floor.workflow.resumed == {"tok-1": {"packed": True}}
    assert floor.orders.get(order_id).shipment(shipment_id).status == St.PACKED

    shipped = floor.ship(order_id, shipment_id)
    order = floor.orders.get(order_id)
    assert shipped.outcome == "shipped" and order.status == OrderStatus.SHIPPED
    assert order.shipment(shipment_id).status == St.LABEL_CREATED and order.payment.captured.amount > 0


def test_packed_before_the_workflow_parks_answers_at_once(floor):
    order_id, shipment_id = reserved(floor)
    assert floor.ship(order_id, shipment_id).outcome == "preparing"
    floor.warehouse.pack(WAREHOUSE, order_id, shipment_id, "pack-0001")  # no token stored yet: nobody to answer
    assert floor.workflow.resumed == {}
    assert floor.await_packing(order_id, shipment_id, "tok-1") == {"waiting": False}
    assert floor.workflow.resumed == {"tok-1": {"packed": True}}


def test_a_cancellation_while_waiting_for_packing_fails_the_parked_wait(floor):
    from dawra.app.backoffice import OrderActions

    order_id, shipment_id = reserved(floor)
    floor.ship(order_id, shipment_id)
    floor.await_packing(order_id, shipment_id, "tok-1")
    actions = OrderActions(floor.orders, floor.inventory, floor.uow, floor.audit, floor.workflow, floor.payments,
                           floor.clock, release_stock=floor.release, cancel_order=floor.cancel)
    actions.cancel(AGENT, order_id, "cancel-0001", "customer changed their mind")
    assert floor.workflow.failed["tok-1"][0] == "CancelledByOperator"
    with pytest.raises(IllegalTransition):
        floor.warehouse.pack(WAREHOUSE, order_id, shipment_id, "pack-0001")


def test_a_work_task_blocks_packing_until_the_warehouse_marks_it_done(floor):
    engraved(floor)
    order_id, shipment_id = reserved(floor)
    (task,) = floor.orders.get(order_id).shipment(shipment_id).work_tasks
    assert (task.sku, task.kind, task.quantity, task.done_at) == ("MUG-CLASSIC", "engraving", 2, None)
    floor.warehouse.pick(WAREHOUSE, order_id, shipment_id, "pick-0001")
    with pytest.raises(IllegalTransition, match="engraving of MUG-CLASSIC"):
        floor.warehouse.pack(WAREHOUSE, order_id, shipment_id, "pack-0001")
    floor.warehouse.finish_work(WAREHOUSE, order_id, shipment_id, task.task_id, "work-0001")
    floor.warehouse.pack(WAREHOUSE, order_id, shipment_id, "pack-0002")
    shipment = floor.orders.get(order_id).shipment(shipment_id)
    assert shipment.status == St.PACKED and shipment.work_tasks[0].done_by == WAREHOUSE.user_id


def test_work_makes_a_shipment_wait_even_at_an_immediate_location(shop):
    engraved(shop)
    order_id, shipment_id = reserved(shop)
    shipment = shop.orders.get(order_id).shipment(shipment_id)
    assert shipment.preparation == "pick_pack" and shipment.work_tasks
    assert shop.ship(order_id, shipment_id).outcome == "preparing"


def test_the_warehouse_actions_are_idempotent_audited_and_the_warehouses_alone(floor):
    order_id, shipment_id = reserved(floor)
    first = floor.warehouse.pick(WAREHOUSE, order_id, shipment_id, "pick-0001")
    replay = floor.warehouse.pick(WAREHOUSE, order_id, shipment_id, "pick-0001")
    second_scan = floor.warehouse.pick(WAREHOUSE, order_id, shipment_id, "pick-0002")
    assert (first.replayed, replay.replayed, second_scan.replayed) == (False, True, False)
    assert first.audit.after["moved"] is True and second_scan.audit.after["moved"] is False
    actions = [e.action for e in floor.audit.for_subject(f"order:{order_id}")]
    assert actions.count("pick") == 2
    with pytest.raises(Forbidden):
        floor.warehouse.pack(AGENT, order_id, shipment_id, "pack-0001")


def test_the_picking_list_holds_the_waiting_shipments_in_waves_earliest_due_first(floor):
    engraved(floor)
    ids = [reserved(floor, key=f"key-0000000{n}") for n in range(1, 4)]
    picking = floor.warehouse.picking_list(WAREHOUSE, "riyadh-dc")
    assert [len(w.shipments) for w in picking.waves] == [2, 1] and [w.number for w in picking.waves] == [1, 2]
    assert picking.find(ids[1][1]).order.order_id == ids[1][0]
    assert picking.find(ids[0][0]).shipment.shipment_id == ids[0][1]  # the order's reference finds it too
    task = floor.orders.get(ids[0][0]).shipment(ids[0][1]).work_tasks[0]
    floor.warehouse.finish_work(WAREHOUSE, *ids[0], task.task_id, "work-0001")
    floor.warehouse.pack(WAREHOUSE, *ids[0], "pack-0001")
    assert sum(len(w.shipments) for w in floor.warehouse.picking_list(WAREHOUSE, "riyadh-dc").waves) == 2
    assert floor.warehouse.picking_list(WAREHOUSE, "jeddah-store").waves == []


def test_packing_late_alerts_operations_once_and_the_wait_goes_on(floor):
    order_id, shipment_id = reserved(floor)
    floor.ship(order_id, shipment_id)
    floor.clock.advance(hours=4)
    first = floor.packing_late(order_id, shipment_id)
    again = floor.packing_late(order_id, shipment_id)
    assert first.outcome == "preparing" and first.prepare_timeout_s == again.prepare_timeout_s == 24 * 3600
    assert len([a for a in floor.alerts.alerts if "not packed" in a[1]]) == 1
    floor.warehouse.pack(WAREHOUSE, order_id, shipment_id, "pack-0001")
    assert floor.packing_late(order_id, shipment_id).prepare_timeout_s == 1  # packed: the next wait answers at once
