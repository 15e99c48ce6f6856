"""The unit of work: one TransactWriteItems holding an order's change (header over the version it was read at,
changed shipments and returns over theirs, new timeline events), its stock moves and its markers. All or nothing.
A change of one item alone is a conditional PutItem instead (half the write units; the same condition).

A cancelled transaction is classified by its CancellationReasons, item by item: ConditionalCheckFailed is the
domain outcome (ConcurrentChange, naming which kinds of item refused); TransactionConflict, ThrottlingError,
ProvisionedThroughputExceeded and RequestLimitExceeded are transient and retried here with backoff and full jitter
(the same ClientRequestToken, so DynamoDB applies a retried transaction at most once), then surface as
TransientError.

Tax documents (decision 87): an order that drafted invoices or credit notes in this change has them numbered here,
in the same transaction: the counter of each series is read (strongly consistent), the drafts numbered after it,
and the transaction moves the counter over the value read and writes each document once. A transaction refused by
a counter alone (another commit numbered a document meanwhile) reads the counters again and numbers again; so a
number exists if and only if the change that moved the money committed: no gaps, no duplicates."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import ClientError

from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.accounts import account_items
from dawra.adapters.dynamo.base import Table
from dawra.adapters.dynamo.codec import packed, to_item, values
from dawra.adapters.dynamo.orders import event_item, lookup_items, order_item, return_item, shipment_item
from dawra.adapters.errors import CONNECTION_ERRORS, error_code, is_transient
from dawra.domain.audit import AuditEntry
from dawra.domain.errors import ConcurrentChange, TransientError
from dawra.domain.inventory import (
    CounterChange,
    HoldCase,
    MoveKind,
    ReservationState,
    StockChange,
    StockMove,
    TransferMove,
    TransferState,
)
from dawra.domain.order import Order
from dawra.ports import AppliedPaymentEvent, IdempotencyRecord, Marker, RiskCount

TRANSIENT_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded",
                               "RequestLimitExceeded"})
ATTEMPTS = 4
BASE_DELAY_S = 0.05
MAX_TRANSACTION_ITEMS = 100
NUMBERING_ATTEMPTS = 20  # a counter taken by another commit is read again; past this many, TransientError
COUNTERS = ("on_hand", "reserved", "available", "in_transit", "quarantined")
PLAN = ("reorder_point", "target")  # replenishment, absent when not planned
LATER_COUNTERS = frozenset({"in_transit", "quarantined"})  # absent on items written before them: read as 0
DOCUMENT_PLAIN = frozenset({"pk", "sk", "entity", "number"})  # a tax document's lines and amounts are packed


class DynamoUnitOfWork:
    def __init__(self, orders_table: str, inventory_table: str | None, client: Any = None,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None):
        self.orders = Table(orders_table, client)
        self.inventory = Table(inventory_table, client) if inventory_table else None
        self.sleep = sleep
        self.rng = rng or random.Random()  # noqa: S311 - backoff jitter, not a secret

    def commit(self, *, order: Order | None = None, stock: Sequence[StockChange] = (),
               markers: Sequence[Marker] = (), audit: Sequence[AuditEntry] = ()) -> None:
        others: list[tuple[str, dict[str, Any]]] = []  # (what the item is, the TransactItems entry)
        for move in stock:
            others += self._stock_items(move)
        others += [self._marker_item(marker) for marker in markers]
        others += [self._audit_item(entry) for entry in audit]
        for attempt in range(NUMBERING_ATTEMPTS):
            items = [*self._numbered_items(order), *others] if order is not None else others
            if not items:
                return
            if len(items) > MAX_TRANSACTION_ITEMS:
                raise ValueError(f"a commit of {len(items)} items is over DynamoDB's {MAX_TRANSACTION_ITEMS}")
            try:
                self._transact(items)
                break
            except ConcurrentChange as race:
                if race.parts != {"counter"}:
                    raise
                if attempt == NUMBERING_ATTEMPTS - 1:
                    raise TransientError(f"tax document numbers: taken by other commits {NUMBERING_ATTEMPTS} "
                                         "times in a row") from None
                self.sleep(self.rng.uniform(0, BASE_DELAY_S))
        if order is not None:
            order.mark_committed()

    def _numbered_items(self, order: Order) -> list[tuple[str, dict[str, Any]]]:
        """The order's items, with this change's tax documents numbered after their counters as read now."""
        if not order.new_documents:
            return self._order_items(order)
        last = {series: self._last_number(series) for series in {d.series for d in order.new_documents}}
        counters = order.number_documents(last)
        items = self._order_items(order)
        for series, (was, now) in sorted(counters.items()):
            items.append(("counter", {"Update": self._counter_update(series, was, now)}))
        for document in order.new_documents:
            item = packed({**keys.tax_document_key(order.order_id, document.number),
                           "entity": keys.ENTITY_TAX_DOCUMENT, "number": document.number,
                           **document.model_dump(mode="json")}, DOCUMENT_PLAIN)
            items.append(("tax_document", {"Put": {"TableName": self.orders.name, "Item": to_item(item),
                                                   "ConditionExpression": "attribute_not_exists(pk)"}}))
        return items

    def _last_number(self, series: str) -> int:
        item = self.orders.get(keys.counter_key(series))
        return int(item["last"]) if item else 0

    def _counter_update(self, series: str, was: int, now: int) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self.orders.name, "Key": to_item(keys.counter_key(series)),
            "UpdateExpression": "SET #last = :now, #entity = :entity",
            "ExpressionAttributeNames": {"#last": "last", "#entity": "entity"},
            "ExpressionAttributeValues": values(now=now, entity=keys.ENTITY_COUNTER)}
        if was == 0:
            update["ConditionExpression"] = "attribute_not_exists(#last)"
        else:
            update["ConditionExpression"] = "#last = :was"
            update["ExpressionAttributeValues"] |= values(was=was)
        return update

    def _transact(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        if len(items) == 1 and "Put" in items[0][1]:
            return self._retried("DynamoDB PutItem", lambda: self._put_alone(*items[0]))
        token = str(uuid.uuid4())  # the same on every attempt: DynamoDB applies the transaction at most once

        def once() -> None:
            try:
                self.orders.client.transact_write_items(TransactItems=[entry for _, entry in items],
                                                        ClientRequestToken=token)
            except ClientError as error:
                if error_code(error) == "TransactionCanceledException":
                    reasons = [r.get("Code", "None") for r in error.response.get("CancellationReasons") or []]
                    refused = {kind for (kind, _), reason in zip(items, reasons, strict=False)
                               if reason == "ConditionalCheckFailed"}
                    if refused:
                        raise ConcurrentChange(refused) from None
                raise
        return self._retried("DynamoDB TransactWriteItems", once)

    def _put_alone(self, kind: str, entry: dict[str, Any]) -> None:
        """A change of one item (a task token parked on a shipment, say) is a plain conditional PutItem: half the
        write units of a transaction of one item. A retry of a put whose answer was lost finds its own item there
        (the condition fails, and the item it returns is the one sent): applied, not a race."""
        put = entry["Put"]
        try:
            self.orders.client.put_item(**put, ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            if error.response.get("Item") != put["Item"]:
                raise ConcurrentChange({kind}) from None

    def _retried(self, what: str, once: Callable[[], None]) -> None:
        """`once`, retried with backoff and full jitter while DynamoDB answers with a transient failure (throttling,
        a 5xx, a transaction cancelled only by conflicts or throttling, a lost connection); then TransientError."""
        for attempt in range(ATTEMPTS):
            try:
                return once()
            except ClientError as error:
                reasons = {r.get("Code", "None") for r in error.response.get("CancellationReasons") or []} - {"None"}
                cancelled_for_now = error_code(error) == "TransactionCanceledException" and \
                    reasons <= TRANSIENT_REASONS
                if not (cancelled_for_now or is_transient(error)):
                    raise
                last = error_code(error)
            except CONNECTION_ERRORS as error:
                last = type(error).__name__
            if attempt < ATTEMPTS - 1:
                self.sleep(self.rng.uniform(0, BASE_DELAY_S * 2**attempt))
        raise TransientError(f"{what}: {last} after {ATTEMPTS} attempts")

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
        items += account_items(self.orders.name, order)  # an order on account: its account's balance, receivable
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
        if isinstance(marker, RiskCount):
            return "risk", {"Update": self._risk_update(marker)}
        if isinstance(marker, IdempotencyRecord):
            item = {**keys.idempotency_key(marker.key_hash), "entity": keys.ENTITY_MARKER,
                    **marker.model_dump(mode="json")}
        elif isinstance(marker, AppliedPaymentEvent):
            event = marker.event
            item = {**keys.applied_payment_event_key(marker.order_id, event.provider, event.event_id),
                    "entity": keys.ENTITY_MARKER, "kind": event.kind.value, "occurred_at": event.occurred_at.isoformat()}
        else:  # pragma: no cover - Marker is a closed union
            raise TypeError(f"unknown marker {marker!r}")
        return "marker", {"Put": {"TableName": self.orders.name, "Item": to_item(item),
                                  "ConditionExpression": "attribute_not_exists(pk)"}}

    def _risk_update(self, count: RiskCount) -> dict[str, Any]:
        """A risk counter bumped in place (ADD: concurrent orders each count; no condition), its stale velocity
        buckets removed, its TTL moved on."""
        names = {"#entity": "entity", "#ttl": keys.TTL_ATTRIBUTE}
        added = sorted(count.add.items())
        names |= {f"#a{i}": name for i, (name, _) in enumerate(added)}
        names |= {f"#r{i}": name for i, name in enumerate(count.remove)}
        adds = [f"#a{i} :a{i}" for i in range(len(added))]
        removes = [f"#r{i}" for i in range(len(count.remove))]
        expression = "SET #entity = :entity, #ttl = :ttl" + (" ADD " + ", ".join(adds) if adds else "") + (
            " REMOVE " + ", ".join(removes) if removes else "")
        return {"TableName": self.orders.name, "Key": to_item(keys.risk_key(count.key)),
                "UpdateExpression": expression, "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values(entity=keys.ENTITY_RISK, ttl=count.expires_at,
                                                    **{f"a{i}": amount for i, (_, amount) in enumerate(added)})}

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
            if after.waiting:  # a transfer's new destination item: orders wait for the sku (dawra.app.backorders)
                update["ExpressionAttributeNames"]["#waiting"] = "waiting"
                update["ExpressionAttributeValues"] |= values(waiting=True)
                sets.append("#waiting = :waiting")
            update["UpdateExpression"] = "SET " + ", ".join([*sets, "#sku = :sku", "#loc = :loc", "#at = :loc",
                                                             "#listing = :listing"])
            update["ConditionExpression"] = "attribute_not_exists(pk)"
            return {"Update": update}
        update["ExpressionAttributeValues"] |= values(**{f"was_{name}": getattr(before, name) for name in COUNTERS})
        conditions = [f"#{name} = :was_{name}" if name not in LATER_COUNTERS or getattr(before, name) else
                      f"(attribute_not_exists(#{name}) OR #{name} = :was_{name})" for name in COUNTERS]
        # Replenishment: the plan (reorder point, target) as read, the low flag as decided (crossed_below).
        removes: list[str] = []
        update["ExpressionAttributeNames"] |= {"#low": "low"}
        update["ExpressionAttributeValues"] |= values(low=after.low)
        sets.append("#low = :low")
        for name in PLAN:
            update["ExpressionAttributeNames"]["#" + name] = name
            was, now = getattr(before, name), getattr(after, name)
            if was is None:
                conditions.append(f"attribute_not_exists(#{name})")
            else:
                conditions.append(f"#{name} = :was_{name}")
                update["ExpressionAttributeValues"] |= values(**{f"was_{name}": was})
            if now is None:
                removes.append(f"#{name}")
            else:
                sets.append(f"#{name} = :{name}")
                update["ExpressionAttributeValues"] |= values(**{name: now})
        update["UpdateExpression"] = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
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
                ("stock", {"Update": {**stock, **_watched_hold(move, r.quantity)}}),
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


def _watched_hold(move: StockMove, quantity: int) -> dict[str, Any]:
    """A hold's update and condition: enough available and, when watched, the item still in the case it was planned
    in (HoldCase: conditions only, the same one update); crossing below the reorder point sets the low flag."""
    update, conditions = "SET available = available - :q, reserved = reserved + :q", ["available >= :q"]
    vals = values(q=quantity)
    watch = move.watch
    if watch is None:
        return {"UpdateExpression": update, "ConditionExpression": conditions[0], "ExpressionAttributeValues": vals}
    if watch.reorder_point is None:
        conditions.append("attribute_not_exists(#rp)")
    else:
        r = watch.reorder_point
        cases: dict[HoldCase, tuple[str, dict[str, Any]]] = {
            HoldCase.ABOVE: ("available >= :rq", {"rq": r + quantity}),
            HoldCase.CROSSING: ("available >= :r AND available < :rq", {"rq": r + quantity}),
            HoldCase.BELOW: ("available < :r AND #low = :low", {"low": True}),
            HoldCase.BELOW_UNFLAGGED: ("available < :r AND (attribute_not_exists(#low) OR #low = :not_low)",
                                       {"not_low": False}),
        }
        condition, used = cases[watch.case]
        conditions += ["#rp = :r", condition]
        vals |= values(r=r, **used)
        if watch.alerts:
            update += ", #low = :low"
            vals |= values(low=True)
    names = {"#rp": "reorder_point", "#low": "low"}
    return {"UpdateExpression": update, "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeValues": vals,
            "ExpressionAttributeNames": {k: v for k, v in names.items() if k in update + " ".join(conditions)}}
