"""The waiting lists of backordered and preordered orders (dawra.ports.StockWaiters): one item per (sku, order) in
the sku's own partition (SKU#<sku>, WAIT#<placed at>#<order id>), read oldest first by one Query; the sku's stock
items carry the `waiting` flag while anybody waits, so an ordinary stock write never reads the list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.base import Table
from dawra.adapters.dynamo.codec import fields, to_item, values
from dawra.adapters.errors import transient_errors
from dawra.domain.availability import WaitingEntry


class DynamoStockWaiters:
    def __init__(self, table: str, client: Any = None):
        self.table = Table(table, client)

    def join(self, entries: Sequence[WaitingEntry], locations: Sequence[str]) -> None:
        for entry in entries:  # the entries first: a serve that found the list empty and clears the flags re-reads it
            self.table.put({**keys.waiting_key(entry.sku, entry.placed_at, entry.order_id),
                            **entry.model_dump(mode="json")})
        for sku in sorted({entry.sku for entry in entries}):
            for location_id in locations:
                self._update(keys.stock_key(sku, location_id), "SET #waiting = :yes", "attribute_exists(pk)",
                             {"#waiting": "waiting"}, values(yes=True))

    def waiting(self, sku: str) -> list[WaitingEntry]:
        return [WaitingEntry.model_validate(fields(item)) for item in self.table.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :wait)",
            ExpressionAttributeValues=values(pk=f"SKU#{sku}", wait=keys.WAITING_PREFIX), ConsistentRead=True)]

    def leave(self, entries: Sequence[WaitingEntry]) -> None:
        for entry in entries:
            with transient_errors("DynamoDB DeleteItem"):
                self.table.client.delete_item(TableName=self.table.name, Key=to_item(
                    keys.waiting_key(entry.sku, entry.placed_at, entry.order_id)))

    def unflag(self, sku: str) -> None:
        self._flag_all(sku, "REMOVE #waiting", None)

    def flag(self, sku: str) -> None:
        self._flag_all(sku, "SET #waiting = :yes", values(yes=True))

    def _flag_all(self, sku: str, expression: str, vals: dict[str, Any] | None) -> None:
        prefix = keys.stock_key(sku, "")
        for item in self.table.query(KeyConditionExpression="pk = :pk AND begins_with(sk, :stock)",
                                     ExpressionAttributeValues=values(pk=prefix["pk"], stock=prefix["sk"]),
                                     ProjectionExpression="pk, sk"):
            self._update({"pk": item["pk"], "sk": item["sk"]}, expression, "attribute_exists(pk)",
                         {"#waiting": "waiting"}, vals)

    def _update(self, key: dict[str, str], expression: str, condition: str | None, names: dict[str, str],
                vals: dict[str, Any] | None) -> bool:
        """One UpdateItem; False when its condition failed (the item is not there)."""
        request: dict[str, Any] = {"TableName": self.table.name, "Key": to_item(key), "UpdateExpression": expression,
                                   "ExpressionAttributeNames": names}
        if vals:
            request["ExpressionAttributeValues"] = vals
        if condition:
            request["ConditionExpression"] = condition
        try:
            with transient_errors("DynamoDB UpdateItem"):
                self.table.client.update_item(**request)
        except self.table.client.exceptions.ConditionalCheckFailedException:
            return False
        return True
