"""Reading an order as its customer's storefront sees it."""

from __future__ import annotations

from dawra.app.common import load
from dawra.domain.order import Order
from dawra.domain.timeline import TimelineEvent
from dawra.ports import OrderRepository


class ViewOrder:
    def __init__(self, orders: OrderRepository):
        self.orders = orders

    def __call__(self, order_id: str) -> tuple[Order, list[TimelineEvent]]:
        return load(self.orders, order_id), self.orders.timeline(order_id)
