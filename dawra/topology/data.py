"""Data: the orders and inventory tables, and the grants on them other capabilities give their functions."""

from __future__ import annotations

from dawra.contracts import env as E

from .model import Grant, Index, KeySchema, Ref, Table, arn

ORDERS = Table(
    id="orders",
    name="dawra-orders",
    keys=KeySchema(partition_key="pk", sort_key="sk"),
    indexes=(
        # KEYS_ONLY: status changes on the order header then cost no index write
        Index(name="by-customer", partition_key="customer_id", sort_key="placed_at", projection="KEYS_ONLY"),
        # KEYS_ONLY: the order and shipment ids are the item's own keys
        Index(name="by-tracking-number", partition_key="tracking_number", projection="KEYS_ONLY"),
        # The back office's searches (dawra/adapters/dynamo/keys.py): orders by status and date; orders by email,
        # phone, sku or location (LOOKUP items written with the order); actions by who took them.
        Index(name="by-status", partition_key="status", sort_key="placed_at", projection="KEYS_ONLY"),
        Index(name="by-lookup", partition_key="lookup", sort_key="placed_at", projection="KEYS_ONLY"),
        Index(name="by-actor", partition_key="actor_id", sort_key="at", projection="ALL"),
    ),
    stream="NEW_IMAGE",
    ttl_attribute="expires_at",  # only short-lived items carry it (rejected webhooks): dawra/adapters/dynamo/keys.py
    purpose="The order aggregate: header, shipments, timeline events, applied carrier reports, message "
            "send claims, checkout idempotency records, search lookups and the back office's audit trail.",
)
INVENTORY = Table(
    id="inventory",
    name="dawra-inventory",
    keys=KeySchema(partition_key="pk", sort_key="sk"),
    indexes=(
        # The stock screen: a location's stock items and the transfers in transit to it (dawra/adapters/dynamo/keys.py).
        # KEYS_ONLY: counter updates (every reservation) then cost no index write; the items are read by key.
        Index(name="by-location", partition_key="at_location", sort_key="listing", projection="KEYS_ONLY"),
    ),
    purpose="Catalog items, locations, stock per (sku, location), reservations per (order, sku, location) and "
            "stock transfers between locations.",
)
TABLES = (ORDERS, INVENTORY)

ORDERS_TABLE = {E.ORDERS_TABLE: Ref(kind="table", id="orders")}
INVENTORY_TABLE = {E.INVENTORY_TABLE: Ref(kind="table", id="inventory")}

DDB_READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem")
# TransactWriteItems is authorised through these.
DDB_WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
             "dynamodb:ConditionCheckItem")


def read(table: Table) -> Grant:
    """Read the table and query each of its indexes, named one by one (no index/*)."""
    indexes = tuple(arn("table", table.id, f"/index/{index.name}") for index in table.indexes)
    return Grant(actions=DDB_READ, resources=(arn("table", table.id), *indexes))


def write(table: Table) -> Grant:
    return Grant(actions=DDB_WRITE, resources=(arn("table", table.id),))


READ_ORDERS, WRITE_ORDERS = read(ORDERS), write(ORDERS)
READ_INVENTORY, WRITE_INVENTORY = read(INVENTORY), write(INVENTORY)
