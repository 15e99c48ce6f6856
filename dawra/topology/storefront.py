"""Storefront: the orders API function and its routes (checkout, an order's status, a return or a claim asked for
and read), and the availability function and its route (stock and delivery options, per SKU)."""

from __future__ import annotations

from .data import INVENTORY_TABLE, ORDERS_TABLE, READ_INVENTORY, READ_ORDERS, WRITE_INVENTORY, WRITE_ORDERS
from .fulfilment import LIFECYCLE
from .model import Function, Route
from .operations import OPS_ALERTS, POWERTOOLS_ENV, PUBLISH_OPS_ALERT
from .returns import RETURN_LIFECYCLE, START_RETURN_LIFECYCLE
from .risk import READ_RISK_KEY, RISK_KEY
from .schedules import SCHEDULE_LATER, SCHEDULE_LATER_ENV

FUNCTIONS = (
    Function(
        id="orders-api",
        name="dawra-orders-api",
        code="functions/place_order",
        handler="app.handler",
        memory_mb=512,
        timeout_s=10,
        environment={
            **POWERTOOLS_ENV,
            **ORDERS_TABLE,
            **INVENTORY_TABLE,
            **LIFECYCLE,
            **RETURN_LIFECYCLE,
            **OPS_ALERTS,
            **SCHEDULE_LATER_ENV,
            **RISK_KEY,
        },
        # A return or claim asked for is stored, then its workflow started (as the order page does); an exchange
        # approved by its policy, or a claim its policy sends again, holds the replacement in the same commit.
        # Checkout commits the order and answers: its lifecycle starts from that commit (start-lifecycle, decision
        # 114), so this function starts no order's execution. Checkout schedules the renewal of a card
        # authorisation for an order that may wait past it (held, backordered, promised late: dawra.app.payments),
        # and only for those (SCHEDULE_LATER). Fraud screening reads the key of its counters' digests (READ_RISK_KEY,
        # once per container).
        grants=(READ_ORDERS, WRITE_ORDERS, READ_INVENTORY, WRITE_INVENTORY, START_RETURN_LIFECYCLE, PUBLISH_OPS_ALERT,
                *SCHEDULE_LATER, READ_RISK_KEY),
        purpose="Storefront API: POST /orders (checkout), GET /orders/{order_id}, POST /orders/{order_id}/returns, "
                "POST /orders/{order_id}/claims, GET /orders/{order_id}/returns/{return_id}.",
    ),
    Function(
        id="availability-api",
        name="dawra-availability-api",
        code="functions/availability",
        handler="app.handler",
        memory_mb=256,
        timeout_s=5,
        # ORDERS_TABLE is only a setting every function reads (its name); nothing of the orders table is granted.
        environment={**POWERTOOLS_ENV, **ORDERS_TABLE, **INVENTORY_TABLE},
        # Read-only, the inventory only: the catalog, the locations and the stock items (dawra.app.availability),
        # kept in process for at most 30 seconds. A function apart from checkout's: product pages asking often
        # never take checkout's concurrency, and a fault here never reaches an order.
        grants=(READ_INVENTORY,),
        purpose="Storefront API: GET /availability (stock per location and delivery options, per SKU).",
    ),
)

ROUTES = (
    Route(method="POST", path="/orders", target_kind="function", target="orders-api",
          authorization="storefront", purpose="Checkout: place an order (Idempotency-Key header)."),
    Route(method="GET", path="/orders/{order_id}", target_kind="function", target="orders-api",
          authorization="storefront", purpose="An order's status, lines, totals, shipments and timeline."),
    Route(method="POST", path="/orders/{order_id}/returns", target_kind="function", target="orders-api",
          authorization="storefront", purpose="Ask to return delivered items (Idempotency-Key header)."),
    Route(method="POST", path="/orders/{order_id}/claims", target_kind="function", target="orders-api",
          authorization="storefront", purpose="Report a parcel that arrived damaged or with an item missing "
                                              "(Idempotency-Key header)."),
    Route(method="GET", path="/orders/{order_id}/returns/{return_id}", target_kind="function", target="orders-api",
          authorization="storefront", purpose="A return or a claim: its status, lines, estimate and refund."),
    Route(method="GET", path="/availability", target_kind="function", target="availability-api",
          authorization="storefront", purpose="Per SKU: stock per location (now, in transit) and the delivery "
                                              "options to a destination with their earliest dates."),
)
