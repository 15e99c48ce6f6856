"""The operations figures' reads on the Orders table: order ids by status from the by-status index (a Query per
status, keys only), their headers by BatchGetItem, each order's timeline by a Query on its partition (a few at a
time), and, for the return figures, the whole order (header, shipments, returns: the repository's one Query) of those
a parcel of was delivered. Never a Scan."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.base import Table
from dawra.adapters.dynamo.codec import fields, values
from dawra.adapters.dynamo.orders import DynamoOrders
from dawra.domain.order import Order
from dawra.domain.timeline import TimelineEvent

STATUS_INDEX = "by-status"
EARLIEST, LATEST = "0000", "9999"
PAGE = 500
TIMELINE_READERS = 8  # concurrent timeline queries (boto3 clients are thread-safe)


class DynamoOrderHistory:
    def __init__(self, table: str, client: Any = None):
        self.table = Table(table, client)
        self.orders = DynamoOrders(table, client)

    def orders_by_status(self, status: str, placed_from: str | None, limit: int) -> tuple[list[Order], bool]:
        if limit <= 0:
            return [], True
        ids: list[str] = []
        more = False
        for item in self.table.query(
                IndexName=STATUS_INDEX, ScanIndexForward=True, Limit=min(PAGE, limit + 1),
                KeyConditionExpression="#status = :status AND placed_at BETWEEN :low AND :high",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values(status=status, low=placed_from or EARLIEST, high=LATEST)):
            if len(ids) == limit:
                more = True
                break
            ids.append(keys.order_id_of(item["pk"]))
        headers = {order.order_id: order for order in (
            Order.model_validate(fields(item))
            for item in self.table.batch_get([keys.order_key(order_id) for order_id in ids]))}
        return [headers[order_id] for order_id in ids if order_id in headers], more

    def timelines(self, order_ids: Sequence[str]) -> dict[str, list[TimelineEvent]]:
        if not order_ids:
            return {}
        with ThreadPoolExecutor(max_workers=min(TIMELINE_READERS, len(order_ids))) as pool:
            return dict(zip(order_ids, pool.map(self.orders.timeline, order_ids), strict=True))

    def whole_orders(self, order_ids: Sequence[str]) -> dict[str, Order]:
        if not order_ids:
            return {}
        with ThreadPoolExecutor(max_workers=min(TIMELINE_READERS, len(order_ids))) as pool:
            found = dict(zip(order_ids, pool.map(self.orders.get, order_ids), strict=True))
        return {order_id: order for order_id, order in found.items() if order is not None}
