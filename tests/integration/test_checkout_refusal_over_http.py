"""Checkout honesty and delivery promises on the embedded cloud, over HTTP through the local gateway: an order the
stock cannot cover is a 409 with each short line and writes nothing; stock sold between the check and the
reservation cancels the order with one message, the apology; each shipment's promise shows on GET /orders/{id}."""

import json
import time
import uuid
from datetime import datetime

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from dawra.adapters.dynamo.inventory import DynamoInventory
from dawra.domain.money import Money
from dawra.domain.pricing import CatalogItem
from dawra.domain.promise import promise_for
from dawra.local.actors import Storefront
from dawra.local.seed import LOCATIONS

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "StartExecution"}


def order_body(email: str, lines: dict[str, int], method: str = "standard") -> dict:
    return {"customer_id": f"c-{uuid.uuid4().hex[:8]}", "contact": {"email": email},
            "shipping_address": {"name": "Huda", "line1": "7 Tahlia St", "city": "Jeddah", "country": "SA"},
            "shipping_method": method, "lines": [{"sku": sku, "quantity": q} for sku, q in lines.items()],
            "payment_token": "tok_sandbox_approve"}


@pytest.fixture
def store(local_stack):
    return Storefront(local_stack.gateway.url)


@pytest.fixture
def inventory(local_stack):
    return DynamoInventory(local_stack.cloud.resolve_ref("table", "inventory", "name"))


def items_in_orders_table(stack) -> int:
    return stack.cloud.client("dynamodb").scan(TableName=stack.cloud.resolve_ref("table", "orders", "name"),
                                               Select="COUNT")["Count"]


def executions(stack) -> int:
    arn = stack.cloud.resolve_ref("state_machine", "order-lifecycle", "arn")
    return len(stack.cloud.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"])


def messages_to(stack, address: str, at_least: int, timeout_s: float = 20) -> list:
    deadline = time.monotonic() + timeout_s
    while len([m for m in stack.outbox() if m.to == address]) < at_least and time.monotonic() < deadline:
        time.sleep(0.05)
    stack.pollers.drain()
    time.sleep(0.3)  # a second message would arrive here
    return [m for m in stack.outbox() if m.to == address]


def checkout_in_process(stack, body: dict, key: str):
    request = Request(EnvironBuilder(method="POST", path="/orders", data=json.dumps(body).encode(), headers={
        "Content-Type": "application/json", "Idempotency-Key": key}).get_environ())
    response = stack.gateway.handle(request)
    return response.status_code, json.loads(response.get_data())


def test_an_order_short_of_stock_is_a_409_with_each_short_line_and_writes_nothing(local_stack, store, inventory):
    items, started = items_in_orders_table(local_stack), executions(local_stack)
    key = f"key-{uuid.uuid4().hex}"
    body = order_body("short@example.com", {"MUG-CLASSIC": 46, "DATES-1KG": 1, "PRAYER-MAT": 3})

    refused = store.place_order(body, key)

    assert refused.status == 409 and refused.headers["Content-Type"] == "application/problem+json"
    assert refused.body["code"] == "out_of_stock" and refused.body["status"] == 409
    assert refused.body["availability"] == [{"sku": "MUG-CLASSIC", "requested": 46, "available": 45},
                                            {"sku": "PRAYER-MAT", "requested": 3, "available": 2}]
    assert items_in_orders_table(local_stack) == items and executions(local_stack) == started
    assert inventory.stock("MUG-CLASSIC", "riyadh-dc").available == 40  # nothing reserved

    # Nothing was written under the key either: once the stock is there, the same key places the order.
    inventory.set_stock("MUG-CLASSIC", "dammam-3pl", 1)
    inventory.set_stock("PRAYER-MAT", "dammam-3pl", 1)
    placed = store.place_order(body, key)
    assert placed.status == 201, placed.body
    again = store.place_order(body, key)  # and it is that key's order from now on (reserved meanwhile, perhaps)
    assert {k: again.body[k] for k in ("order_id", "placed_at", "lines", "totals")} == \
        {k: placed.body[k] for k in ("order_id", "placed_at", "lines", "totals")}
    assert store.wait_for(placed.body["order_id"], {"ALLOCATED", "SHIPPED"})["status"] in ("ALLOCATED", "SHIPPED")


def test_a_refused_checkout_reads_the_catalog_and_the_stock_in_one_request_and_writes_nothing(local_stack,
                                                                                                aws_calls):
    warm, _ = checkout_in_process(local_stack, order_body("warm@example.com", {"DATES-1KG": 1}), uuid.uuid4().hex)
    assert warm == 201
    aws_calls.clear()

    status, problem = checkout_in_process(local_stack, order_body("one@example.com", {"DALLAH-BRASS": 4}),
                                          uuid.uuid4().hex)

    assert status == 409 and problem["availability"] == [{"sku": "DALLAH-BRASS", "requested": 4, "available": 3}]
    # The locations are the container's (kept a minute); the catalog and the stock come in one BatchGetItem; the
    # refusal looks for an earlier order under the key (a replay is that order, not a refusal) and writes nothing.
    assert aws_calls == ["BatchGetItem", "GetItem"]
    assert not WRITES & set(aws_calls)

    aws_calls.clear()
    status, _ = checkout_in_process(local_stack, order_body("two@example.com", {"DALLAH-BRASS": 1}),
                                    uuid.uuid4().hex)
    assert status == 201
    # Two, as before the check; the lifecycle starts from the commit (the Orders stream), off the request path.
    assert aws_calls == ["BatchGetItem", "TransactWriteItems"]


def test_stock_sold_between_the_check_and_the_reservation_cancels_with_one_apology(local_stack, store, inventory,
                                                                                   monkeypatch):
    sku = f"LANTERN-{uuid.uuid4().hex[:6]}"  # this test's own stock: two lanterns in Riyadh
    inventory.put_catalog_item(CatalogItem(sku=sku, title="Brass lantern", unit_price=Money(amount=9900,
                                                                                            currency="SAR"),
                                           weight_g=700))
    inventory.set_stock(sku, "riyadh-dc", 2)
    read = DynamoInventory.catalog_stock_and_counters  # checkout's one read (with the fraud screening's counters)
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"

    def sold_right_after_the_check(self, skus, location_ids, counters):
        seen = read(self, skus, location_ids, counters)
        if sku in skus:  # another order takes the last lanterns while this checkout finishes
            inventory.set_stock(sku, "riyadh-dc", 0)
        return seen

    monkeypatch.setattr(DynamoInventory, "catalog_stock_and_counters", sold_right_after_the_check)
    placed = store.place_order(order_body(email, {sku: 2}), f"key-{uuid.uuid4().hex}")
    assert placed.status == 201, placed.body  # the check saw two lanterns

    order = store.wait_for(placed.body["order_id"], {"CANCELLED"})
    assert order["cancellation_reason"] == "OutOfStock" and order["shipments"] == []
    assert order["payment"]["voided"] is True and order["payment"]["captured"]["amount"] == 0
    assert inventory.stock(sku, "riyadh-dc").available == 0
    [apology] = messages_to(local_stack, email, 1)  # no "confirmed" first: the confirmation waits for the stock
    assert "cancelled" in apology.subject and "out of stock" in apology.body
    assert [e["kind"] for e in order["timeline"]] == ["order_confirmed", "order_cancelled"]


def test_each_shipment_shows_its_promise_and_the_confirmation_the_latest(local_stack, store):
    email = f"promise-{uuid.uuid4().hex[:8]}@example.com"
    placed = store.place_order(order_body(email, {"DALLAH-BRASS": 1, "DATES-1KG": 2}, "express"),
                               f"key-{uuid.uuid4().hex}")
    assert placed.status == 201, placed.body
    order = store.wait_for(placed.body["order_id"], {"ALLOCATED", "SHIPPED"})

    placed_at = datetime.fromisoformat(order["placed_at"])
    where = {loc.location_id: loc for loc in LOCATIONS}
    promised = {s["location_id"]: s["promised_by"] for s in order["shipments"]}
    assert promised == {loc: promise_for(placed_at, where[loc], "SA", "express").isoformat()
                        for loc in ("jeddah-store", "riyadh-dc")}  # the dallah from Jeddah, the dates from Riyadh
    assert order["promised_by"] == max(promised.values()) == placed.body["promised_by"]  # the estimate held

    [confirmation] = [m for m in messages_to(local_stack, email, 1) if "confirmed" in m.subject]
    assert order["promised_by"] in confirmation.body


def test_the_storefronts_locations_are_kept_a_minute_and_the_reservations_are_read_every_time(local_stack,
                                                                                             aws_calls,
                                                                                             monkeypatch):
    table = local_stack.cloud.resolve_ref("table", "inventory", "name")
    clock = [1000.0]
    monkeypatch.setattr("dawra.adapters.dynamo.inventory.time.monotonic", lambda: clock[0])
    storefronts, reservations = DynamoInventory(table, locations_max_age_s=60), DynamoInventory(table)
    aws_calls.clear()
    assert storefronts.locations() == storefronts.locations() == reservations.locations()
    reservations.locations()
    assert aws_calls == ["Query", "Query", "Query"]  # the storefront's once, the reservation's every time
    clock[0] += 59.9
    storefronts.locations()
    assert aws_calls == ["Query"] * 3
    clock[0] += 0.2  # a minute has passed: read again
    assert {loc.location_id for loc in storefronts.locations()} == {loc.location_id for loc in LOCATIONS}
    assert aws_calls == ["Query"] * 4
