"""Late, lost and returned parcels: what the workflow does when a parcel is not delivered by its promise, or comes
back.

DeliveryLate runs when WaitForDelivery times out (the end of the shipment's promised day plus the merchant's
grace): the customer gets an apology and a new estimate, once, and the workflow waits again, until the end of the
promised day plus the lost-after period. SettleClaim runs when that second wait times out too (the parcel is
declared lost) or when the carrier brought the parcel back (ReturnedToSender; its units are back in stock already),
and settles it by the merchant's policy:

- reship: its lines are reserved again at one location, as a new shipment of the same order with nothing to
  capture (the customer paid once); the workflow ships it and waits for it like any parcel;
- refund: the shipment's captured share is refunded;
- agent: the order needs attention, with the reason in words.

A replacement that is lost or comes back in its turn goes to a person, and so does a reship the stock cannot send
from one location. The customer hears what happened either way (the settlement's timeline event). Each task is
idempotent: a retry finds the settlement stored and answers the same; a refund is recorded first, then paid out under
the shipment's own reference, so a retry pays it out once. Nothing here refunds or releases a parcel reported
delivered: a delivery that wins the race is answered "delivered", and one reported after the settlement changes no
money (dawra.domain.order.record_tracking keeps it, flagged `declared_lost`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from dawra.app.common import load, now_iso, retry_on_race
from dawra.app.ship import MIN_DELIVERY_WAIT_S
from dawra.contracts.tasks import Late, Settled
from dawra.domain.allocation import plan_allocation
from dawra.domain.inventory import Reservation, StockMove, hold
from dawra.domain.money import Money
from dawra.domain.order import CASH_ON_DELIVERY, Order, OrderEvent
from dawra.domain.pricing import delivery_deadline
from dawra.domain.promise import NoCalendar, promise_for
from dawra.domain.shipment import Settlement, Shipment, ShipmentStatus
from dawra.domain.timeline import TimelineKind
from dawra.ports import Clock, InventoryRepository, OrderRepository, PaymentProviders, UnitOfWork

DELAY_ESTIMATE = timedelta(days=3)  # what a late parcel's new estimate adds to today


def lost_deadline(order: Order, shipment: Shipment, grace: timedelta, lost_after: timedelta) -> datetime:
    """When an undelivered parcel is declared lost: the end of its promised day plus the lost-after period (never
    before the end of the grace: a lost-after shorter than the grace is read as the grace)."""
    return delivery_deadline(date.fromisoformat(order.promise_of(shipment)), max(grace, lost_after))


def replacement_id_for(shipment_id: str) -> str:
    """The same lost or returned shipment always gets the same replacement: a retried settlement finds it."""
    return "shp_" + hashlib.sha256(f"{shipment_id}|reship".encode()).hexdigest()[:20]


class DeliveryLate:
    def __init__(self, orders: OrderRepository, uow: UnitOfWork, clock: Clock, grace: timedelta,
                 lost_after: timedelta):
        self.orders, self.uow, self.clock, self.grace, self.lost_after = orders, uow, clock, grace, lost_after

    def __call__(self, order_id: str, shipment_id: str) -> Late:
        return retry_on_race(lambda: self._attempt(order_id, shipment_id), f"late delivery of {shipment_id}")

    def _attempt(self, order_id: str, shipment_id: str) -> Late:
        order = load(self.orders, order_id)
        shipment = order.shipment(shipment_id)
        now = self.clock.now()
        estimate = (now + DELAY_ESTIMATE).date().isoformat()
        told = order.report_late(shipment_id, estimate, now_iso(self.clock))  # once; not if returning or delivered
        if told:
            self.uow.commit(order=order)
        left = int((lost_deadline(order, shipment, self.grace, self.lost_after) - now).total_seconds())
        return Late(late_timeout_s=max(MIN_DELIVERY_WAIT_S, left), new_estimate=estimate if told else "")


@dataclass(frozen=True)
class _Decided:
    answer: Settled
    order: Order
    refund: Money | None = None  # to pay out after the commit (or again, on a retry: the provider applies it once)


class SettleClaim:
    def __init__(self, orders: OrderRepository, inventory: InventoryRepository, uow: UnitOfWork,
                 payments: PaymentProviders, clock: Clock, policy: Settlement):
        self.orders, self.inventory, self.uow, self.payments = orders, inventory, uow, payments
        self.clock, self.policy = clock, policy

    def __call__(self, order_id: str, shipment_id: str) -> Settled:
        decided = retry_on_race(lambda: self._attempt(order_id, shipment_id), f"settling {shipment_id}")
        if decided.refund is not None and decided.refund.amount > 0:
            payment = decided.order.payment
            self.payments.named(payment.provider).refund(payment.authorization_id, decided.refund,
                                                         reference=f"{shipment_id}:claim")
        return decided.answer

    def _attempt(self, order_id: str, shipment_id: str) -> _Decided:
        order = load(self.orders, order_id)
        shipment = order.shipment(shipment_id)
        if shipment.settlement is not None:
            return self._settled_before(order, shipment)
        if shipment.is_delivered:  # it arrived after all, between the timeout and now
            return _Decided(Settled(outcome="delivered"), order)
        if shipment.status != ShipmentStatus.RETURNED:
            order.declare_lost(shipment_id)
        at, why = now_iso(self.clock), self._why_a_person(order, shipment)
        if why is None and self.policy == Settlement.REFUND:
            refund = order.settle_by_refund(shipment_id, at)
            self.uow.commit(order=order)
            return _Decided(Settled(outcome="refunded"), order, refund)
        if why is None:  # reship
            moves = self._reship(order, shipment, at)
            if moves:
                self.uow.commit(order=order, stock=moves)  # refused if the stock moved meanwhile: decided again
                return _Decided(Settled(outcome="reship", shipment_id=shipment.replaced_by or ""), order)
            why = "the stock cannot send its lines again from one location"
        order.settle_by_a_person(shipment_id, self._reason(order, shipment, why), at)
        self.uow.commit(order=order)
        return _Decided(Settled(outcome="agent"), order)

    def _why_a_person(self, order: Order, shipment: Shipment) -> str | None:
        if shipment.replaces:
            return "it was itself sent to replace a parcel lost or returned before"
        if self.policy == Settlement.AGENT:
            return "the shop's policy is that a person decides whether to send it again or refund it"
        if order.payment.provider == CASH_ON_DELIVERY:
            # Its "capture" only said what the courier would collect at the door: a lost or refused parcel was never
            # paid for, so refunding it would pay out cash never received, and a replacement (captured never)
            # would go out free. A person settles it with the courier's remittance in hand.
            return "it was to be paid in cash at the door: nothing was collected for it to refund or to send again"
        if self.policy == Settlement.RESHIP and not order.can(OrderEvent.RESHIP):
            return f"a parcel cannot be sent again while the order is {order.status.value}"
        return None

    def _reship(self, order: Order, shipment: Shipment, at: str) -> list[StockMove]:
        """Hold the shipment's lines again at one location, as a new shipment; [] when no one location can."""
        wanted = {line.sku: line.quantity for line in shipment.lines}
        locations = self.inventory.locations()
        available = self.inventory.available(list(wanted), [loc.location_id for loc in locations])
        picks = plan_allocation(wanted, available, locations)
        if not picks or len({pick.location_id for pick in picks}) != 1:
            return []
        location = next(loc for loc in locations if loc.location_id == picks[0].location_id)
        now = self.clock.now()
        try:
            promised = promise_for(now, location, order.shipping_address.country, order.shipping_method)
        except NoCalendar:  # as long after today as the original was promised after the order
            placed = datetime.fromisoformat(order.placed_at).astimezone(UTC).date()
            promised = now.date() + (date.fromisoformat(order.promise_of(shipment)) - placed)
        replacement = order.settle_by_reship(shipment.shipment_id, replacement_id_for(shipment.shipment_id),
                                             location.location_id, promised.isoformat(), at)
        return [hold(Reservation(order_id=order.order_id, shipment_id=replacement.shipment_id, sku=pick.sku,
                                 location_id=pick.location_id, quantity=pick.quantity, replacement=True))
                for pick in picks]

    @staticmethod
    def _reason(order: Order, shipment: Shipment, why: str) -> str:
        """What the person sees: which parcel, what happened to it, and why it is theirs to decide."""
        what = (f"came back to {shipment.location_id} (its units are back in stock)"
                if shipment.status == ShipmentStatus.RETURNED
                else f"is lost in transit: not delivered, promised by {order.promise_of(shipment)}")
        return f"Parcel {shipment.tracking_number} (shipment {shipment.shipment_id}) {what}; {why}."

    def _settled_before(self, order: Order, shipment: Shipment) -> _Decided:
        """A retry: answer as the first attempt did (and pay its refund out again: the provider applies it once)."""
        if shipment.settlement == Settlement.RESHIP:
            return _Decided(Settled(outcome="reship", shipment_id=shipment.replaced_by or ""), order)
        if shipment.settlement == Settlement.AGENT:
            return _Decided(Settled(outcome="agent"), order)
        kinds = (TimelineKind.SHIPMENT_LOST, TimelineKind.RETURN_SETTLED)
        recorded = next((e for e in self.orders.timeline(order.order_id)
                         if e.kind in kinds and e.shipment_id == shipment.shipment_id), None)
        amount = int(recorded.detail.get("amount", "0")) if recorded else 0
        return _Decided(Settled(outcome="refunded"), order, Money(amount=amount, currency=order.currency))
