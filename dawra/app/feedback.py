"""Feedback after delivery: a while after the last parcel arrived the customer is asked how it went, once, and their
one answer (a rating, how likely they are to recommend the shop, a comment) goes on the order's timeline, where the
operations view finds it."""

from __future__ import annotations

from datetime import timedelta

from dawra.app.common import load, now_iso, retry_on_race
from dawra.domain.feedback import Feedback
from dawra.domain.order import Order, OrderEvent
from dawra.ports import Clock, Later, OrderRepository, UnitOfWork

ASK_FOR_FEEDBACK = "ask_for_feedback"  # the job's kind, delivered by Later after the merchant's delay


def feedback_job_name(order_id: str) -> str:
    """One ask per order, whoever schedules it and however often (the scheduler keeps one job per name)."""
    return f"feedback-{order_id}"


class ScheduleFeedback:
    """Once the order is complete, ask for feedback after the merchant's delay."""

    def __init__(self, later: Later, after: timedelta, clock: Clock):
        self.later, self.after, self.clock = later, after, clock

    def __call__(self, order_id: str) -> None:
        self.later.at(feedback_job_name(order_id), self.clock.now() + self.after,
                      {"kind": ASK_FOR_FEEDBACK, "order_id": order_id})


class AskForFeedback:
    """Ask the customer how it went: once, and only while the order is complete (the notifier sends the message)."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, clock: Clock):
        self.orders, self.uow, self.clock = orders, uow, clock

    def __call__(self, order_id: str) -> str:
        return retry_on_race(lambda: self._attempt(order_id), f"asking for feedback on {order_id}")

    def _attempt(self, order_id: str) -> str:
        order = self.orders.get(order_id)
        if order is None:
            return "not asked: no such order"
        if not order.can(OrderEvent.ASK_FOR_FEEDBACK):
            return f"not asked: the order is {order.status.value}"
        if not any(s.is_delivered for s in order.shipments):
            return "not asked: nothing reached the customer"  # every parcel lost or returned, and settled
        if not order.ask_for_feedback(now_iso(self.clock)):
            return "asked already"
        self.uow.commit(order=order)
        return "asked"


class GiveFeedback:
    """The customer's one answer about a completed order."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, clock: Clock):
        self.orders, self.uow, self.clock = orders, uow, clock

    def __call__(self, order_id: str, feedback: Feedback) -> Order:
        return retry_on_race(lambda: self._attempt(order_id, feedback), f"recording feedback on {order_id}")

    def _attempt(self, order_id: str, feedback: Feedback) -> Order:
        order = load(self.orders, order_id)
        order.give_feedback(feedback, now_iso(self.clock))  # refuses a second answer and an order not complete
        self.uow.commit(order=order)
        return order
