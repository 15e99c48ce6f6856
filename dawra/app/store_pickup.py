"""The store's side of store pickup (dawra.domain.pickup): the desk of one store (orders to put out, orders waiting
for their customer) and the two things staff do in the console: mark an order ready, and hand it over for its code.

Each is an operator's change (dawra.app.changes): authorised, decided on the order as it is, committed with its audit
entry once per request key. Ready: a code is issued, the customer is told, and the workflow's wait is answered
(WaitForPacking: ShipShipment then sends it to WaitForCollection). Handed over: the code is checked (a wrong one is
counted, committed and refused; too many lock the desk for a while), the shipment's share is captured at the provider
(keyed by the shipment: a retry captures once), its reservations are consumed and the order counts it delivered (and
completes, if it was its last parcel), in one commit; then the workflow's wait is answered. What happens after a
commit is derived from the order's state, so a replayed request finishes what an interrupted one left undone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dawra.app.changes import Change, ChangeOrder, Outcome
from dawra.app.common import now_iso
from dawra.app.ship import capture_reference
from dawra.domain.access import Actor, Permission, authorize
from dawra.domain.errors import PickupCodeRefused
from dawra.domain.inventory import ReservationState, consume
from dawra.domain.order import Order
from dawra.domain.pickup import Durations, new_code
from dawra.domain.shipment import Shipment, ShipmentStatus
from dawra.ports import (
    AuditLog,
    Clock,
    InventoryRepository,
    OrderQuery,
    OrderRepository,
    OrderSearch,
    PaymentProviders,
    UnitOfWork,
    Workflow,
)

LIST_LIMIT = 100  # orders read for one store's desk (its lookup index, newest first)


@dataclass(frozen=True)
class AtTheDesk:
    order: Order
    shipment: Shipment


@dataclass(frozen=True)
class Desk:
    location_id: str
    to_prepare: list[AtTheDesk]  # reserved here, to be put out (marked ready)
    ready: list[AtTheDesk]  # on the desk, waiting for their customer and code


def pickups_here(order: Order, location_id: str) -> list[Shipment]:
    """The order's pickup shipments at the store still to be prepared or handed over."""
    if order.is_terminal or order.cancellation_stop() is not None:
        return []
    return [s for s in order.shipments if s.location_id == location_id and s.pickup is not None and not s.cancelled
            and not s.has_shipped]


class StorePickups:
    def __init__(self, orders: OrderRepository, search: OrderSearch, inventory: InventoryRepository, uow: UnitOfWork,
                 audit: AuditLog, workflow: Workflow, payments: PaymentProviders, clock: Clock,
                 codes: Callable[[], str] = new_code, durations: Durations | None = None):
        """durations: the merchant's reminder and collection times for every store (None: each store's days)."""
        self.orders, self.search, self.inventory, self.workflow = orders, search, inventory, workflow
        self.payments, self.clock, self.codes, self.durations = payments, clock, codes, durations
        self.change = ChangeOrder(orders, uow, audit, clock)

    def desk(self, actor: Actor, location_id: str) -> Desk:
        authorize(actor, Permission.SERVE_PICKUPS)
        page = self.search.search(OrderQuery(location=location_id), LIST_LIMIT, None)
        found: list[AtTheDesk] = []
        for header in page.orders:
            if header.is_terminal:
                continue
            order = self.orders.get(header.order_id)
            if order is not None:
                found += [AtTheDesk(order, s) for s in pickups_here(order, location_id)]
        found.sort(key=lambda item: (item.order.placed_at, item.shipment.shipment_id))
        ready = [item for item in found if item.shipment.status == ShipmentStatus.READY_FOR_PICKUP]
        return Desk(location_id, [item for item in found if item not in ready], ready)

    def mark_ready(self, actor: Actor, order_id: str, shipment_id: str, key: str) -> Outcome:
        """On the desk: the customer gets the code. The workflow is answered only when this request put it there
        (a second click changes nothing; a lost answer is found by the wait itself at the store's SLA)."""
        authorize(actor, Permission.SERVE_PICKUPS)

        def decide(order: Order, ref: str) -> Change:
            moved = order.ready_for_pickup(shipment_id, self.codes(), now_iso(self.clock), self.durations)
            return Change(detail={"shipment_id": shipment_id, "shipment_status": order.shipment(shipment_id).status,
                                  "moved": moved})

        outcome = self.change(actor, order_id, key, "pickup_ready", None, decide, {"shipment_id": shipment_id})
        shipment = outcome.order.shipment(shipment_id)
        if outcome.audit.after.get("moved") and shipment.resume_token:
            self.workflow.resume(shipment.resume_token, {"packed": True})  # ShipShipment: wait for collection
        return outcome

    def hand_over(self, actor: Actor, order_id: str, shipment_id: str, code: str, key: str) -> Outcome:
        """The customer's code, typed or scanned: right, it is collected (captured, consumed, delivered) and the
        workflow goes on; wrong, the try is committed (and audited) and refused."""
        authorize(actor, Permission.SERVE_PICKUPS)

        def decide(order: Order, ref: str) -> Change:
            if not order.try_pickup_code(shipment_id, code, self.clock.now()):
                return Change(detail={"shipment_id": shipment_id, "collected": False})
            shipment = order.shipment(shipment_id)
            if shipment.amount.amount:  # keyed by the shipment: a retry or a replay captures once
                self.payments.named(order.payment.provider).capture(
                    order.payment.authorization_id, shipment.amount, reference=capture_reference(shipment))
            held = [r for r in self.inventory.reservations(order_id)
                    if r.shipment_id == shipment_id and r.state == ReservationState.HELD]
            order.collect(shipment_id, now_iso(self.clock), actor.user_id)
            return Change(stock=[consume(r) for r in held], detail={"shipment_id": shipment_id, "collected": True})

        # The code itself is never part of what is audited (only that a try was made, and whether it was right).
        outcome = self.change(actor, order_id, key, "pickup_hand_over", None, decide, {"shipment_id": shipment_id})
        if not outcome.audit.after.get("collected"):
            raise PickupCodeRefused("this is not the order's pickup code")
        shipment = outcome.order.shipment(shipment_id)
        if shipment.resume_token:
            self.workflow.resume(shipment.resume_token, {"collected": True})
        return outcome
