"""Checkout: turn a storefront's request into a priced, authorised order and start its lifecycle.

Idempotent by construction: the Idempotency-Key's record is written in the same commit as the order, conditionally,
so one key makes one order; a replay of the same request returns that order (and makes sure its lifecycle runs); the
same key with a different request is refused."""

from __future__ import annotations

import hashlib
import json
import secrets

from dawra.contracts.api import PlaceOrderRequest
from dawra.domain.errors import (
    CatalogProblem,
    ConcurrentChange,
    IdempotencyKeyReused,
    InvalidOrder,
    TransientError,
)
from dawra.domain.order import Order, PaymentState
from dawra.domain.pricing import PricingError, price_order, promise_date
from dawra.domain.time import iso
from dawra.ports import (
    Clock,
    IdempotencyRecord,
    InventoryRepository,
    OpsAlerts,
    OrderRepository,
    PaymentProvider,
    UnitOfWork,
    Workflow,
)


def new_order_id() -> str:
    """Random and opaque (128 bits): nothing about the client or the key can be read from it or guessed."""
    return "ord_" + secrets.token_hex(16)


def key_hash(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode()).hexdigest()


def fingerprint(request: PlaceOrderRequest) -> str:
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class Checkout:
    def __init__(self, orders: OrderRepository, inventory: InventoryRepository, uow: UnitOfWork, workflow: Workflow,
                 payments: PaymentProvider, alerts: OpsAlerts, clock: Clock):
        self.orders, self.inventory, self.uow = orders, inventory, uow
        self.workflow, self.payments, self.alerts, self.clock = workflow, payments, alerts, clock

    def place_order(self, idempotency_key: str, request: PlaceOrderRequest) -> Order:
        key, print_ = key_hash(idempotency_key), fingerprint(request)
        try:
            catalog = self.inventory.catalog([line.sku for line in request.lines])
        except CatalogProblem as problem:
            self.alerts.catalog_problem(problem.sku, problem.message)
            raise
        try:
            lines, totals = price_order(request.lines, catalog, request.shipping_address.country,
                                        request.shipping_method)
        except PricingError as error:
            raise InvalidOrder(error.message, field=error.field) from None
        placed_at = self.clock.now()
        # The key is the provider's reference too: a retried checkout re-authorises nothing.
        authorization_id = self.payments.authorize(request.payment_token, totals.total, reference=f"chk_{key[:32]}")
        zero = totals.total.model_copy(update={"amount": 0})
        order = Order.place(
            order_id=new_order_id(), customer_id=request.customer_id, placed_at=iso(placed_at),
            promised_by=promise_date(placed_at, request.shipping_method).isoformat(), contact=request.contact,
            shipping_address=request.shipping_address, shipping_method=request.shipping_method, lines=lines,
            totals=totals, payment=PaymentState(provider=self.payments.name, authorization_id=authorization_id,
                                                authorized=totals.total, captured=zero, refunded=zero))
        try:
            self.uow.commit(order=order, markers=[IdempotencyRecord(key_hash=key, order_id=order.order_id,
                                                                    fingerprint=print_)])
        except ConcurrentChange:
            order = self._placed_before(key, print_)
        self.workflow.start(order.order_id)
        return order

    def _placed_before(self, key: str, print_: str) -> Order:
        """An earlier attempt with this key committed (or ours did, and its answer was lost)."""
        record = self.orders.idempotency_record(key)
        if record is None:
            raise TransientError("the checkout's commit was refused for another reason; retry with the same key")
        if record.fingerprint != print_:
            raise IdempotencyKeyReused("this Idempotency-Key was used for a different order")
        existing = self.orders.get(record.order_id)
        if existing is None:
            raise TransientError("the order for this Idempotency-Key is not readable yet; retry")
        return existing
