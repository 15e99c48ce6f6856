"""A flash sale on the embedded cloud's DynamoDB: 1,000 orders for one SKU at one location (137 units; every tenth
order for 2) reserved by 32 threads at once through the real ReserveStock use case and the real DynamoDB adapters
(bench/flash_sale.py drives it; `make bench` reports the same run's figures).

What DynamoDB holds afterwards is read here on its own (a scan of the reservations, the orders' headers, the stock
item), not taken from the driver's accounting: exactly the stock is held, each order at most once and only by an
order the driver saw reserved, every other order cleanly refused and still confirmed. A sampler reads the stock item
throughout the sale: available never goes below zero and available + reserved stays the stock.

Races are real here: the embedded cloud runs one DynamoDB request at a time (moto's backend is not thread-safe), but
a reservation is four requests (the order, the locations, the stock levels, the transaction), so between its read
of the stock and its commit other threads commit theirs; a commit planned on counters that moved is cancelled
(ConditionalCheckFailed) and retried on fresh reads. The TransactionConflict that real DynamoDB gives two
transactions on the same item at the same instant cannot happen here (docs/architecture.md "Hot SKUs")."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from bench import flash_sale
from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.codec import from_item

STOCK, ORDERS, WORKERS = 137, 1000, 32


def _scan(client: Any, table: str, prefix: str, *attributes: str) -> list[dict[str, Any]]:
    """`attributes` of every item of `table` whose pk starts with `prefix` (a test's look at everything; the code
    never scans)."""
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "FilterExpression": "begins_with(pk, :p)",
                              "ExpressionAttributeValues": {":p": {"S": prefix}},
                              "ProjectionExpression": ", ".join(f"#a{i}" for i in range(len(attributes))),
                              "ExpressionAttributeNames": {f"#a{i}": name for i, name in enumerate(attributes)}}
    while True:
        page = client.scan(**kwargs)
        found += [from_item(item) for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture(scope="module")
def sale():
    with flash_sale.tables_only_cloud() as cloud:
        client = cloud.client("dynamodb")
        inventory_table = cloud.resolve_ref("table", "inventory", "name")
        samples: list[tuple[int, int]] = []
        done = threading.Event()

        def sample() -> None:  # the stock item as any reader sees it during the sale
            while not done.is_set():
                item = client.get_item(TableName=inventory_table, ConsistentRead=True,
                                       Key={k: {"S": v} for k, v in keys.stock_key(flash_sale.SKU,
                                                                                   flash_sale.LOCATION).items()})
                if "Item" in item:
                    level = from_item(item["Item"])
                    samples.append((int(level["available"]), int(level["reserved"])))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            run = flash_sale.run(cloud, orders=ORDERS, stock=STOCK, workers=WORKERS)
        finally:
            done.set()
            sampler.join()
        yield {"run": run, "samples": samples, "client": client, "inventory": inventory_table,
               "orders": cloud.resolve_ref("table", "orders", "name")}


def test_every_order_is_decided_and_exactly_the_stock_is_sold(sale):
    run = sale["run"]
    figures = run.figures()
    assert figures["orders_attempted"] == ORDERS
    assert [o for o in run.outcomes if o.result not in ("reserved", "refused")] == []  # none failed, none pending
    assert figures["units_sold"] == STOCK
    level = run.inventory.stock(flash_sale.SKU, flash_sale.LOCATION)
    assert (level.on_hand, level.reserved, level.available) == (STOCK, STOCK, 0)


def test_dynamodb_holds_one_reservation_per_reserved_order_and_none_for_the_refused(sale):
    run = sale["run"]
    held = _scan(sale["client"], sale["inventory"], "RESERVATION#", "order_id", "sku", "quantity", "state")
    by_order: dict[str, list[dict[str, Any]]] = {}
    for item in held:
        by_order.setdefault(item["order_id"], []).append(item)
    quantity = {o.order_id: o.quantity for o in run.outcomes}
    reserved = {o.order_id for o in run.outcomes if o.result == "reserved"}
    assert set(by_order) == reserved  # no refused order holds anything
    assert all(len(items) == 1 for items in by_order.values())  # no order reserved twice
    assert all(i["state"] == "held" and i["sku"] == flash_sale.SKU and i["quantity"] == quantity[i["order_id"]]
               for i in held)
    assert sum(int(i["quantity"]) for i in held) == STOCK
    # The orders say the same: allocated with one shipment, or still confirmed (refused: the workflow cancels them).
    headers = {h["order_id"]: h["status"] for h in _scan(sale["client"], sale["orders"], "ORDER#", "order_id",
                                                                    "status", "entity")
               if h.get("entity") == keys.ENTITY_ORDER}
    assert {order_id for order_id, status in headers.items() if status == "ALLOCATED"} == reserved
    assert {status for order_id, status in headers.items() if order_id not in reserved} == {"CONFIRMED"}


def test_available_never_went_below_zero_while_orders_raced(sale):
    samples = sale["samples"]
    assert len(samples) > 10  # the sampler read the item throughout the sale
    assert all(available >= 0 and available + reserved == STOCK for available, reserved in samples)
    assert any(0 < reserved < STOCK for _, reserved in samples)  # it saw the sale in progress, not only its ends


def test_commits_that_lost_a_race_were_retried_and_decided(sale):
    run = sale["run"]
    figures = run.figures()
    assert figures["conflicts"] > 0, "no reservation ever committed on counters that had moved: no race was run"
    assert set(figures["conflicts_by_reason"]) <= {"ConditionalCheckFailed", "TransactionConflict"}
    retried = [o for o in run.outcomes if o.retries]
    assert retried and all(o.result in ("reserved", "refused") for o in retried)
    # Each order's transactions: at most one committed, and only as its last.
    assert all(o.transactions.count("ok") == (o.result == "reserved") for o in run.outcomes)
    assert all(o.transactions[-1] == "ok" for o in run.outcomes if o.result == "reserved")
    assert figures["transactions"] == figures["orders_reserved"] + figures["conflicts"]


def test_the_low_stock_alert_went_out_once_though_holds_crossed_the_reorder_point_concurrently(sale):
    [(sku, location, left, reorder_point)] = sale["run"].low_alerts  # one alert, from the hold that crossed
    assert (sku, location, reorder_point) == (flash_sale.SKU, flash_sale.LOCATION, 25)
    assert 23 <= left < 25  # 25 -> 24 (one unit) or 23 (two)
