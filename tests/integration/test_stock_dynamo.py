"""Stock changes and the operations read against DynamoDB (moto, the tables built from the topology): counters,
transfer records and audit entries are written in one transaction or not at all, and the operations figures are
read with Query and BatchGetItem, never Scan."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dawra.adapters.dynamo.backoffice import DynamoAuditLog
from dawra.adapters.dynamo.base import Table
from dawra.adapters.dynamo.inventory import DynamoInventory
from dawra.adapters.dynamo.operations import DynamoOrderHistory
from dawra.adapters.dynamo.orders import event_item, order_item
from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork
from dawra.app.operations import OperationsView
from dawra.app.stock import StockActions
from dawra.domain.access import Actor, Role
from dawra.domain.audit import AuditEntry, stock_subject
from dawra.domain.customer import Address, Contact
from dawra.domain.errors import ConcurrentChange
from dawra.domain.inventory import StockRefused, Transfer, TransferState, adjust, send
from dawra.domain.money import Money
from dawra.domain.order import Order, OrderLine, OrderStatus, PaymentState, Totals
from dawra.domain.time import iso
from dawra.domain.timeline import TimelineEvent, TimelineKind
from dawra.local.seed import seed
from dawra.topology import TOPOLOGY

WAREHOUSE = Actor(user_id="u-wh", username="wafa", roles=frozenset({Role.WAREHOUSE}))
MANAGER = Actor(user_id="u-mgr", username="majed", roles=frozenset({Role.MANAGER}))
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return NOW


class Recording:
    """A boto3 client that remembers which operations it was asked for."""

    def __init__(self, client: Any):
        self._client, self.calls = client, []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return attribute(*args, **kwargs)

        return call


def _key_schema(partition: str, sort: str | None) -> list[dict[str, str]]:
    return [{"AttributeName": partition, "KeyType": "HASH"},
            *([{"AttributeName": sort, "KeyType": "RANGE"}] if sort else [])]


@pytest.fixture(scope="module")
def client():
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="me-south-1")
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="me-south-1")
        for table in TOPOLOGY.tables:  # as the embedded cloud and the CDK app build them
            attributes = {table.keys.partition_key, *filter(None, [table.keys.sort_key])}
            for index in table.indexes:
                attributes |= {index.partition_key, *filter(None, [index.sort_key])}
            kwargs: dict[str, Any] = {
                "TableName": table.name, "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": _key_schema(table.keys.partition_key, table.keys.sort_key),
                "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)]}
            if table.indexes:
                kwargs["GlobalSecondaryIndexes"] = [
                    {"IndexName": i.name, "KeySchema": _key_schema(i.partition_key, i.sort_key),
                     "Projection": {"ProjectionType": i.projection}} for i in table.indexes]
            ddb.create_table(**kwargs)
        seed(DynamoInventory(TOPOLOGY.table("inventory").name, ddb))
        yield ddb
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def names() -> tuple[str, str]:
    return TOPOLOGY.table("orders").name, TOPOLOGY.table("inventory").name


@pytest.fixture(scope="module")
def parts(client, names):
    orders, inventory_table = names
    inventory = DynamoInventory(inventory_table, client)
    uow = DynamoUnitOfWork(orders, inventory_table, client, sleep=lambda _: None)
    audit = DynamoAuditLog(orders, client)
    return inventory, uow, audit, StockActions(inventory, inventory, uow, audit, Clock())


def counters(inventory: DynamoInventory, sku: str, location: str) -> tuple[int, int, int, int] | None:
    level = inventory.stock(sku, location)
    return (level.on_hand, level.reserved, level.available, level.in_transit) if level else None


def test_an_adjustment_writes_its_counters_and_its_audit_entry_together(parts):
    inventory, _, audit, stock = parts
    outcome = stock.adjust(WAREHOUSE, "it-adj-1", "PRAYER-MAT", "riyadh-dc", 3, "supplier delivery")
    assert counters(inventory, "PRAYER-MAT", "riyadh-dc") == (5, 0, 5, 0)
    assert audit.entry(stock_subject("PRAYER-MAT", "riyadh-dc"), outcome.audit.audit_id) == outcome.audit
    replay = stock.adjust(WAREHOUSE, "it-adj-1", "PRAYER-MAT", "riyadh-dc", 3, "supplier delivery")
    assert replay.replayed and replay.audit == outcome.audit
    assert counters(inventory, "PRAYER-MAT", "riyadh-dc") == (5, 0, 5, 0)
    with pytest.raises(StockRefused):
        stock.adjust(WAREHOUSE, "it-adj-2", "PRAYER-MAT", "riyadh-dc", -6, "count")
    assert counters(inventory, "PRAYER-MAT", "riyadh-dc") == (5, 0, 5, 0)
    assert [e.audit_id for e in audit.for_subject(stock_subject("PRAYER-MAT", "riyadh-dc"))] == [
        outcome.audit.audit_id]


def test_a_transfer_is_sent_listed_and_received_each_step_with_its_audit_entry(parts):
    inventory, _, audit, stock = parts
    sent = stock.transfer(WAREHOUSE, "it-t-1", "DATES-1KG", "riyadh-dc", "jeddah-store", 7, "eid stock")
    transfer_id = sent.transfer.transfer_id
    assert counters(inventory, "DATES-1KG", "riyadh-dc") == (18, 0, 18, 0)
    assert counters(inventory, "DATES-1KG", "jeddah-store") == (0, 0, 0, 7)  # created by the transfer
    assert inventory.transfer(transfer_id).state == TransferState.IN_TRANSIT
    assert audit.entry(stock_subject("DATES-1KG", "riyadh-dc"), sent.audit.audit_id) == sent.audit
    view = stock.levels(WAREHOUSE, location_id="jeddah-store")  # from the by-location index
    assert ("DATES-1KG", 7) in [(lv.sku, lv.in_transit) for lv in view.levels]
    assert [t.transfer_id for t in view.transfers] == [transfer_id]

    received = stock.receive(WAREHOUSE, "it-r-1", transfer_id)
    assert counters(inventory, "DATES-1KG", "jeddah-store") == (7, 0, 7, 0)
    assert inventory.transfer(transfer_id).state == TransferState.RECEIVED
    assert audit.entry(stock_subject("DATES-1KG", "jeddah-store"), received.audit.audit_id) == received.audit
    assert stock.levels(WAREHOUSE, location_id="jeddah-store").transfers == []
    with pytest.raises(StockRefused, match="already received"):
        stock.receive(MANAGER, "it-r-2", transfer_id)
    assert stock.receive(WAREHOUSE, "it-r-1", transfer_id).replayed
    assert counters(inventory, "DATES-1KG", "jeddah-store") == (7, 0, 7, 0)


def test_a_refused_transfer_writes_nothing(parts, client, names):
    """Decided on counters that moved since: the transaction is cancelled whole (no counter, record or entry)."""
    inventory, uow, audit, _ = parts
    source = inventory.stock("MUG-CLASSIC", "riyadh-dc")
    destination = inventory.stock("MUG-CLASSIC", "dammam-3pl")
    transfer = Transfer(transfer_id="trf_refused", sku="MUG-CLASSIC", from_location="riyadh-dc",
                        to_location="dammam-3pl", quantity=4, reason="restock", sent_at=iso(NOW),
                        sent_by="u-wh")
    moves = send(transfer, source, destination)
    entry = AuditEntry(audit_id="refused-entry", subject=stock_subject("MUG-CLASSIC", "riyadh-dc"),
                       action="transfer_stock", actor_id="u-wh", actor_name="wafa", roles=["warehouse"],
                       at=iso(NOW))
    # Meanwhile another operator counts the mugs: the counters the transfer was decided on are gone.
    uow.commit(stock=[adjust(source, "MUG-CLASSIC", "riyadh-dc", -1)])
    after_count = counters(inventory, "MUG-CLASSIC", "riyadh-dc")
    with pytest.raises(ConcurrentChange) as refused:
        uow.commit(stock=list(moves), audit=[entry])
    assert refused.value.parts == {"stock"}
    assert counters(inventory, "MUG-CLASSIC", "riyadh-dc") == after_count == (39, 0, 39, 0)
    assert inventory.stock("MUG-CLASSIC", "dammam-3pl") is None
    assert inventory.transfer("trf_refused") is None
    assert audit.entry(entry.subject, entry.audit_id) is None


def test_an_audit_entry_is_written_once(parts):
    inventory, uow, _, _ = parts
    level = inventory.stock("DALLAH-BRASS", "jeddah-store")
    entry = AuditEntry(audit_id="once", subject=stock_subject("DALLAH-BRASS", "jeddah-store"), action="adjust_stock",
                       actor_id="u-wh", actor_name="wafa", roles=["warehouse"], at=iso(NOW))
    uow.commit(stock=[adjust(level, "DALLAH-BRASS", "jeddah-store", 1)], audit=[entry])
    again = inventory.stock("DALLAH-BRASS", "jeddah-store")
    with pytest.raises(ConcurrentChange) as refused:
        uow.commit(stock=[adjust(again, "DALLAH-BRASS", "jeddah-store", 1)], audit=[entry])
    assert refused.value.parts == {"audit"}
    assert counters(inventory, "DALLAH-BRASS", "jeddah-store") == (4, 0, 4, 0)


# --- operations ---------------------------------------------------------------------------------------------------

def sar(amount: int) -> Money:
    return Money(amount=amount, currency="SAR")


def stored_order(table: Table, order_id: str, status: OrderStatus, placed: datetime, promised_by: str,
                 *happened: tuple[TimelineKind, datetime]) -> None:
    line = OrderLine(sku="MUG-CLASSIC", title="Mug", quantity=1, unit_price=sar(4500), line_total=sar(4500),
                     tax=sar(0))
    order = Order(order_id=order_id, customer_id="c", status=status, placed_at=iso(placed),
                  promised_by=promised_by, contact=Contact(email="a@example.com"),
                  shipping_address=Address(name="N", line1="L", city="Riyadh", country="SA"),
                  shipping_method="standard", lines=[line],
                  totals=Totals(subtotal=sar(4500), shipping=sar(0), tax=sar(0), total=sar(4500)),
                  payment=PaymentState(provider="sandbox", authorization_id="a", authorized=sar(4500),
                                       captured=sar(0), refunded=sar(0)), version=1)
    table.put(order_item(order))
    for i, (kind, at) in enumerate(happened):
        table.put(event_item(TimelineEvent(event_id=f"{kind.value}:{order_id}:{i}", order_id=order_id, kind=kind,
                                           at=iso(at), shipment_id="s1")))


def test_the_operations_figures_are_read_with_query_and_batch_get_never_scan(client, names):
    orders_table = Table(names[0], client)
    hour = timedelta(hours=1)
    stored_order(orders_table, "ops-stuck", OrderStatus.CONFIRMED, NOW - hour, "2026-12-03",
                 (TimelineKind.ORDER_CONFIRMED, NOW - hour))
    stored_order(orders_table, "ops-done", OrderStatus.COMPLETED, NOW - 50 * hour, "2026-12-01",
                 (TimelineKind.ORDER_CONFIRMED, NOW - 50 * hour), (TimelineKind.STOCK_RESERVED, NOW - 49 * hour),
                 (TimelineKind.SHIPMENT_SHIPPED, NOW - 40 * hour), (TimelineKind.SHIPMENT_DELIVERED, NOW - 10 * hour),
                 (TimelineKind.ORDER_COMPLETED, NOW - 10 * hour))
    stored_order(orders_table, "ops-ancient", OrderStatus.COMPLETED, NOW - timedelta(days=90), "2026-09-05",
                 (TimelineKind.ORDER_CONFIRMED, NOW - timedelta(days=90)))
    recording = Recording(client)
    result = OperationsView(DynamoOrderHistory(names[0], recording), timedelta(hours=48))(MANAGER, NOW, days=30)

    assert "scan" not in recording.calls
    assert set(recording.calls) == {"query", "batch_get_item"}
    assert result.orders_read == 2 and not result.truncated  # the ancient one is outside the window: not read
    assert [s.order_id for s in result.stuck] == ["ops-stuck"]
    assert result.by_status[OrderStatus.COMPLETED] == 1 and result.on_time_delivery.rate == 1.0
    durations = {d.stage.value: d.p50_s for d in result.stage_durations}
    assert durations["placed_to_stock_reserved"] == 3600.0 and durations["placed_to_completed"] == 40 * 3600.0
