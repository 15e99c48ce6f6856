"""The unit of work: one TransactWriteItems holding an order's change (header over the version it was read at,
changed shipments and returns over theirs, new timeline events), its stock moves and its markers. All or nothing.

A cancelled transaction is classified by its CancellationReasons, item by item: ConditionalCheckFailed is the
domain outcome (ConcurrentChange, naming which kinds of item refused); TransactionConflict, ThrottlingError,
ProvisionedThroughputExceeded and RequestLimitExceeded are transient and retried here with backoff and full jitter
(the same ClientRequestToken, so DynamoDB applies a retried transaction at most once), then surface as
TransientError."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import ClientError

from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.base import Table
from dawra.adapters.dynamo.codec import to_item, values
from dawra.adapters.dynamo.orders import event_item, lookup_items, order_item, return_item, shipment_item
from dawra.adapters.errors import CONNECTION_ERRORS, error_code, is_transient
from dawra.domain.audit import AuditEntry
from dawra.domain.errors import ConcurrentChange, TransientError
from dawra.domain.inventory import (
    CounterChange,
    MoveKind,
    ReservationState,
    StockChange,
    StockMove,
    TransferMove,
    TransferState,
)
from dawra.domain.order import Order
from dawra.ports import AppliedReport, IdempotencyRecord, Marker

TRANSIENT_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded",
                               "RequestLimitExceeded"})
ATTEMPTS = 4
BASE_DELAY_S = 0.05
MAX_TRANSACTION_ITEMS = 100
COUNTERS = ("on_hand", "reserved", "available", "in_transit", "quarantined")
LATER_COUNTERS = frozenset({"in_transit", "quarantined"})  # absent on items written before them: read as 0


class DynamoUnitOfWork:
    def __init__(self, orders_table: str, inventory_table: str | None, client: Any = None,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None):
        self.orders = Table(orders_table, client)
        self.inventory = Table(inventory_table, client) if inventory_table else None
        self.sleep = sleep
        self.rng = rng or random.Random()  # noqa: S311 - backoff jitter, not a secret

    def commit(self, *, order: Order | None = None, stock: Sequence[StockChange] = (),
               markers: Sequence[Marker] = (), audit: Sequence[AuditEntry] = ()) -> None:
        items: list[tuple[str, dict[str, Any]]] = []  # (what the item is, the TransactItems entry)
        if order is not None:
            items += self._order_items(order)
        for move in stock:
            items += self._stock_items(move)
        items += [self._marker_item(marker) for marker in markers]
        items += [self._audit_item(entry) for entry in audit]
        if not items:
            return
        if len(items) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"a commit of {len(items)} items is over DynamoDB's {MAX_TRANSACTION_ITEMS}")
        self._transact(items)
        if order is not None:
            order.mark_committed()

    def _transact(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        token = str(uuid.uuid4())
        for attempt in range(ATTEMPTS):
            try:
                self.orders.client.transact_write_items(TransactItems=[entry for _, entry in items],
                                                        ClientRequestToken=token)
                return
            except ClientError as error:
                code = error_code(error)
                if code == "TransactionCanceledException":
                    reasons = [r.get("Code", "None") for r in error.response.get("CancellationReasons") or []]
                    refused = {kind for (kind, _), reason in zip(items, reasons, strict=False)
                               if reason == "ConditionalCheckFailed"}
                    if refused:
                        raise ConcurrentChange(refused) from None
                    if not {r for r in reasons if r != "None"} <= TRANSIENT_REASONS:
                        raise
                elif not is_transient(error):
                    raise
                last = code
            except CONNECTION_ERRORS as error:
                last = type(error).__name__
            if attempt < ATTEMPTS - 1:
                self.sleep(self.rng.uniform(0, BASE_DELAY_S * 2**attempt))  # full jitter
        raise TransientError(f"DynamoDB TransactWriteItems: {last} after {ATTEMPTS} attempts")

    # --- translation ----------------------------------------------------------------------------------------------
    def _order_items(self, order: Order) -> list[tuple[str, dict[str, Any]]]:
        items: list[tuple[str, dict[str, Any]]] = []
        if order.header_changed:
            items.append(("order", self._versioned_put(order_item(order), order.version)))
        for shipment in order.changed_shipments:
            items.append(("shipment", self._versioned_put(shipment_item(shipment), shipment.version)))
        for ret in order.changed_returns:
            items.append(("return", self._versioned_put(return_item(ret), ret.version)))
        for event in order.new_events:
            items.append(("event", {"Put": {"TableName": self.orders.name, "Item": to_item(event_item(event)),
                                            "ConditionExpression": "attribute_not_exists(pk)"}}))
        # What the back office finds an order by, written once with what it describes (a retry rewrites the same).
        items += [("lookup", {"Put": {"TableName": self.orders.name, "Item": to_item(item)}})
                  for item in lookup_items(order)]
        return items

    def _audit_item(self, entry: AuditEntry) -> tuple[str, dict[str, Any]]:
        """Append-only: an entry is never overwritten (a replayed request is refused here, as "audit")."""
        item = {**keys.audit_key(entry.subject, entry.audit_id), "entity": keys.ENTITY_AUDIT,
                **entry.model_dump(mode="json")}
        return "audit", {"Put": {"TableName": self.orders.name, "Item": to_item(item),
                                 "ConditionExpression": "attribute_not_exists(pk)"}}

    def _versioned_put(self, item: dict[str, Any], loaded_version: int) -> dict[str, Any]:
        """Write the item as version loaded+1, only if it is still at the version it was read at."""
        put: dict[str, Any] = {"TableName": self.orders.name, "Item": to_item({**item, "version": loaded_version + 1})}
        if loaded_version == 0:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "#version = :loaded"
            put["ExpressionAttributeNames"] = {"#version": "version"}
            put["ExpressionAttributeValues"] = values(loaded=loaded_version)
        return {"Put": put}

    def _marker_item(self, marker: Marker) -> tuple[str, dict[str, Any]]:
        if isinstance(marker, IdempotencyRecord):
            item = {**keys.idempotency_key(marker.key_hash), "entity": keys.ENTITY_MARKER,
                    **marker.model_dump(mode="json")}
        elif isinstance(marker, AppliedReport):
            report = marker.report
            item = {**keys.applied_report_key(marker.order_id, report.dedup_key), "entity": keys.ENTITY_MARKER,
                    "shipment_id": marker.shipment_id, "status": report.status.value,
                    "carrier_status": report.carrier_status, "occurred_at": report.occurred_at}
        else:  # pragma: no cover - Marker is a closed union
            raise TypeError(f"unknown marker {marker!r}")
        return "marker", {"Put": {"TableName": self.orders.name, "Item": to_item(item),
                                  "ConditionExpression": "attribute_not_exists(pk)"}}

    def _stock_items(self, move: StockChange) -> list[tuple[str, dict[str, Any]]]:
        if self.inventory is None:
            raise ValueError("this unit of work has no inventory table")
        if isinstance(move, CounterChange):
            return [("stock", self._counter_item(self.inventory.name, move))]
        if isinstance(move, TransferMove):
            return [("transfer", self._transfer_item(self.inventory.name, move))]
        return self._reservation_items(self.inventory.name, move)

    @staticmethod
    def _counter_item(table: str, change: CounterChange) -> dict[str, Any]:
        """A stock item's counters set to what was decided, only while they are still what it was decided on (a
        missing in_transit or quarantined, on items older than them, counts as 0). A new item is created with its
        listing."""
        after, before = change.after, change.before
        update: dict[str, Any] = {
            "TableName": table, "Key": to_item(keys.stock_key(after.sku, after.location_id)),
            "ExpressionAttributeNames": {"#" + name: name for name in COUNTERS},
            "ExpressionAttributeValues": values(**{name: getattr(after, name) for name in COUNTERS})}
        sets = [f"#{name} = :{name}" for name in COUNTERS]
        if before is None:
            listing = keys.stock_listing(after.location_id, after.sku)
            update["ExpressionAttributeNames"] |= {"#sku": "sku", "#loc": "location_id", "#at": keys.AT_LOCATION,
                                                   "#listing": keys.LISTING}
            update["ExpressionAttributeValues"] |= values(sku=after.sku, loc=after.location_id,
                                                          listing=listing[keys.LISTING])
            update["UpdateExpression"] = "SET " + ", ".join([*sets, "#sku = :sku", "#loc = :loc", "#at = :loc",
                                                             "#listing = :listing"])
            update["ConditionExpression"] = "attribute_not_exists(pk)"
            return {"Update": update}
        update["ExpressionAttributeValues"] |= values(**{f"was_{name}": getattr(before, name) for name in COUNTERS})
        conditions = [f"#{name} = :was_{name}" if name not in LATER_COUNTERS or getattr(before, name) else
                      f"(attribute_not_exists(#{name}) OR #{name} = :was_{name})" for name in COUNTERS]
        update["UpdateExpression"] = "SET " + ", ".join(sets)
        update["ConditionExpression"] = " AND ".join(conditions)
        return {"Update": update}

    @staticmethod
    def _transfer_item(table: str, move: TransferMove) -> dict[str, Any]:
        """A transfer written whole: new (it must not exist; listed under its destination while in transit), or
        received (only from in transit; no longer listed)."""
        transfer = move.transfer
        item: dict[str, Any] = {**keys.transfer_key(transfer.transfer_id), **transfer.model_dump(mode="json")}
        if transfer.state == TransferState.IN_TRANSIT:
            item |= keys.transfer_listing(transfer.to_location, transfer.sent_at, transfer.transfer_id)
        put: dict[str, Any] = {"TableName": table, "Item": to_item(item)}
        if move.expected is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "#state = :expected"
            put["ExpressionAttributeNames"] = {"#state": "state"}
            put["ExpressionAttributeValues"] = values(expected=move.expected.value)
        return {"Put": put}

    def _reservation_items(self, table: str, move: StockMove) -> list[tuple[str, dict[str, Any]]]:
        r = move.reservation
        stock = {"TableName": table, "Key": to_item(keys.stock_key(r.sku, r.location_id)),
                 "ExpressionAttributeValues": values(q=r.quantity)}
        reservation_key = to_item(keys.reservation_key(r.order_id, *r.key))
        if move.kind == MoveKind.HOLD:
            return [
                ("stock", {"Update": {**stock, "UpdateExpression": "SET available = available - :q, "
                                                                   "reserved = reserved + :q",
                                      "ConditionExpression": "available >= :q"}}),
                ("reservation", {"Put": {"TableName": table, "ConditionExpression": "attribute_not_exists(pk)",
                                         "Item": to_item({**keys.reservation_key(r.order_id, *r.key),
                                                          **r.model_dump(mode="json")})}}),
            ]
        counters = {MoveKind.CONSUME: ("SET on_hand = on_hand - :q, reserved = reserved - :q", ReservationState.SHIPPED),
                    MoveKind.RELEASE: ("SET available = available + :q, reserved = reserved - :q",
                                       ReservationState.RELEASED)}
        update, new_state = counters[move.kind]
        return [
            ("stock", {"Update": {**stock, "UpdateExpression": update, "ConditionExpression": "reserved >= :q"}}),
            ("reservation", {"Update": {
                "TableName": table, "Key": reservation_key, "UpdateExpression": "SET #state = :new",
                "ConditionExpression": "#state = :held", "ExpressionAttributeNames": {"#state": "state"},
                "ExpressionAttributeValues": values(new=new_state.value, held=ReservationState.HELD.value)}}),
        ]
