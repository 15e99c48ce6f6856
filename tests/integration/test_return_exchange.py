"""An exchange through both state machines on the embedded cloud: the order's lifecycle delivers a prayer mat; the
customer asks to exchange it for the large size; the return's lifecycle holds the large one at once (the policy
approves), books the return label, and when the carrier delivers the mat back it sends the large one as a new
shipment of the same order (nothing charged), waits for the warehouse, then for the replacement's delivery, and
closes. Asserts the stock (held, then gone; the returned mat back on the shelf), the money (nothing captured or
refunded), the messages in the outbox, and that the original shipment and its timeline are untouched."""

from collections import Counter

import pytest
from parcels import carrier, messages_to, order_of, stock, wait_until
from return_trips import (
    WAREHOUSE,
    asking,
    delivered_order,
    execution,
    parked,
    report_return,
    return_when,
    returns_of,
    status_is,
)
from stacks import seeded_stack

from dawra.domain.money import Money
from dawra.domain.pricing import CatalogItem
from dawra.domain.returns import InspectionOutcome, RefundMethod, ReturnReason, ReturnRequest

LARGE = CatalogItem(sku="PRAYER-MAT-L", title="Prayer mat, large", titles={"ar": "سجادة صلاة كبيرة"},
                    unit_price=Money(amount=12000, currency="SAR"), weight_g=1100, category="textiles")


@pytest.fixture(scope="module")
def stack():
    for running in seeded_stack():
        from dawra.adapters.dynamo.inventory import DynamoInventory
        from dawra.local.seed import CATALOG

        inventory = DynamoInventory(running.cloud.resolve_ref("table", "inventory", "name"))
        [mat] = [item for item in CATALOG if item.sku == "PRAYER-MAT"]
        inventory.put_catalog_item(mat.model_copy(update={"exchangeable_for": ("PRAYER-MAT-L",)}))
        inventory.put_catalog_item(LARGE)
        inventory.set_stock("PRAYER-MAT", "riyadh-dc", 20)
        inventory.set_stock("PRAYER-MAT-L", "riyadh-dc", 2)
        yield running


@pytest.fixture(scope="module")
def returns(stack):
    return returns_of(stack)


def exchange_for(wanted: str) -> ReturnRequest:
    asked = asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)}, refund=RefundMethod.EXCHANGE)
    return ReturnRequest(lines=asked.lines, method=asked.method, refund_method=asked.refund_method,
                         location_id=asked.location_id, exchanges={"PRAYER-MAT": wanted})


def test_an_exchange_sends_the_other_size_when_the_mat_comes_back_and_moves_no_money(stack, returns, unique):
    email = f"{unique('exchange')}@example.com"
    order_id = delivered_order(stack, email, {"PRAYER-MAT": 1})
    before = order_of(stack, order_id)
    mats, larges = stock(stack, "PRAYER-MAT", "riyadh-dc"), stock(stack, "PRAYER-MAT-L", "riyadh-dc")

    ret = returns.start(order_id, "exchange-key-1", exchange_for("PRAYER-MAT-L"))
    assert ret.status.value == "approved" and ret.replacement_id and ret.estimate.total.amount == 0
    on_hand, reserved, available = larges
    assert stock(stack, "PRAYER-MAT-L", "riyadh-dc") == (on_hand, reserved + 1, available - 1)  # held for them

    labelled = return_when(stack, order_id, ret.return_id, parked("label_issued"), "no label")
    report_return(stack, labelled.tracking_number, "PICKED_UP")
    report_return(stack, labelled.tracking_number, "DELIVERED")
    received = return_when(stack, order_id, ret.return_id, parked("received"), "not waiting for inspection")
    sent = wait_until(stack, order_id, lambda o: any(s["shipment_id"] == received.replacement_id
                                                     and s["tracking_number"] for s in o["shipments"]),
                      what="the replacement did not leave")
    [replacement] = [s for s in sent["shipments"] if s["shipment_id"] == received.replacement_id]
    assert replacement["tracking_number"] and replacement["status"] == "label_created"  # left on arrival
    assert stock(stack, "PRAYER-MAT-L", "riyadh-dc") == (on_hand - 1, reserved, available - 1)  # gone for good

    returns.inspect(WAREHOUSE, order_id, ret.return_id, "exchange-inspect-1",
                    {"PRAYER-MAT": (InspectionOutcome.SELLABLE, None)})
    return_when(stack, order_id, ret.return_id, status_is("exchanged"), "not exchanged")
    carrier(stack).deliver(replacement["tracking_number"])  # the large mat arrives
    closed = return_when(stack, order_id, ret.return_id, status_is("closed"), "not closed")
    run = execution(stack, ret.return_id)
    assert run["status"] == "SUCCEEDED"
    assert [s for s in run["states"] if not s.startswith(("Was", "Needs"))] == [
        "ReturnRequested", "IssueLabelOrInstructions", "WaitForParcel", "ShipTheExchange", "WaitForInspection",
        "Refund", "WaitForReplacement", "Close", "Closed"]

    after = order_of(stack, order_id)
    # Money: nothing captured for the replacement, nothing refunded for the mat.
    assert after["payment"]["captured"] == before["payment"]["captured"]
    assert after["payment"]["refunded"]["amount"] == 0 and closed.refunded is None
    # Stock: the returned mat back on the shelf where it arrived.
    assert stock(stack, "PRAYER-MAT", "riyadh-dc") == (mats[0] + 1, mats[1], mats[2] + 1)
    # History: the order stays complete, its original parcel exactly as it was, the replacement beside it.
    assert after["status"] == "COMPLETED"
    [original] = before["shipments"]
    assert [s for s in after["shipments"] if s["shipment_id"] == original["shipment_id"]] == [original]
    assert len(after["shipments"]) == 2
    kinds = Counter(e["kind"] for e in after["timeline"])
    assert all(kinds[e["kind"]] >= 1 for e in before["timeline"])  # nothing of the original removed
    for kind in ("return_requested", "return_exchange_reserved", "return_label_issued", "return_received",
                 "return_exchange_shipped", "return_inspected", "return_exchanged", "return_closed"):
        assert kinds[kind] == 1, kind
    assert kinds["shipment_delivered"] == 2  # the original parcel and the replacement
    # Messages: each step the customer should hear about, once.
    subjects = Counter(m.subject for m in messages_to(stack, email, 9))
    exchange_news = [s for s in subjects if "exchange" in s]
    assert sorted(exchange_news) == sorted([s for s in subjects if s.startswith("Your exchange for order")])
    assert any(s.endswith("is on its way") for s in exchange_news)
    assert any(s.endswith("is complete") for s in exchange_news)
    assert all(n == 1 for s, n in subjects.items() if "return" in s or "exchange" in s), subjects
    assert [s for s in subjects if s.startswith("We received your return")], subjects
    assert sum(n for s, n in subjects.items() if s.endswith("was delivered")) == 2, subjects


def test_an_exchange_out_of_stock_is_refused_and_nothing_is_written(stack, returns, unique):
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.adapters.dynamo.orders import DynamoOrders
    from dawra.app.returns import OutOfStock

    order_id = delivered_order(stack, f"{unique('nostock')}@example.com", {"PRAYER-MAT": 1})
    inventory = DynamoInventory(stack.cloud.resolve_ref("table", "inventory", "name"))
    inventory.set_stock("PRAYER-MAT-L", "riyadh-dc", 0)
    try:
        with pytest.raises(OutOfStock, match="out of stock"):
            returns.start(order_id, "exchange-key-2", exchange_for("PRAYER-MAT-L"))
    finally:
        inventory.set_stock("PRAYER-MAT-L", "riyadh-dc", 2)
    stored = DynamoOrders(stack.cloud.resolve_ref("table", "orders", "name")).get(order_id)
    assert stored is not None and stored.returns == [] and len(stored.shipments) == 1
    assert order_of(stack, order_id)["payment"]["refunded"]["amount"] == 0
