"""The Orders table: the order repository, and the notifier's send log (message claims)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.base import Table
from dawra.adapters.dynamo.codec import fields, packed, to_item, values
from dawra.adapters.errors import error_code, transient_errors
from dawra.domain.order import Order
from dawra.domain.returns import Return
from dawra.domain.shipment import Shipment
from dawra.domain.tax_documents import TaxDocument
from dawra.domain.time import iso
from dawra.domain.timeline import TimelineEvent, chronological
from dawra.ports import ClaimOutcome, IdempotencyRecord

TRACKING_INDEX = "by-tracking-number"
REJECTIONS_KEPT = timedelta(days=7)


# The header's attributes kept plain: its keys, what the by-customer and by-status indexes are keyed on, and the
# version its writes are conditioned on. The rest is packed (codec.packed): the header stays under 1 KB.
HEADER_PLAIN = frozenset({"pk", "sk", "entity", "order_id", "customer_id", "status", "placed_at", "version"})


def order_item(order: Order) -> dict[str, Any]:
    data = order.model_dump(mode="json", exclude={"shipments", "returns"})  # children are items of their own
    return packed({**keys.order_key(order.order_id), "entity": keys.ENTITY_ORDER, **data}, HEADER_PLAIN)


# A shipment's and a return's attributes kept plain: their keys and ids, the tracking number by-tracking-number is
# keyed on, and the version their writes are conditioned on; the rest is packed as the header is (decision 109): a
# return with its reasons, lines, refund and carrier reports passed 1 KB (1,430 bytes, an approval-first return).
# A shipment's `status` is plain too: the lifecycle's WaitForDelivery conditions its own write on it, storing its
# task token as a plain `resume_token` (and moving the version on) only while the parcel is on its way, so that a
# carrier's report committed first is never waited for (decision 117). Both are Shipment fields, so a reader of
# any version loads the item (a plain attribute wins over the body's: codec.fields), and the next write of the
# shipment packs the token again. Shipments carry no `placed_at`: a plain status puts none in by-status.
# A return's `status` is plain for the same reason: the return's WaitForParcel and WaitForInspection store their
# token (and `resume_for`, the wait it belongs to) only while the return is in a status they wait in (decision 121).
SHIPMENT_PLAIN = frozenset({"pk", "sk", "entity", "order_id", "shipment_id", "tracking_number", "version", "status"})
RETURN_PLAIN = frozenset({"pk", "sk", "entity", "order_id", "return_id", "tracking_number", "version", "status"})


def shipment_item(shipment: Shipment) -> dict[str, Any]:
    return packed({**keys.shipment_key(shipment.order_id, shipment.shipment_id), "entity": keys.ENTITY_SHIPMENT,
                   **shipment.model_dump(mode="json")}, SHIPMENT_PLAIN)


def return_item(ret: Return) -> dict[str, Any]:
    """A return, under its order (its tracking number, once a label exists, puts it in by-tracking-number)."""
    return packed({**keys.return_key(ret.order_id, ret.return_id), "entity": keys.ENTITY_RETURN,
                   **ret.model_dump(mode="json")}, RETURN_PLAIN)


def event_item(event: TimelineEvent) -> dict[str, Any]:
    return {**keys.event_key(event.order_id, event.event_id), "entity": keys.ENTITY_TIMELINE,
            **event.model_dump(mode="json")}


def lookup_items(order: Order) -> list[dict[str, Any]]:
    """The order's LOOKUP items, written when what they describe is first stored: its email, phone and skus with
    the order (a phone again when the customer changes it), each location with the shipment that leaves from it."""
    found: list[tuple[str, str]] = []
    if order.version == 0:
        found += [("email", str(order.contact.email))]
        found += [("phone", order.contact.phone)] if order.contact.phone else []
        found += [("sku", line.sku) for line in order.lines]
    elif order.contact_changed and order.contact.phone:  # the customer gave a new phone: find the order by it too
        found += [("phone", order.contact.phone)]
    found += [("location", s.location_id) for s in order.changed_shipments if s.version == 0]
    return [{**keys.lookup_key(order.order_id, kind, value), "entity": keys.ENTITY_LOOKUP,
             "lookup": keys.lookup_value(kind, value), "placed_at": order.placed_at, "order_id": order.order_id}
            for kind, value in dict.fromkeys(found)] + cod_lookup_items(order)


def cod_lookup_items(order: Order) -> list[dict[str, Any]]:
    """A COD parcel delivered is listed under cod#owed by its delivery time (the index's sort key is named
    placed_at) until its cash is remitted, then under cod#remitted: the owed parcels are one Query, never a Scan.
    Rewritten with each change of the parcel (the same item, so a retry writes the same)."""
    if not order.is_cash_on_delivery:
        return []
    return [{**keys.cod_lookup_key(order.order_id, s.shipment_id), "entity": keys.ENTITY_LOOKUP,
             "lookup": keys.COD_REMITTED if s.cod_remittance else keys.COD_OWED, "placed_at": s.delivered_at,
             "order_id": order.order_id, "shipment_id": s.shipment_id}
            for s in order.changed_shipments if s.delivered_at]


class DynamoOrders:
    def __init__(self, table: str, client: Any = None):
        self.table = Table(table, client)

    # --- OrderRepository ------------------------------------------------------------------------------------------
    def get(self, order_id: str) -> Order | None:
        low, high = keys.AGGREGATE_RANGE
        header, shipments, returns = None, [], []
        for item in self.table.query(KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
                                     ExpressionAttributeValues=values(pk=keys.order_pk(order_id), low=low, high=high),
                                     ConsistentRead=True):
            if item["sk"] == keys.ORDER_SK:
                header = fields(item)
            elif item["sk"].startswith(keys.RETURN_PREFIX):
                returns.append(Return.model_validate(fields(item)))
            elif item["sk"].startswith(keys.SHIPMENT_PREFIX):
                shipments.append(Shipment.model_validate(fields(item)))
        if header is None:
            return None
        return Order.model_validate({**header, "shipments": sorted(shipments, key=lambda s: s.shipment_id),
                                     "returns": sorted(returns, key=lambda r: (r.requested_at, r.return_id))})

    def timeline(self, order_id: str) -> list[TimelineEvent]:
        events = [TimelineEvent.model_validate(fields(item)) for item in self.table.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :event)",
            ExpressionAttributeValues=values(pk=keys.order_pk(order_id), event="EVENT#"), ConsistentRead=True)]
        return sorted(events, key=chronological)

    def find_shipment(self, tracking_number: str) -> tuple[str, str] | None:
        return self._tracked(tracking_number, keys.SHIPMENT_PREFIX)

    def find_return(self, tracking_number: str) -> tuple[str, str] | None:
        return self._tracked(tracking_number, keys.RETURN_PREFIX)

    def _tracked(self, tracking_number: str, prefix: str) -> tuple[str, str] | None:
        """(order_id, child id) of the shipment or return (by `prefix`) carrying this tracking number."""
        for item in self.table.query(IndexName=TRACKING_INDEX, KeyConditionExpression="tracking_number = :t",
                                     ExpressionAttributeValues=values(t=tracking_number)):
            if item["sk"].startswith(prefix):
                return keys.order_id_of(item["pk"]), item["sk"].removeprefix(prefix)
        return None

    def idempotency_record(self, key_hash: str) -> IdempotencyRecord | None:
        item = self.table.get(keys.idempotency_key(key_hash))
        return IdempotencyRecord.model_validate(fields(item)) if item else None

    # --- TaxDocuments ---------------------------------------------------------------------------------------------
    def tax_document(self, order_id: str, number: str) -> TaxDocument | None:
        item = self.table.get(keys.tax_document_key(order_id, number))
        return TaxDocument.model_validate({k: v for k, v in fields(item).items() if k != "number"}) if item else None

    # --- WebhookRejections ----------------------------------------------------------------------------------------
    def record(self, carrier: str, reason: str, detail: str, received_at: datetime, message_id: str) -> None:
        at = received_at.astimezone(UTC)
        self.table.put({**keys.rejection_key(at.date().isoformat(), iso(at), message_id), "entity": "rejection",
                        "carrier": carrier, "reason": reason, "detail": detail,
                        keys.TTL_ATTRIBUTE: int((at + REJECTIONS_KEPT).timestamp())})

    # --- MessageClaims --------------------------------------------------------------------------------------------
    def claim(self, order_id: str, message_key: str, claimant: str, now: datetime,
              lease_until: datetime) -> ClaimOutcome:
        key = keys.message_key(order_id, message_key)
        try:
            with transient_errors("DynamoDB PutItem (message claim)"):
                self.table.client.put_item(
                    TableName=self.table.name,
                    Item=to_item({**key, "entity": keys.ENTITY_MARKER, "state": "sending", "claimant": claimant,
                                  "lease_until": lease_until.isoformat()}),
                    # Free, or already ours (a retry of our own write), or abandoned by a sender whose lease ran out.
                    ConditionExpression="attribute_not_exists(pk) OR (#state = :sending AND "
                                        "(claimant = :me OR lease_until < :now))",
                    ExpressionAttributeNames={"#state": "state"},
                    ExpressionAttributeValues=values(sending="sending", me=claimant, now=now.isoformat()),
                )
            return ClaimOutcome.TAKEN
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
        current = self.table.get(key)
        if current is None:
            return self.claim(order_id, message_key, claimant, now, lease_until)  # released meanwhile
        return ClaimOutcome.SENT if current.get("state") == "sent" else ClaimOutcome.HELD

    def mark_sent(self, order_id: str, message_key: str, claimant: str, message_id: str) -> None:
        with transient_errors("DynamoDB UpdateItem (message sent)"):
            self.table.client.update_item(
                TableName=self.table.name, Key=to_item(keys.message_key(order_id, message_key)),
                UpdateExpression="SET #state = :sent, message_id = :id REMOVE lease_until",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=values(sent="sent", id=message_id))

    def release(self, order_id: str, message_key: str, claimant: str) -> None:
        try:
            with transient_errors("DynamoDB DeleteItem (message claim)"):
                self.table.client.delete_item(
                    TableName=self.table.name, Key=to_item(keys.message_key(order_id, message_key)),
                    ConditionExpression="claimant = :me AND #state = :sending",
                    ExpressionAttributeNames={"#state": "state"},
                    ExpressionAttributeValues=values(me=claimant, sending="sending"))
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
