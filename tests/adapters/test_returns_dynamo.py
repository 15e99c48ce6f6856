"""Returns in DynamoDB (the embedded cloud, tables from the topology): a return is an item of its own under its order
(RETURN#<return_id>), loaded with the order and never copied into the header; the unit of work writes a changed
return over the version it was read at; its label's tracking number finds it, and never as a shipment."""

from __future__ import annotations

from typing import Any

import pytest
from parcels import carrier, place_order, shipped_tracking, wait_until
from stacks import seeded_stack

from bench import counting
from dawra.adapters.carriers.sandbox import SandboxCarrier
from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.codec import from_item, to_item
from dawra.adapters.dynamo.inventory import DynamoInventory
from dawra.adapters.dynamo.orders import DynamoOrders
from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork
from dawra.app.common import SystemClock
from dawra.app.returns import IssueReturnLabel, RequestReturn
from dawra.domain.errors import ConcurrentChange
from dawra.domain.returns import RefundMethod, ReturnMethod, ReturnReason, ReturnRequest

ASKED = ReturnRequest(lines=[("PRAYER-MAT", 1, ReturnReason.WRONG_SIZE, "too small")], method=ReturnMethod.LABEL,
                      refund_method=RefundMethod.ORIGINAL_PAYMENT, location_id="riyadh-dc")


@pytest.fixture(scope="module")
def stack():
    yield from seeded_stack()


@pytest.fixture(scope="module")
def parts(stack) -> dict[str, Any]:
    orders_table, inventory_table = (stack.cloud.resolve_ref("table", t, "name") for t in ("orders", "inventory"))
    orders, uow = DynamoOrders(orders_table), DynamoUnitOfWork(orders_table, inventory_table)
    order_id = place_order(stack, "returns-adapter@example.com", {"PRAYER-MAT": 1})
    shipment_tracking = shipped_tracking(stack, order_id)
    carrier(stack).deliver(shipment_tracking)
    wait_until(stack, order_id, lambda o: o["status"] == "COMPLETED", what="not delivered")
    ret = RequestReturn(orders, uow, SystemClock())(order_id, "adapter-key", ASKED)
    return {"orders": orders, "uow": uow, "order_id": order_id, "return": ret, "table": orders_table,
            "inventory": DynamoInventory(inventory_table), "shipment_tracking": shipment_tracking,
            "client": stack.cloud.client("dynamodb")}


def test_a_return_round_trips_with_its_order(parts):
    loaded = parts["orders"].get(parts["order_id"])
    assert loaded is not None
    [ret] = loaded.returns
    assert ret == parts["return"] and ret.version == 1
    assert [s.status.value for s in loaded.shipments] == ["delivered"]  # shipments still load beside it
    assert ret.lines[0].comment == "too small" and ret.estimate.total.amount > 0


def test_the_header_item_has_no_returns_and_the_return_is_its_own_item(parts):
    client, table, order_id = parts["client"], parts["table"], parts["order_id"]
    header = from_item(client.get_item(TableName=table, Key=to_item(keys.order_key(order_id)))["Item"])
    assert "returns" not in header and "shipments" not in header
    item = client.get_item(TableName=table, Key=to_item(keys.return_key(order_id, parts["return"].return_id)))
    stored = from_item(item["Item"])
    assert stored["entity"] == keys.ENTITY_RETURN and stored["return_id"] == parts["return"].return_id
    assert keys.return_id_of(stored["sk"]) == parts["return"].return_id


def test_the_header_is_packed_under_1_kb_its_index_keys_plain_and_a_plain_header_still_loads(parts):
    client, table, order_id = parts["client"], parts["table"], parts["order_id"]
    raw = client.get_item(TableName=table, Key=to_item(keys.order_key(order_id)))["Item"]
    assert {"status", "placed_at", "customer_id", "version", "body"} <= set(raw) and "contact" not in raw
    assert "B" in raw["body"] and counting.item_size(raw) < 1024
    order = parts["orders"].get(order_id)
    assert order is not None and order.contact.email == "returns-adapter@example.com"
    # A header written before packing (every attribute plain) loads the same.
    copy = f"ord_plain{order_id[9:]}"
    plain = order.model_dump(mode="json", exclude={"shipments", "returns"}) | {"order_id": copy}
    client.put_item(TableName=table, Item=to_item({**keys.order_key(copy), "entity": keys.ENTITY_ORDER, **plain}))
    loaded = parts["orders"].get(copy)
    assert loaded is not None and loaded.contact == order.contact and loaded.totals == order.totals


def test_shipments_and_returns_are_packed_their_tracking_numbers_plain_and_plain_ones_still_load(parts):
    client, table, order_id, ret = parts["client"], parts["table"], parts["order_id"], parts["return"]
    order = parts["orders"].get(order_id)
    [shipment] = order.shipments
    for key in (keys.shipment_key(order_id, shipment.shipment_id), keys.return_key(order_id, ret.return_id)):
        raw = client.get_item(TableName=table, Key=to_item(key))["Item"]
        assert {"pk", "sk", "entity", "order_id", "version", "body"} <= set(raw) and "B" in raw["body"]
        assert "lines" not in raw and counting.item_size(raw) < 1024
        # Their status stays plain: the waits' own writes are conditioned on it (decisions 117 and 121).
        assert "status" in raw
    raw_shipment = client.get_item(TableName=table, Key=to_item(keys.shipment_key(order_id, shipment.shipment_id)))
    assert raw_shipment["Item"]["tracking_number"] == {"S": parts["shipment_tracking"]}  # by-tracking-number's key
    # A shipment and a return written before packing (every attribute plain) load the same.
    copy = f"ord_plain2{order_id[10:]}"
    header = order.model_dump(mode="json", exclude={"shipments", "returns"}) | {"order_id": copy}
    plain_items = [{**keys.order_key(copy), "entity": keys.ENTITY_ORDER, **header},
                   {**keys.shipment_key(copy, shipment.shipment_id), "entity": keys.ENTITY_SHIPMENT,
                    **shipment.model_dump(mode="json"), "order_id": copy, "tracking_number": None},
                   {**keys.return_key(copy, ret.return_id), "entity": keys.ENTITY_RETURN,
                    **ret.model_dump(mode="json"), "order_id": copy, "tracking_number": None}]
    for item in plain_items:
        client.put_item(TableName=table, Item=to_item(item))
    loaded = parts["orders"].get(copy)
    assert loaded is not None and [s.lines for s in loaded.shipments] == [shipment.lines]
    assert [(r.return_id, r.lines, r.estimate) for r in loaded.returns] == [(ret.return_id, ret.lines, ret.estimate)]


def test_a_concurrent_change_to_a_return_is_refused(parts):
    orders, uow, order_id, return_id = parts["orders"], parts["uow"], parts["order_id"], parts["return"].return_id
    first, second = orders.get(order_id), orders.get(order_id)
    for copy, token in ((first, "token-first"), (second, "token-second")):
        copy.return_of(return_id).resume_token = token
        copy.touch_return(return_id)
    uow.commit(order=first)
    with pytest.raises(ConcurrentChange) as refused:
        uow.commit(order=second)
    assert refused.value.parts == {"return"}
    assert orders.get(order_id).return_of(return_id).resume_token == "token-first"


def test_a_return_label_tracking_number_finds_the_return_and_never_a_shipment(parts):
    orders, order_id, return_id = parts["orders"], parts["order_id"], parts["return"].return_id
    labelled = IssueReturnLabel(orders, parts["inventory"], parts["uow"], SandboxCarrier(), SystemClock())(
        order_id, return_id)
    assert labelled.tracking_number
    assert orders.find_return(labelled.tracking_number) == (order_id, return_id)
    assert orders.find_shipment(labelled.tracking_number) is None
    assert orders.find_return(parts["shipment_tracking"]) is None
    assert orders.find_shipment(parts["shipment_tracking"])[0] == order_id
