"""Replenishment on the embedded cloud: a manager sets reorder points and targets through the admin API (audited),
reads the report, approves a suggested transfer (in transit), and the warehouse receives it; a reservation's hold
on DynamoDB flags the stock item low in its own conditional write, and a hold planned on a stale reorder point is
refused (re-planned by its caller)."""

from __future__ import annotations

import json
import uuid

import pytest
from stacks import eventually, operator

from dawra.adapters.dynamo.inventory import DynamoInventory
from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork
from dawra.domain.errors import ConcurrentChange
from dawra.domain.inventory import Reservation, hold
from dawra.local.actors import AdminApi, Storefront
from dawra.local.cloud import ACCOUNT, REGION
from dawra.local.seed import CATALOG


@pytest.fixture(scope="module")
def people(local_stack):
    return {"manager": operator(local_stack, "manager"), "warehouse": operator(local_stack, "warehouse")}


@pytest.fixture
def sku(local_stack) -> str:
    """A sku of this test's own (the stack is shared): 40 at riyadh-dc, 5 at jeddah-store."""
    inventory = DynamoInventory(local_stack.cloud.resolve_ref("table", "inventory", "name"))
    name = f"REPL-{uuid.uuid4().hex[:8].upper()}"
    inventory.put_catalog_item(CATALOG[0].model_copy(update={"sku": name}))
    inventory.set_stock(name, "riyadh-dc", 40)
    inventory.set_stock(name, "jeddah-store", 5)
    return name


def level(api: AdminApi, sku: str, location: str) -> dict:
    return api.get(f"/stock?sku={sku}&location_id={location}").body["levels"][0]


def test_a_suggested_transfer_approved_is_in_transit_then_received(people, sku):
    manager, warehouse = people["manager"], people["warehouse"]
    plan = {"sku": sku, "location_id": "jeddah-store", "reorder_point": 8, "target": 12, "reason": "store minimum"}
    first = manager.post("/stock/plans", plan, f"plan-{uuid.uuid4().hex}")
    assert first.status == 200, first.body
    assert first.body["audit"]["action"] == "set_replenishment" and first.body["levels"][0]["low"] is True
    assert manager.post("/stock/plans", {**plan, "location_id": "riyadh-dc", "reorder_point": 10, "target": 30},
                        f"plan-{uuid.uuid4().hex}").status == 200
    assert warehouse.post("/stock/plans", plan, f"plan-{uuid.uuid4().hex}").status == 403
    assert manager.post("/stock/plans", {**plan, "target": 2}, f"plan-{uuid.uuid4().hex}").status == 409

    report = manager.get("/stock/replenishment")
    assert report.status == 200, report.body
    assert [(line["location_id"], line["order_quantity"]) for line in report.body["reorder"]
            if line["sku"] == sku] == [("jeddah-store", 7)]
    suggested = [s for s in report.body["transfers"] if s["sku"] == sku]
    assert [(s["from_location"], s["to_location"], s["quantity"]) for s in suggested] == [
        ("riyadh-dc", "jeddah-store", 7)]
    assert warehouse.get("/stock/replenishment").status == 403

    approval = {"sku": sku, "from_location": "riyadh-dc", "to_location": "jeddah-store", "quantity": 7}
    too_many = manager.post("/stock/replenishment/transfers", {**approval, "quantity": 8}, f"ap-{uuid.uuid4().hex}")
    assert too_many.status == 409, too_many.body
    key = f"ap-{uuid.uuid4().hex}"
    sent = manager.post("/stock/replenishment/transfers", approval, key)
    assert sent.status == 200, sent.body
    transfer = sent.body["transfer"]
    assert transfer["state"] == "in_transit" and transfer["quantity"] == 7
    replayed = manager.post("/stock/replenishment/transfers", approval, key)
    assert replayed.status == 200 and replayed.body["replayed"] is True
    assert replayed.body["transfer"]["transfer_id"] == transfer["transfer_id"]
    assert level(manager, sku, "jeddah-store")["in_transit"] == 7
    assert level(manager, sku, "riyadh-dc")["available"] == 33
    assert not [s for s in manager.get("/stock/replenishment").body["transfers"] if s["sku"] == sku]

    received = warehouse.post(f"/stock/transfers/{transfer['transfer_id']}/receive", {"reason": "arrived"},
                              f"rcv-{uuid.uuid4().hex}")
    assert received.status == 200, received.body
    assert received.body["transfer"]["state"] == "received"
    arrived = level(manager, sku, "jeddah-store")
    assert (arrived["available"], arrived["in_transit"], arrived["low"]) == (12, 0, False)
    assert not [line for line in manager.get("/stock/replenishment").body["reorder"] if line["sku"] == sku]


def test_a_hold_on_dynamodb_flags_the_item_low_when_it_crosses_and_refuses_a_stale_plan(people, sku, local_stack):
    manager = people["manager"]
    assert manager.post("/stock/plans", {"sku": sku, "location_id": "riyadh-dc", "reorder_point": 36, "target": 50,
                                         "reason": "dc minimum"}, f"plan-{uuid.uuid4().hex}").status == 200
    cloud = local_stack.cloud
    inventory = DynamoInventory(cloud.resolve_ref("table", "inventory", "name"))
    uow = DynamoUnitOfWork(cloud.resolve_ref("table", "orders", "name"),
                           cloud.resolve_ref("table", "inventory", "name"))

    def held(order: str, quantity: int, read):
        return hold(Reservation(order_id=order, shipment_id="shp_1", sku=sku, location_id="riyadh-dc",
                                quantity=quantity), read)

    read = inventory.levels([sku], ["riyadh-dc"])[(sku, "riyadh-dc")]
    above = held("ord_repl_1", 2, read)  # 40 -> 38: stays above 36
    uow.commit(stock=[above])
    assert not level(manager, sku, "riyadh-dc")["low"]
    with pytest.raises(ConcurrentChange):  # planned on 40 available, there are 38 now: this one would cross
        uow.commit(stock=[held("ord_repl_2", 3, read)])
    fresh = inventory.levels([sku], ["riyadh-dc"])[(sku, "riyadh-dc")]
    crossing = held("ord_repl_2", 3, fresh)  # 38 -> 35: crosses
    assert crossing.watch is not None and crossing.watch.alerts
    uow.commit(stock=[crossing])
    now = level(manager, sku, "riyadh-dc")
    assert (now["available"], now["low"]) == (35, True)
    below = held("ord_repl_3", 1, inventory.levels([sku], ["riyadh-dc"])[(sku, "riyadh-dc")])
    assert below.watch is not None and not below.watch.alerts
    uow.commit(stock=[below])
    plain = hold(Reservation(order_id="ord_repl_4", shipment_id="shp_1", sku="PRAYER-MAT", location_id="riyadh-dc",
                             quantity=1), inventory.levels(["PRAYER-MAT"], ["riyadh-dc"])[("PRAYER-MAT", "riyadh-dc")])
    assert plain.watch is not None and plain.watch.reorder_point is None
    uow.commit(stock=[plain])  # no reorder point: the ordinary hold, plus "still no reorder point"


def ops_alerts(stack) -> list[dict]:
    from moto.sns.models import sns_backends

    topic = sns_backends[ACCOUNT][REGION].topics[stack.cloud.resolve_ref("topic", "ops-alerts", "arn")]
    return [json.loads(message) for _, message, *_ in topic.sent_notifications]


def test_orders_reserved_by_the_allocate_function_alert_once_when_they_cross_the_reorder_point(people, sku,
                                                                                                local_stack, unique):
    manager, store = people["manager"], Storefront(local_stack.gateway.url)
    assert manager.post("/stock/plans", {"sku": sku, "location_id": "riyadh-dc", "reorder_point": 36, "target": 50,
                                         "reason": "dc minimum"}, f"plan-{uuid.uuid4().hex}").status == 200

    def order(quantity: int) -> None:
        body = {"customer_id": unique("cust"), "contact": {"email": f"{unique('r')}@example.com"},
                "shipping_address": {"name": "Sara", "line1": "12 Olaya St", "city": "Riyadh", "country": "SA"},
                "lines": [{"sku": sku, "quantity": quantity}], "payment_token": "tok_sandbox_approve"}
        reserved = 40 - level(manager, sku, "riyadh-dc")["available"]  # before the order: it may be reserved at once
        placed = store.place_order(body, unique("key"))
        assert placed.status == 201, placed.body
        assert eventually(lambda: 40 - level(manager, sku, "riyadh-dc")["available"] >= reserved + quantity,
                          timeout_s=60)

    def low_alerts() -> list[dict]:
        return [a for a in ops_alerts(local_stack) if a.get("problem") == "low_stock" and a.get("sku") == sku]

    order(3)  # 40 -> 37: above
    order(2)  # 37 -> 35: crosses
    assert eventually(low_alerts, timeout_s=60) == [{"sku": sku, "location_id": "riyadh-dc", "available": "35",
                                                    "reorder_point": "36", "problem": "low_stock"}]
    assert level(manager, sku, "riyadh-dc")["low"] is True
    order(1)  # 35 -> 34: already low
    assert len(low_alerts()) == 1
