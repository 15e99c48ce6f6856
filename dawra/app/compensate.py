"""Compensation: undo only what has not happened yet for the customer.

ReleaseStock gives held units back, but only while no parcel has left: once one has, nothing is released or refunded
automatically and the order is handed to a person (AskAPerson). CancelOrder voids the payment and tells the customer.
Each is idempotent: a retry finds its work done."""

from __future__ import annotations

from dawra.app.common import load, now_iso, retry_on_race
from dawra.contracts.tasks import Released
from dawra.domain.errors import ConcurrentChange
from dawra.domain.inventory import ReservationState, release
from dawra.domain.order import OrderStatus
from dawra.ports import Clock, InventoryRepository, OpsAlerts, OrderRepository, PaymentProviders, UnitOfWork

MOVES_PER_COMMIT = 50  # a stock move is two items; a transaction holds 100




class ReleaseStock:
    def __init__(self, orders: OrderRepository, inventory: InventoryRepository, uow: UnitOfWork):
        self.orders, self.inventory, self.uow = orders, inventory, uow

    def __call__(self, order_id: str) -> Released:
        order = load(self.orders, order_id)
        if order.shipped:
            return Released(released_units=0, parcels_shipped=len(order.shipped))
        held = [r for r in self.inventory.reservations(order_id) if r.state == ReservationState.HELD]
        released = 0
        for start in range(0, len(held), MOVES_PER_COMMIT):
            chunk = held[start:start + MOVES_PER_COMMIT]
            try:
                self.uow.commit(stock=[release(r) for r in chunk])
                released += sum(r.quantity for r in chunk)
            except ConcurrentChange:
                # Some were released meanwhile (an earlier attempt whose answer was lost): do the rest one by one.
                for reservation in chunk:
                    try:
                        self.uow.commit(stock=[release(reservation)])
                        released += reservation.quantity
                    except ConcurrentChange:
                        pass
        return Released(released_units=released, parcels_shipped=0)


class CancelOrder:
    def __init__(self, orders: OrderRepository, uow: UnitOfWork, payments: PaymentProviders, clock: Clock):
        self.orders, self.uow, self.payments, self.clock = orders, uow, payments, clock

    def __call__(self, order_id: str, reason: str) -> dict[str, str]:
        return retry_on_race(lambda: self._attempt(order_id, reason), f"cancelling {order_id}")

    def _attempt(self, order_id: str, reason: str) -> dict[str, str]:
        order = load(self.orders, order_id)
        if order.status == OrderStatus.CANCELLED:
            return {"status": order.status.value}
        payment = order.payment
        refund = order.cancel(reason, now_iso(self.clock))  # refuses if a parcel has left
        provider = self.payments.named(payment.provider)
        if refund.amount > 0:
            provider.refund(payment.authorization_id, refund, reference=f"{order_id}:cancel")
        if not payment.voided:
            provider.void(payment.authorization_id, reference=f"{order_id}:cancel")
        self.uow.commit(order=order)
        return {"status": order.status.value}


class AskAPerson:
    def __init__(self, orders: OrderRepository, uow: UnitOfWork, alerts: OpsAlerts, clock: Clock):
        self.orders, self.uow, self.alerts, self.clock = orders, uow, alerts, clock

    def __call__(self, order_id: str, reason: str) -> dict[str, str]:
        status = retry_on_race(lambda: self._attempt(order_id, reason), f"flagging {order_id}")
        if status == OrderStatus.NEEDS_ATTENTION:
            self.alerts.alert(order_id, reason)  # after the commit: a retry re-alerts rather than never alerting
        return {"status": status}

    def _attempt(self, order_id: str, reason: str) -> str:
        order = load(self.orders, order_id)
        if order.status == OrderStatus.NEEDS_ATTENTION or order.is_terminal:
            return order.status.value  # flagged by an earlier attempt, or settled meanwhile
        order.ask_a_person(reason, now_iso(self.clock))
        self.uow.commit(order=order)
        return order.status.value
