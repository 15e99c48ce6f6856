"""What the integration tests of late, lost, returned and troubled parcels share: a local stack with the merchant's
lost-parcel settings, orders placed as if days ago (so their promise has passed and the workflow's waits end in a
second), the sandbox carrier, and the messages, stock and executions they assert on."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from stacks import seeded_stack

from dawra.local.actors import SandboxCarrierSimulator, Storefront

LOST_AFTER_HOURS = 30 * 24  # an order placed 20 days ago is late but not lost; one placed 90 days ago is lost


def parcel_stack(policy: str) -> Iterator[Any]:
    """A module's local stack whose merchant settles lost and returned parcels by `policy`."""
    yield from seeded_stack(**{"lost-parcel-policy": policy, "delivery-lost-after-hours": str(LOST_AFTER_HOURS)})


class PastClock:
    def __init__(self, days_ago: float):
        self.offset = timedelta(days=days_ago)

    def now(self) -> datetime:
        return datetime.now(UTC) - self.offset


def place_order(stack: Any, email: str, lines: dict[str, int], days_ago: float = 0) -> str:
    """Checkout as the orders API does it, with a clock `days_ago` days back (0: over HTTP, now)."""
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.adapters.dynamo.orders import DynamoOrders
    from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork
    from dawra.adapters.messaging import SnsOpsAlerts
    from dawra.adapters.payments.sandbox import SandboxPaymentProvider
    from dawra.app.checkout import Checkout
    from dawra.contracts.api import PlaceOrderRequest

    body = {"customer_id": "cust-parcels", "contact": {"email": email},
            "shipping_address": {"name": "Sara", "line1": "12 Olaya St", "city": "Riyadh", "country": "SA"},
            "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines.items()],
            "payment_token": "tok_sandbox_approve"}
    key = f"key-{email}"
    if not days_ago:
        placed = Storefront(stack.gateway.url).place_order(body, key)
        assert placed.status == 201, placed.body
        return str(placed.body["order_id"])
    cloud = stack.cloud
    orders, inventory = (cloud.resolve_ref("table", t, "name") for t in ("orders", "inventory"))
    checkout = Checkout(DynamoOrders(orders), DynamoInventory(inventory), DynamoUnitOfWork(orders, inventory),
                        SandboxPaymentProvider(), SnsOpsAlerts(cloud.resolve_ref("topic", "ops-alerts", "arn")),
                        PastClock(days_ago))
    return checkout.place_order(key, PlaceOrderRequest.model_validate(body)).order_id


def carrier(stack: Any) -> SandboxCarrierSimulator:
    return SandboxCarrierSimulator(stack.gateway.url, stack.cloud.carrier_secrets["carrier-sandbox-webhook"])


def order_of(stack: Any, order_id: str) -> dict[str, Any]:
    found: dict[str, Any] = Storefront(stack.gateway.url).get_order(order_id).body
    return found


def wait_until(stack: Any, order_id: str, ready: Callable[[dict[str, Any]], bool], timeout_s: float = 60,
               what: str = "") -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        order = order_of(stack, order_id)
        if ready(order):
            return order
        if time.monotonic() > deadline:
            raise TimeoutError(f"order {order_id}: {what or 'not ready'}: {order.get('status')}, "
                               f"{[e['kind'] for e in order.get('timeline', [])]}")
        time.sleep(0.05)


def kinds(order: dict[str, Any]) -> list[str]:
    return [event["kind"] for event in order["timeline"]]


def has(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda order: kind in kinds(order)


def shipped_tracking(stack: Any, order_id: str) -> str:
    order = wait_until(stack, order_id, lambda o: o["shipments"] and all(s["tracking_number"] for s in o["shipments"]),
                       what="not shipped")
    [shipment] = order["shipments"]
    return str(shipment["tracking_number"])


def post(stack: Any, order_id: str, tracking: str, status: str, kind: str | None = None, **extra: Any) -> None:
    """The carrier reports `status` for the parcel; wait until it is applied (its timeline event, if any, or its
    report marker), so that the next report arrives after it as a carrier's would."""
    before = len(kinds(order_of(stack, order_id)))
    result = carrier(stack).post(tracking, status, **extra)
    assert result.status == 202, result.body
    if kind:
        wait_until(stack, order_id, has(kind), what=f"{status} not applied")
    else:
        time.sleep(0.5)  # nothing to see: give the consumer its turn
        assert len(kinds(order_of(stack, order_id))) == before


def messages_to(stack: Any, address: str, count: int, timeout_s: float = 30) -> list[Any]:
    """The messages sent to `address` once `count` have arrived (and a moment for a duplicate to show)."""
    deadline = time.monotonic() + timeout_s
    while len([m for m in stack.outbox() if m.to == address]) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    return [m for m in stack.outbox() if m.to == address]


def messages_about(stack: Any, address: str, subject_has: str, timeout_s: float = 30) -> list[Any]:
    """The messages sent to `address` whose subject has `subject_has`, as soon as there is one."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [m for m in stack.outbox() if m.to == address and subject_has in m.subject]
        if found:
            return found
        time.sleep(0.05)
    return []


def stock(stack: Any, sku: str, location_id: str) -> tuple[int, int, int]:
    from dawra.adapters.dynamo.inventory import DynamoInventory

    level = DynamoInventory(stack.cloud.resolve_ref("table", "inventory", "name")).stock(sku, location_id)
    assert level is not None
    return level.on_hand, level.reserved, level.available


def lifecycle_arn(stack: Any, order_id: str) -> str:
    """The order's execution (named after the order)."""
    return str(stack.cloud.resolve_ref("state_machine", "order-lifecycle", "arn").replace(
        ":stateMachine:", ":execution:") + f":{order_id}")


def execution_status(stack: Any, order_id: str, timeout_s: float = 30) -> str:
    """The order's execution's status once it is no longer running."""
    arn = lifecycle_arn(stack, order_id)
    sfn = stack.cloud.client("stepfunctions")
    deadline = time.monotonic() + timeout_s
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.1)
    status: str = sfn.describe_execution(executionArn=arn)["status"]
    return status


def reference(order_id: str) -> str:
    return "#" + order_id.removeprefix("ord_")[:8].upper()
