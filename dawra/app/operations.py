"""The operations view: figures about the orders of the last days, computed from their timelines.

Reads only what the figures need, from the by-status index (never a scan): every open order (of any age: a stuck
order is the one to see), then the finished orders placed in the window, each status oldest first, at most
MAX_ORDERS in all (the result says `truncated` when the bound cut the read short); then each order's timeline.
dawra.domain.operations.figures computes the figures from that data alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dawra.domain.access import Actor, Permission, authorize
from dawra.domain.accounts import overdue
from dawra.domain.operations import FINISHED, OPEN, OperationsFigures, counts_for_returns, figures
from dawra.domain.order import Order, OrderStatus
from dawra.domain.time import iso
from dawra.ports import CustomerAccounts, OrderHistory

MAX_ORDERS = 2_000
MAX_DAYS = 90


class OperationsView:
    def __init__(self, history: OrderHistory, delivery_grace: timedelta, max_orders: int = MAX_ORDERS,
                 accounts: CustomerAccounts | None = None):
        self.history, self.grace, self.max_orders = history, delivery_grace, max_orders
        self.accounts = accounts  # business accounts: their overdue invoices (one Query of the receivables)

    def __call__(self, actor: Actor, now: datetime, days: int = 30) -> OperationsFigures:
        authorize(actor, Permission.VIEW_OPERATIONS)
        days = max(1, min(days, MAX_DAYS))
        window_from = iso(now - timedelta(days=days))
        found: dict[str, Order] = {}
        truncated = False
        reads = [(status, None) for status in OrderStatus if status in OPEN] + \
                [(status, window_from) for status in OrderStatus if status in FINISHED]
        for status, placed_from in reads:
            room = self.max_orders - len(found)
            if room <= 0:
                truncated = True
                break
            orders, more = self.history.orders_by_status(status.value, placed_from, room)
            truncated = truncated or more
            # The index lags the headers: an order that changed status meanwhile can turn up under both.
            found.update((order.order_id, order) for order in orders)
        orders = list(found.values())
        timelines = self.history.timelines([order.order_id for order in orders])
        since = now - timedelta(days=days)
        whole = self.history.whole_orders([order.order_id for order in orders
                                               if counts_for_returns(order, timelines.get(order.order_id, []), since)])
        result = figures(orders, timelines, now, days=days, grace=self.grace, truncated=truncated,
                         whole_orders=whole)
        if self.accounts is None:
            return result
        today = now.astimezone(UTC).date()
        return result.model_copy(update={"overdue_invoices": overdue(self.accounts.receivables(today.isoformat()),
                                                                     today)})
