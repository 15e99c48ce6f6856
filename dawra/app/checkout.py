"""Checkout: turn a storefront's request into a priced, authorised order and start its lifecycle.

Idempotent by construction: the Idempotency-Key's record is written in the same commit as the order, conditionally,
so one key makes one order; a replay of the same request returns that order (and makes sure its lifecycle runs); the
same key with a different request is refused.

Honest: an order the stock visibly cannot cover (across every location) is refused before anything is authorised or
written, with what each short line asked for and what there is; the promise shown at checkout is the estimate from
the locations the allocation would choose as the stock stands. The catalog and the stock come in one read."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from dawra.contracts.api import PlaceOrderRequest
from dawra.domain.allocation import Location, plan_allocation
from dawra.domain.audit import AuditEntry
from dawra.domain.availability import NO_BACKORDERS, BackorderPolicy, ShortOfStock, shortages
from dawra.domain.customer import Address, Contact
from dawra.domain.errors import (
    CatalogProblem,
    ConcurrentChange,
    IdempotencyKeyReused,
    InvalidOrder,
    TransientError,
)
from dawra.domain.money import Money
from dawra.domain.order import Order, PaymentState
from dawra.domain.pricing import PricingError, RequestedLine, price_order, shipping_zone
from dawra.domain.promise import latest_promise
from dawra.domain.returns import ReturnPolicies, default_policies
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


class OrderRequest(Protocol):
    """What any checkout needs from its request (the storefront's, or an agent's for a customer)."""

    @property
    def customer_id(self) -> str: ...
    @property
    def contact(self) -> Contact: ...
    @property
    def shipping_address(self) -> Address: ...
    @property
    def shipping_method(self) -> str: ...
    @property
    def lines(self) -> Sequence[RequestedLine]: ...

    def model_dump(self, *, mode: str) -> dict[str, Any]: ...


Authorize = Callable[[Money, str], tuple[str, str]]


def fingerprint(request: OrderRequest) -> str:
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class Checkout:
    def __init__(self, orders: OrderRepository, inventory: InventoryRepository, uow: UnitOfWork, workflow: Workflow,
                 payments: PaymentProvider, alerts: OpsAlerts, clock: Clock,
                 backorders: BackorderPolicy = NO_BACKORDERS, return_policies: ReturnPolicies | None = None):
        self.orders, self.inventory, self.uow = orders, inventory, uow
        self.workflow, self.payments, self.alerts, self.clock = workflow, payments, alerts, clock
        self.backorders = backorders
        self.return_policies = return_policies or default_policies()

    def place_order(self, idempotency_key: str, request: PlaceOrderRequest) -> Order:
        provider = self.payments
        return self.place(idempotency_key, request, lambda total, reference: (
            provider.name, provider.authorize(request.payment_token, total, reference=reference)))

    def place(self, idempotency_key: str, request: OrderRequest, authorize: Authorize, *,
              placed_by: str | None = None, hold_reason: str | None = None,
              audit: Callable[[Order], AuditEntry] | None = None) -> Order:
        """Price, authorise (how: `authorize(total, reference)` -> (provider name, authorization id)), store the
        order with its idempotency record (and, for an operator, its audit entry) in one commit, start its lifecycle.
        """
        key, print_ = key_hash(idempotency_key), fingerprint(request)
        locations = self.inventory.locations()
        try:
            catalog, available = self.inventory.catalog_and_stock([line.sku for line in request.lines],
                                                                  [loc.location_id for loc in locations])
        except CatalogProblem as problem:
            self.alerts.catalog_problem(problem.sku, problem.message)
            raise
        try:
            lines, totals = price_order(list(request.lines), catalog, request.shipping_address.country,
                                        request.shipping_method, city=request.shipping_address.city)
        except PricingError as error:
            raise InvalidOrder(error.message, field=error.field) from None
        # Each line keeps the return policy it is sold under: the order is judged by that version forever.
        lines = [line.model_copy(update={"return_policy": self.return_policies.ref_for(
            line.sku, catalog[line.sku].category)}) for line in lines]
        wanted = {line.sku: line.quantity for line in request.lines}
        short = shortages(wanted, available, self.backorders)
        if short:
            # Unless this is the replay of an order placed while there was stock (its answer was lost): that order.
            earlier = self._earlier(key, print_)
            if earlier is None:
                raise ShortOfStock(short)
            self.workflow.start(earlier.order_id)
            return earlier
        placed_at = self.clock.now()
        # The key is the provider's reference too: a retried checkout re-authorises nothing.
        provider_name, authorization_id = authorize(totals.total, f"chk_{key[:32]}")
        zero = totals.total.model_copy(update={"amount": 0})
        order = Order.place(
            order_id=new_order_id(), customer_id=request.customer_id, placed_at=iso(placed_at),
            promised_by=estimate(placed_at, request, wanted, available, locations).isoformat(),
            contact=request.contact,
            shipping_address=request.shipping_address, shipping_method=request.shipping_method, lines=lines,
            totals=totals, payment=PaymentState(provider=provider_name, authorization_id=authorization_id,
                                                authorized=totals.total, captured=zero, refunded=zero),
            placed_by=placed_by, hold_reason=hold_reason,
            shipping_zone=shipping_zone(request.shipping_address.country, request.shipping_address.city))
        try:
            self.uow.commit(order=order, markers=[IdempotencyRecord(key_hash=key, order_id=order.order_id,
                                                                    fingerprint=print_)],
                            audit=[audit(order)] if audit else [])
        except ConcurrentChange:
            order = self._placed_before(key, print_)
        self.workflow.start(order.order_id)
        return order

    def _placed_before(self, key: str, print_: str) -> Order:
        """An earlier attempt with this key committed (or ours did, and its answer was lost)."""
        existing = self._earlier(key, print_)
        if existing is None:
            raise TransientError("the checkout's commit was refused for another reason; retry with the same key")
        return existing

    def _earlier(self, key: str, print_: str) -> Order | None:
        """The order an earlier attempt with this key placed, or None when it placed none."""
        record = self.orders.idempotency_record(key)
        if record is None:
            return None
        if record.fingerprint != print_:
            raise IdempotencyKeyReused("this Idempotency-Key was used for a different order")
        existing = self.orders.get(record.order_id)
        if existing is None:
            raise TransientError("the order for this Idempotency-Key is not readable yet; retry")
        return existing


def estimate(placed_at: datetime, request: OrderRequest, wanted: Mapping[str, int],
             available: Mapping[tuple[str, str], int], locations: Sequence[Location]) -> date:
    """The promise shown at checkout: the latest of the locations the allocation would choose as the stock stands
    (the reservation then sets each shipment's own, from the locations it actually takes). A line let through by a
    backorder policy cannot be allocated: the latest promise of every location stands in for it."""
    picks = plan_allocation(dict(wanted), dict(available), list(locations))
    chosen = {pick.location_id for pick in picks or []}
    return latest_promise(placed_at, [loc for loc in locations if loc.location_id in chosen] or locations,
                          request.shipping_address.country, request.shipping_method)
