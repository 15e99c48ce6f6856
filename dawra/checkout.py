"""Checkout: turn a storefront's request into a priced, paid (authorised) order and start its lifecycle.

Logic layer: it orchestrates pure pricing and the adapters it is given; it creates no AWS client itself."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from dawra.adapters.dynamo import ConditionFailed
from dawra.adapters.inventory import InventoryStore
from dawra.adapters.lifecycle import Lifecycle
from dawra.adapters.orders import OrdersStore
from dawra.errors import IdempotencyKeyReused, InvalidOrder
from dawra.models import (
    Order,
    OrderStatus,
    PaymentState,
    PlaceOrderRequest,
    TimelineEvent,
    TimelineKind,
    iso_utc,
    timeline_event_id,
    utc_now,
)
from dawra.payments import PaymentProvider
from dawra.pricing import PricingError, price_order, promise_date


class CheckoutCommand(BaseModel):
    """What the idempotent checkout runs on: the key scopes it, the request is validated against replays."""

    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    request: PlaceOrderRequest


def order_id_for(idempotency_key: str) -> str:
    """The order id is derived from the Idempotency-Key, so even a checkout retried after its idempotency record
    expired (or after a crash between writing the order and starting its execution) finds the same order."""
    return "ord_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


def request_fingerprint(request: PlaceOrderRequest) -> str:
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class Checkout:
    def __init__(self, orders: OrdersStore, inventory: InventoryStore, lifecycle: Lifecycle,
                 payments: PaymentProvider, clock=utc_now):
        self.orders = orders
        self.inventory = inventory
        self.lifecycle = lifecycle
        self.payments = payments
        self.clock = clock

    def place_order(self, command: CheckoutCommand) -> dict:
        request = command.request
        order_id = order_id_for(command.idempotency_key)
        fingerprint = request_fingerprint(request)

        catalog = self.inventory.catalog([line.sku for line in request.lines])
        try:
            lines, totals = price_order(request.lines, catalog, request.shipping_address.country,
                                        request.shipping_method)
        except PricingError as error:
            raise InvalidOrder(error.message, field=error.field) from None

        placed_at: datetime = self.clock()
        authorization_id = self.payments.authorize(request.payment_token, totals.total, reference=order_id)
        zero = totals.total.model_copy(update={"amount": 0})
        order = Order(
            order_id=order_id,
            customer_id=request.customer_id,
            status=OrderStatus.CONFIRMED,
            placed_at=iso_utc(placed_at),
            promised_by=promise_date(placed_at, request.shipping_method).isoformat(),
            contact=request.contact,
            shipping_address=request.shipping_address,
            shipping_method=request.shipping_method,
            lines=lines,
            totals=totals,
            payment=PaymentState(provider=self.payments.name, authorization_id=authorization_id,
                                 authorized=totals.total, captured=zero, refunded=zero),
        )
        confirmed = TimelineEvent(
            event_id=timeline_event_id(TimelineKind.ORDER_CONFIRMED, order_id),
            order_id=order_id,
            kind=TimelineKind.ORDER_CONFIRMED,
            at=order.placed_at,
        )
        try:
            self.orders.transact([self.orders.put_order(order, request_fingerprint=fingerprint),
                                  self.orders.put_event(confirmed)])
        except ConditionFailed:
            # Written by an earlier attempt with this key: same request -> same order; different request -> refuse.
            existing = self.orders.get_order_with_fingerprint(order_id)
            if existing is None or existing[1] != fingerprint:
                raise IdempotencyKeyReused("this Idempotency-Key was used for a different order") from None
            order = existing[0]
        self.lifecycle.start(order_id)
        return order_summary(order)


def order_summary(order: Order) -> dict:
    return {
        "order_id": order.order_id,
        "status": order.status.value,
        "placed_at": order.placed_at,
        "promised_by": order.promised_by,
        "lines": [line.model_dump(mode="json") for line in order.lines],
        "totals": order.totals.model_dump(mode="json"),
    }
