"""A cancelled order's figures: held for a fraud review at checkout, rejected by an agent in the console, cancelled.

The order is the single-shipment order with a billing address in another country (the demo rule set's
`billing_country_mismatch` holds it for review). Counted from checkout to the customer's cancellation message:
the checkout, the reservation, the shipment parked on its hold, the agent's form post, the compensation
(ReleaseStock, CancelOrder: the card's authorisation voided) and the notifier's invocations. The agent's sign-in is
made once, before anything is counted."""

from __future__ import annotations

from typing import Any

from bench import counting
from bench.lifecycle import SINGLE_SHIPMENT_ORDER, Bench, _settle, figures, settle
from bench.returns import Desk
from dawra.local import activity

HELD_ORDER = {**SINGLE_SHIPMENT_ORDER,
              "billing_address": {**SINGLE_SHIPMENT_ORDER["shipping_address"], "country": "AE"}}


def parked_for_review(bench: Bench, order_id: str, timeout_s: float = 60) -> None:
    """Until the order is ON_HOLD with its shipment's task token kept (the wait has begun)."""
    def parked() -> bool | None:
        with counting.driver():
            order = bench.orders.get(order_id)
        return True if order is not None and order.status == "ON_HOLD" and order.waiting_tokens() else None

    if activity.wait_for(parked, timeout_s) is None:
        raise RuntimeError(f"order {order_id} was not held for review")


def carry_cancellation(bench: Bench, desk: Desk) -> str:
    order_id = bench.place(HELD_ORDER)
    parked_for_review(bench, order_id)
    desk.post("agent", f"/admin/orders/{order_id}/reject", reason="bench: the details could not be confirmed")
    bench.wait_status(order_id)
    with counting.driver():
        order = bench.orders.get(order_id)
    if order is None or order.status != "CANCELLED":
        raise RuntimeError(f"order {order_id} is {order.status if order else None}, not CANCELLED")
    return order_id


def measure(bench: Bench, desk: Desk, repeat: int) -> dict[str, Any]:
    carry_cancellation(bench, desk)  # warm-up: the review's pages and the compensation's functions
    settle(bench)
    gateway_before = bench.stack.gateway.requests
    invocations_before = dict(bench.stack.cloud.lambdas.invocations)
    order_ids = []
    with counting.recording() as recorder:
        for _ in range(repeat):
            order_ids.append(carry_cancellation(bench, desk))
        _settle(recorder)
    histories = [bench.history(order_id) for order_id in order_ids]
    states = [e["stateEnteredEventDetails"]["name"] for e in histories[-1] if "stateEnteredEventDetails" in e]
    return {"orders_measured": repeat,
            **figures(bench, recorder, histories, repeat, invocations_before, gateway_before),
            "states": states, "order_ids": order_ids}
