"""Backorders and preorders on the embedded cloud, through the real state machine: a backordered order is confirmed
at once with its restock date, waits in WaitForStock, and the warehouse's stock adjustment reserves it and resumes
its workflow (it ships and completes); a preorder is not reserved before its release day even with stock arriving,
and from its release day the next arrival serves it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from parcels import carrier, execution_status, messages_about, shipped_tracking, stock
from stacks import eventually, operator

from dawra.adapters.dynamo.inventory import DynamoInventory
from dawra.adapters.dynamo.orders import DynamoOrders
from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork
from dawra.adapters.dynamo.waiting import DynamoStockWaiters
from dawra.domain.availability import StockPolicy
from dawra.domain.order import OrderEvent
from dawra.local.actors import Storefront
from dawra.local.seed import CATALOG


@pytest.fixture(scope="module")
def warehouse(local_stack):
    return operator(local_stack, "warehouse")


def tables(stack) -> tuple[str, str]:
    return stack.cloud.resolve_ref("table", "orders", "name"), stack.cloud.resolve_ref("table", "inventory", "name")


def own_sku(stack, prefix: str, policy: StockPolicy, units: int) -> str:
    """A sku of this test's own (the stack is shared), kept at riyadh-dc."""
    inventory = DynamoInventory(tables(stack)[1])
    name = f"{prefix}-{uuid.uuid4().hex[:8].upper()}"
    inventory.put_catalog_item(CATALOG[0].model_copy(update={"sku": name, "stock_policy": policy}))
    inventory.set_stock(name, "riyadh-dc", units)
    return name


def place(stack, sku: str, quantity: int, email: str) -> str:
    placed = Storefront(stack.gateway.url).place_order({
        "customer_id": "c-backorder", "contact": {"email": email},
        "shipping_address": {"name": "Sara", "line1": "12 Olaya St", "city": "Riyadh", "country": "SA"},
        "lines": [{"sku": sku, "quantity": quantity}], "payment_token": "tok_sandbox_approve"}, f"req-{uuid.uuid4()}")
    assert placed.status == 201, placed.body
    return str(placed.body["order_id"])


def parked(stack, order_id: str) -> None:
    """Its workflow waits in WaitForStock (the task token kept on the order)."""
    orders = DynamoOrders(tables(stack)[0])
    eventually(lambda: (orders.get(order_id) or None) and orders.get(order_id).stock_token, timeout_s=30)


def parked_order(stack, prefix: str, kind: str, days: int, units: int, quantity: int) -> tuple[date, str, str, str]:
    """An order for `quantity` of a new sku (`units` at riyadh-dc) whose policy (`kind`) runs `days` from today, its
    workflow parked: (that day, the sku, the customer's email, the order id)."""
    until = datetime.now(UTC).date() + timedelta(days=days)
    sku = own_sku(stack, prefix, StockPolicy(kind=kind, until=until), units)
    email = f"{prefix.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    order_id = place(stack, sku, quantity, email)
    parked(stack, order_id)
    return until, sku, email, order_id


def test_a_backordered_order_waits_and_the_stock_adjustment_reserves_it_and_it_completes(local_stack, warehouse):
    restock, sku, email, order_id = parked_order(local_stack, "BACK", "backorder", days=5, units=0, quantity=2)
    store = Storefront(local_stack.gateway.url)
    assert store.get_order(order_id).body["status"] == "CONFIRMED"
    [entry] = DynamoStockWaiters(tables(local_stack)[1]).waiting(sku)
    assert (entry.order_id, entry.quantity) == (order_id, 2)
    inventory = DynamoInventory(tables(local_stack)[1])
    assert inventory.stock(sku, "riyadh-dc").waiting  # the stock item says somebody waits
    [confirmation] = messages_about(local_stack, email, "confirmed")  # at once, with the restock date
    assert "back order" in confirmation.body and restock.isoformat() in confirmation.body

    adjusted = warehouse.post("/stock/adjustments", {"sku": sku, "location_id": "riyadh-dc", "delta": 3,
                                                     "reason": "supplier delivery"}, f"adj-{uuid.uuid4().hex}")
    assert adjusted.status == 200, adjusted.body
    tracking = shipped_tracking(local_stack, order_id)  # reserved by the adjustment, resumed, shipped
    assert DynamoStockWaiters(tables(local_stack)[1]).waiting(sku) == []
    assert not inventory.stock(sku, "riyadh-dc").waiting  # nobody waits: stock writes stop looking
    assert stock(local_stack, sku, "riyadh-dc") == (1, 0, 1)  # 2 of the 3 left with the parcel
    assert carrier(local_stack).post(tracking, "DELIVERED").status == 202
    assert store.wait_for(order_id, {"COMPLETED"})["status"] == "COMPLETED"
    assert execution_status(local_stack, order_id) == "SUCCEEDED"


def test_a_preorder_is_not_reserved_before_its_release_day_and_is_served_from_it(local_stack, warehouse):
    release, sku, email, order_id = parked_order(local_stack, "PRE", "preorder", days=3, units=5, quantity=1)
    [confirmation] = messages_about(local_stack, email, "confirmed")
    assert "pre-order" in confirmation.body and release.isoformat() in confirmation.body

    def arrive() -> None:
        done = warehouse.post("/stock/adjustments", {"sku": sku, "location_id": "riyadh-dc", "delta": 1,
                                                     "reason": "more sets"}, f"adj-{uuid.uuid4().hex}")
        assert done.status == 200, done.body

    arrive()  # stock on hand and arriving: still not before its release day
    store = Storefront(local_stack.gateway.url)
    assert store.get_order(order_id).body["status"] == "CONFIRMED"
    assert stock(local_stack, sku, "riyadh-dc") == (6, 0, 6)

    # Its release day comes (the test moves the order's day to today, as time would; WaitForStock's own timer, set
    # to the release day, serves it then without any arrival: the unit tests run that path).
    orders_table, inventory_table = tables(local_stack)
    orders = DynamoOrders(orders_table)
    order = orders.get(order_id)
    assert order is not None and order.awaiting is not None
    order.awaiting = order.awaiting.model_copy(update={"due": datetime.now(UTC).date()})
    order.apply(OrderEvent.AWAIT_STOCK)  # (the header is written: its status stays CONFIRMED)
    DynamoUnitOfWork(orders_table, inventory_table).commit(order=order)
    arrive()
    shipped_tracking(local_stack, order_id)
    assert store.get_order(order_id).body["status"] == "SHIPPED"
    assert stock(local_stack, sku, "riyadh-dc") == (6, 0, 6)  # one of the seven left with the parcel
