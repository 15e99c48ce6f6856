"""The back office's reads on the Orders table: order search and the audit trail, each answered from an index.

Search picks one index for the query's most selective criterion (an order id: the item itself; an email, phone, sku
or location: by-lookup; otherwise by-status, one partition per status asked for), reads newest first within the date
range, merges the partitions, then reads the page's order headers and applies the remaining criteria to them. A page
can hold fewer than `limit` orders when those criteria filter many out; its cursor still moves on."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from typing import Any

from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.base import Table
from dawra.adapters.dynamo.codec import fields, from_item, values
from dawra.adapters.errors import transient_errors
from dawra.domain.audit import AuditEntry
from dawra.domain.errors import InvalidOrder
from dawra.domain.order import Order, OrderStatus
from dawra.ports import OrderPage, OrderQuery

STATUS_INDEX, LOOKUP_INDEX, ACTOR_INDEX = "by-status", "by-lookup", "by-actor"
ROUNDS = 8  # index pages read per search at most, so a page that filters everything out still answers quickly
EARLIEST, LATEST = "0000", "9999"


def encode_cursor(position: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, str] | None:
    if not cursor:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidOrder("the cursor is not one this search gave out", field="cursor") from None
    if not isinstance(position, dict) or not all(isinstance(v, str) for v in position.values()):
        raise InvalidOrder("the cursor is not one this search gave out", field="cursor")
    return position


class DynamoOrderSearch:
    def __init__(self, table: str, client: Any = None):
        self.table = Table(table, client)

    def search(self, query: OrderQuery, limit: int, cursor: str | None) -> OrderPage:
        after = decode_cursor(cursor)
        if query.reference:
            order = self._header(query.reference)
            found = [order] if order is not None and query.matches(order) else []
            return OrderPage(orders=found, cursor=None)
        index, partition_key, partitions = self._partitions(query)
        low = query.placed_from or EARLIEST
        high = after["placed_at"] if after else (query.placed_to or LATEST)
        streams = [self._newest_first(index, partition_key, p, low, high) for p in partitions]
        page: list[Order] = []
        last: tuple[str, str] | None = None
        candidates, read = _merge(streams), 0
        while len(page) < limit:
            if read >= limit * ROUNDS:  # enough for one request: the cursor says where to go on
                break
            batch = [c for c in (next(candidates, None) for _ in range(limit)) if c is not None]
            read += len(batch)
            if not batch:
                return OrderPage(orders=page, cursor=None)
            batch = [c for c in batch if not after or c < (after["placed_at"], after["order_id"])]
            batch = [c for c in batch if not query.placed_to or c[0] < query.placed_to]
            headers = {o.order_id: o for o in self._headers([order_id for _, order_id in batch])}
            for placed_at, order_id in batch:
                last = (placed_at, order_id)
                order = headers.get(order_id)
                if order is not None and query.matches(order):
                    page.append(order)
                    if len(page) == limit:
                        break
        position = {"placed_at": last[0], "order_id": last[1]} if last else None
        return OrderPage(orders=page, cursor=encode_cursor(position) if position else None)

    def _partitions(self, query: OrderQuery) -> tuple[str, str, list[str]]:
        for kind, value in (("email", query.email), ("phone", query.phone), ("sku", query.sku),
                            ("location", query.location)):
            if value:
                return LOOKUP_INDEX, "lookup", [keys.lookup_value(kind, value)]
        if query.status:
            return STATUS_INDEX, "status", [query.status]
        return STATUS_INDEX, "status", [status.value for status in OrderStatus]

    def _newest_first(self, index: str, partition_key: str, partition: str, low: str,
                      high: str) -> Iterator[tuple[str, str]]:
        for item in self.table.query(
                IndexName=index, ScanIndexForward=False, Limit=100,
                KeyConditionExpression="#p = :p AND placed_at BETWEEN :low AND :high",
                ExpressionAttributeNames={"#p": partition_key},
                ExpressionAttributeValues=values(p=partition, low=low, high=high)):
            yield item["placed_at"], keys.order_id_of(item["pk"])

    def _header(self, order_id: str) -> Order | None:
        item = self.table.get(keys.order_key(order_id))
        return Order.model_validate(fields(item)) if item else None

    def _headers(self, order_ids: list[str]) -> list[Order]:
        return [Order.model_validate(fields(item))
                for item in self.table.batch_get([keys.order_key(order_id) for order_id in order_ids])]


def _merge(streams: list[Iterator[tuple[str, str]]]) -> Iterator[tuple[str, str]]:
    """Newest first across partitions, each already newest first."""
    heads: list[tuple[str, str] | None] = [next(stream, None) for stream in streams]
    while True:
        live = [(head, i) for i, head in enumerate(heads) if head is not None]
        if not live:
            return
        head, i = max(live)
        yield head
        heads[i] = next(streams[i], None)


class DynamoAuditLog:
    def __init__(self, table: str, client: Any = None):
        self.table = Table(table, client)

    def entry(self, subject: str, audit_id: str) -> AuditEntry | None:
        item = self.table.get(keys.audit_key(subject, audit_id))
        return AuditEntry.model_validate(fields(item)) if item else None

    def for_subject(self, subject: str) -> list[AuditEntry]:
        pk = keys.audit_key(subject, "")["pk"]
        entries = [AuditEntry.model_validate(fields(item)) for item in self.table.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :audit)",
            ExpressionAttributeValues=values(pk=pk, audit="AUDIT#"), ConsistentRead=True)]
        return sorted(entries, key=lambda entry: (entry.at, entry.audit_id))

    def by_actor(self, actor_id: str, limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
        request: dict[str, Any] = {
            "TableName": self.table.name, "IndexName": ACTOR_INDEX, "ScanIndexForward": False, "Limit": limit,
            "KeyConditionExpression": "actor_id = :actor", "ExpressionAttributeValues": values(actor=actor_id)}
        start = decode_cursor(cursor)
        if start:
            request["ExclusiveStartKey"] = {key: {"S": value} for key, value in start.items()}
        with transient_errors("DynamoDB Query (audit by actor)"):
            response = self.table.client.query(**request)
        entries = [AuditEntry.model_validate(fields(from_item(item))) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return entries, encode_cursor({k: v["S"] for k, v in last.items()}) if last else None
