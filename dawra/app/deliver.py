"""Delivery: WaitForDelivery parks the order's workflow on the shipment; the carrier's report of delivery (or this
task, if the report came first) resumes it; CompleteOrder closes the order once every parcel has arrived."""

from __future__ import annotations

from dawra.app.common import load, now_iso, retry_on_race
from dawra.domain.order import Order, OrderStatus
from dawra.domain.shipment import Shipment
from dawra.ports import Clock, OrderRepository, UnitOfWork, Workflow


def delivered_output(shipment: Shipment) -> dict[str, str | None]:
    return {"shipment_id": shipment.shipment_id, "delivered_at": shipment.delivered_at}


class AwaitDelivery:
    def __init__(self, orders: OrderRepository, uow: UnitOfWork, workflow: Workflow):
        self.orders, self.uow, self.workflow = orders, uow, workflow

    def __call__(self, order_id: str, shipment_id: str, task_token: str) -> dict[str, bool]:
        shipment = retry_on_race(lambda: self._park(order_id, shipment_id, task_token), f"waiting on {shipment_id}")
        if shipment.is_delivered:
            # The carrier reported delivery before the token was stored: nothing else will resume us.
            self.workflow.resume(task_token, delivered_output(shipment))
        return {"waiting": not shipment.is_delivered}

    def _park(self, order_id: str, shipment_id: str, task_token: str) -> Shipment:
        order = load(self.orders, order_id)
        if order.shipment(shipment_id).resume_token != task_token:
            order.wait_for_delivery(shipment_id, task_token)
            self.uow.commit(order=order)
        return order.shipment(shipment_id)


class CompleteOrder:
    def __init__(self, orders: OrderRepository, uow: UnitOfWork, clock: Clock):
        self.orders, self.uow, self.clock = orders, uow, clock

    def __call__(self, order_id: str) -> dict[str, str]:
        return retry_on_race(lambda: self._attempt(order_id), f"completing {order_id}")

    def _attempt(self, order_id: str) -> dict[str, str]:
        order: Order = load(self.orders, order_id)
        if order.status != OrderStatus.COMPLETED:
            order.complete(now_iso(self.clock))
            self.uow.commit(order=order)
        return {"status": order.status.value}
