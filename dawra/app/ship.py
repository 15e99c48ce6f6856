"""ShipShipment: book the carrier, capture the shipment's share of the payment, and let its units leave.

Idempotent: a retry finds the shipment shipped and answers the same. Booking and capture are idempotent at the
provider (keyed by the shipment), so a retry after a lost answer repeats them harmlessly."""

from __future__ import annotations

from datetime import date, timedelta

from dawra.app.common import load, now_iso, retry_on_race
from dawra.contracts.tasks import Shipped
from dawra.domain.errors import IllegalTransition
from dawra.domain.inventory import ReservationState, consume
from dawra.domain.order import Order
from dawra.domain.pricing import delivery_deadline
from dawra.ports import Carriers, Clock, InventoryRepository, OrderRepository, PaymentProviders, UnitOfWork

MIN_DELIVERY_WAIT_S = 1  # Step Functions wants a positive timeout even when the promise has already passed




class ShipShipment:
    def __init__(self, orders: OrderRepository, inventory: InventoryRepository, uow: UnitOfWork,
                 carriers: Carriers, payments: PaymentProviders, clock: Clock, delivery_grace: timedelta):
        self.orders, self.inventory, self.uow, self.carriers = orders, inventory, uow, carriers
        self.payments, self.clock, self.delivery_grace = payments, clock, delivery_grace

    def __call__(self, order_id: str, shipment_id: str) -> Shipped:
        captured: list[Order] = []
        try:
            return retry_on_race(lambda: self._attempt(order_id, shipment_id, captured), f"shipping {shipment_id}")
        except IllegalTransition:
            if captured:  # the order was cancelled between our capture and our commit: give the capture back
                order = captured[0]
                self.payments.named(order.payment.provider).refund(
                    order.payment.authorization_id, order.shipment(shipment_id).amount, reference=f"{shipment_id}:undo")
            raise

    def _attempt(self, order_id: str, shipment_id: str, captured: list[Order]) -> Shipped:
        order = load(self.orders, order_id)
        shipment = order.shipment(shipment_id)
        if shipment.has_shipped:
            return self._shipped(order, shipment.tracking_number or "")
        order.ensure_can_ship(shipment_id)  # before any side effect
        carrier = self.carriers.named(self.carriers.default)
        booking = carrier.book(shipment_id, order.shipping_address.country, weight_g=0)
        provider = self.payments.named(order.payment.provider)
        provider.capture(order.payment.authorization_id, shipment.amount, reference=shipment_id)
        captured[:] = [order]
        held = [r for r in self.inventory.reservations(order_id)
                if r.shipment_id == shipment_id and r.state == ReservationState.HELD]
        order.ship(shipment_id, carrier=carrier.name, tracking_number=booking.tracking_number,
                   label_url=booking.label_url, at=now_iso(self.clock))
        self.uow.commit(order=order, stock=[consume(r) for r in held])
        return self._shipped(order, booking.tracking_number)

    def _shipped(self, order: Order, tracking_number: str) -> Shipped:
        deadline = delivery_deadline(date.fromisoformat(order.promised_by), self.delivery_grace)
        wait = int((deadline - self.clock.now()).total_seconds())
        return Shipped(tracking_number=tracking_number, delivery_timeout_s=max(MIN_DELIVERY_WAIT_S, wait))
