"""Delivery: WaitForDelivery parks the order's workflow on the shipment (Step Functions writes the token itself:
decision 117); the carrier's report of delivery resumes it, or, if the report came first, DeliveryReportedFirst
(AwaitDelivery) does, as does the second wait, WaitForLateDelivery. The report that delivers the last parcel
completes the order in its own commit (Order.record_tracking): the workflow's Map of shipments then ends, with no
step of its own for that."""

from __future__ import annotations

from dawra.app.common import Fail, Resume, TaskWait, load, now_iso, retry_on_race
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
    """Only for executions started before decision 111, whose definition still ends with this task (an execution
    keeps the definition it started with): the order completed with its last parcel already, and the answer is its
    status; one whose last parcel was finished before the upgrade completes here, and one with a parcel still open
    is refused (IllegalTransition: that definition hands it to a person, as it always did). Remove once no execution
    started before the upgrade runs (the longest lasts as long as a delivery's last wait)."""

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
