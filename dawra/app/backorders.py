"""Backorders and preorders: orders that wait for their stock, served in order of placement when it arrives.

An order with a line the catalog lets be backordered (expected restock date) or preordered (release date) is placed
with a promise counted from that date (dawra.app.checkout). ReserveStock cannot reserve it yet: the order joins a FIFO
waiting list per SKU and the workflow waits (WhenIsStockDue, WaitForStock). Three things end the wait:

- Stock arrives (an adjustment, a transfer received; dawra.app.stock): the stock item it lands on carries a `waiting`
  flag while anybody waits for its SKU, so an ordinary stock write looks at nothing more; a flagged one runs
  ServeWaitingOrders for the SKU: oldest first, each order that the stock now covers is reserved and its workflow
  resumed; one it does not cover keeps its place (a younger order that fits is served, an older one that fits is
  never skipped).
- The due day comes (WaitForStock's timer is set to it; for a preorder, its release day): WhenIsStockDue serves the
  SKUs' lists (a preorder is never reserved before its release day, even from stock on hand).
- The stock is late (the due day plus the grace passed and the order is still waiting): the customer is told, with a
  new date `delay_days` on, and the order waits again; after `max_delays` such notices it is cancelled with the
  compensation (StockNeverArrived: nothing was reserved, the payment is voided, the customer told). A person may
  cancel it earlier (the cancellation fails the parked task)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from dawra.app.common import Fail, Resume, TaskWait, load, now_iso, retry_on_race, stopped
from dawra.app.reserve import ReserveStock, allocation_of
from dawra.contracts.tasks import Allocation, StockWait
from dawra.domain.availability import StockNeverArrived, waiting_entries
from dawra.domain.errors import IllegalTransition
from dawra.domain.inventory import CounterChange, StockChange, may_serve_waiters
from dawra.domain.order import Order, OrderStatus
from dawra.domain.promise import NoCalendar, awaited_promise
from dawra.ports import Clock, InventoryRepository, OrderRepository, StockWaiters, UnitOfWork, Workflow

MIN_WAIT_S = 1  # Step Functions wants a positive timeout


@dataclass(frozen=True)
class StockWaitRules:
    """How long a waiting order's stock may be late, and how often, before it is cancelled."""

    grace: timedelta = timedelta(hours=24)  # past the due day's start, before the customer is told it is late
    delay_days: int = 7  # each delay's new date: this many days on
    max_delays: int = 3  # after this many delay notices, the next lateness cancels the order


class ServeWaitingOrders:
    """Reserve the waiting orders of a SKU the stock now covers, oldest placement first, and resume their
    workflows. Safe to repeat and to run concurrently (each reservation is all or nothing, conditional on stock)."""

    def __init__(self, orders: OrderRepository, waiters: StockWaiters, reserve: ReserveStock, workflow: Workflow):
        self.orders, self.waiters, self.reserve, self.workflow = orders, waiters, reserve, workflow

    def __call__(self, sku: str) -> list[str]:
        """The orders reserved now, in the order they were served."""
        entries = self.waiters.waiting(sku)
        served: list[str] = []
        for entry in entries:
            order = self.orders.get(entry.order_id)
            if order is None:
                continue
            allocation = self._reserved(order)
            if allocation is None and (order.status != OrderStatus.CONFIRMED or order.cancellation_stop()):
                self._leave(order)  # cancelled, being cancelled or with a person: no longer waits
                continue
            if allocation is None:
                continue  # not covered (yet), or a preorder before its day: keeps its place
            self._leave(order)
            order = load(self.orders, order.order_id)
            if order.stock_token:  # not parked yet: WaitForStock finds it reserved and goes on by itself
                self.workflow.resume(order.stock_token, allocation.model_dump())
            served.append(order.order_id)
        if len(served) == len(entries) and not self.waiters.waiting(sku):
            self.waiters.unflag(sku)  # nobody waits any more: stock writes stop looking
            if self.waiters.waiting(sku):  # one joined meanwhile (entry first, then its flags): flag again
                self.waiters.flag(sku)
        return served

    def _reserved(self, order: Order) -> Allocation | None:
        if order.shipments:
            return allocation_of(order)
        if order.status != OrderStatus.CONFIRMED or order.awaiting is None:
            return None
        return self.reserve.if_it_fits(order.order_id)

    def _leave(self, order: Order) -> None:
        if order.awaiting is not None:
            self.waiters.leave(waiting_entries(order.order_id, order.placed_at, order.wanted, order.awaiting))

    def arrivals(self, changes: Iterable[StockChange]) -> list[str]:
        """After a stock write: serve the SKUs whose flagged (or new) stock items gained units; nothing else."""
        skus = sorted({c.after.sku for c in changes if isinstance(c, CounterChange) and may_serve_waiters(c)})
        return [order_id for sku in skus for order_id in self(sku)]


class AwaitStock(TaskWait):
    """WaitForStock: keep the task token on the order, unless it was reserved meanwhile (then go on at once) or its
    cancellation asked for (then compensate)."""

    def __call__(self, order_id: str, task_token: str) -> dict[str, bool]:
        def parks(order: Order) -> bool:
            return not order.shipments and order.cancellation_stop() is None and order.stock_token != task_token

        def answer(order: Order) -> Fail | Resume | None:
            return Resume(allocation_of(order).model_dump()) if order.shipments else stopped(order)

        return self.park_or_answer(order_id, task_token, f"parking {order_id} for its stock", parks=parks,
                                   park=lambda order: order.wait_for_stock(task_token), answer=answer)


class StockDue:
    """WhenIsStockDue: how long the order waits for its stock. Before the due day: until it. From the due day: its
    SKUs' lists are served (a preorder's release, a restock the stock writes did not bring). Past the grace and still
    waiting: the customer is told the new date (or, past the last delay, StockNeverArrived)."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, inventory: InventoryRepository,
                 serve: ServeWaitingOrders, clock: Clock, rules: StockWaitRules | None = None):
        self.orders, self.uow, self.inventory, self.serve, self.clock = orders, uow, inventory, serve, clock
        self.rules = rules or StockWaitRules()

    def __call__(self, order_id: str) -> StockWait:
        order = load(self.orders, order_id)
        if order.shipments:
            return StockWait(timeout_s=MIN_WAIT_S)  # reserved: WaitForStock goes on at once
        order.stop_if_cancelling()
        if order.awaiting is None or order.status != OrderStatus.CONFIRMED:
            raise IllegalTransition(order_id, order.status.value, "stock_due", "it is not waiting for stock")
        now = self.clock.now()
        due = datetime.combine(order.awaiting.due, time(0, 0), tzinfo=UTC)
        if now < due:
            return self._until(due, now)
        for sku in order.awaiting.skus:
            self.serve(sku)
        if load(self.orders, order_id).shipments:
            return StockWait(timeout_s=MIN_WAIT_S)
        if now < due + self.rules.grace:
            return self._until(due + self.rules.grace, now)
        return self._until(retry_on_race(lambda: self._late(order_id), f"telling {order_id} its stock is late"), now)

    def _late(self, order_id: str) -> datetime:
        order = load(self.orders, order_id)
        if order.awaiting is None:
            raise IllegalTransition(order_id, order.status.value, "stock_due", "it is not waiting for stock")
        now = self.clock.now()
        if order.awaiting.due > now.date():  # told already (a retry after the commit): the same new date
            return datetime.combine(order.awaiting.due, time(0, 0), tzinfo=UTC)
        if order.awaiting.delays >= self.rules.max_delays:
            raise StockNeverArrived(f"order {order_id}: its stock did not come after {order.awaiting.delays} delays")
        new_due = now.date() + timedelta(days=self.rules.delay_days)
        try:
            promise = awaited_promise(datetime.fromisoformat(order.placed_at), new_due, self.inventory.locations(),
                                      order.shipping_address.country, order.shipping_method).isoformat()
        except (NoCalendar, ValueError):
            promise = (new_due + timedelta(days=self.rules.delay_days)).isoformat()
        order.stock_late(new_due, promise, now_iso(self.clock))
        self.uow.commit(order=order)
        return datetime.combine(new_due, time(0, 0), tzinfo=UTC)

    @staticmethod
    def _until(moment: datetime, now: datetime) -> StockWait:
        return StockWait(timeout_s=max(MIN_WAIT_S, int((moment - now).total_seconds())))
