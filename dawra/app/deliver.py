"""Delivery: WaitForDelivery parks the order's workflow on the shipment; the carrier's report of delivery (or this
task, if the report came first) resumes it; CompleteOrder closes the order once every parcel has arrived."""

from __future__ import annotations

from collections.abc import Callable

from dawra.app.common import Fail, Resume, TaskWait, load, now_iso, retry_on_race
from dawra.domain.errors import DomainError
from dawra.domain.order import Order, OrderStatus
from dawra.domain.shipment import Shipment, ShipmentStatus
from dawra.ports import Clock, OrderRepository, UnitOfWork

RETURNED_TO_SENDER = "ReturnedToSender"  # the error a wait ends with when its parcel came back (SettleClaim next)


def delivered_output(shipment: Shipment) -> dict[str, str | None]:
    return {"shipment_id": shipment.shipment_id, "delivered_at": shipment.delivered_at}


def came_back(shipment: Shipment) -> bool:
    """Back at its location and not settled yet: the waiting task ends so that the workflow settles it."""
    return shipment.status == ShipmentStatus.RETURNED and shipment.settlement is None


class AwaitDelivery(TaskWait):
    def __call__(self, order_id: str, shipment_id: str, task_token: str) -> dict[str, bool]:
        def answer(order: Order) -> Fail | Resume | None:
            shipment = order.shipment(shipment_id)
            if shipment.is_delivered:
                # The carrier reported delivery before the token was stored: nothing else will resume us.
                return Resume(delivered_output(shipment))
            if came_back(shipment):  # the same, for a parcel that came back
                return Fail(RETURNED_TO_SENDER, "the parcel is back at the location it left from")
            return None

        return self.park_or_answer(order_id, task_token, f"waiting on {shipment_id}",
                                   parks=lambda order: order.shipment(shipment_id).resume_token != task_token,
                                   park=lambda order: order.wait_for_delivery(shipment_id, task_token), answer=answer)


class CompleteOrder:
    """Close the order once every parcel has arrived, then arrange what follows (the feedback ask). What follows
    never undoes or fails the completion: if it cannot be arranged, the result says so and the order stays complete."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, clock: Clock,
                 then: Callable[[str], None] | None = None):
        self.orders, self.uow, self.clock, self.then = orders, uow, clock, then

    def __call__(self, order_id: str) -> dict[str, str]:
        result = retry_on_race(lambda: self._attempt(order_id), f"completing {order_id}")
        if self.then is not None and result["status"] == OrderStatus.COMPLETED.value:
            try:
                self.then(order_id)  # idempotent: a replayed completion arranges it once
            except DomainError as error:  # TransientError included: the next step is not worth a stuck order
                return {**result, "then": f"not arranged: {type(error).__name__}"}
            return {**result, "then": "arranged"}
        return result

    def _attempt(self, order_id: str) -> dict[str, str]:
        order: Order = load(self.orders, order_id)
        if order.status != OrderStatus.COMPLETED:
            order.complete(now_iso(self.clock))
            self.uow.commit(order=order)
        return {"status": order.status.value}
