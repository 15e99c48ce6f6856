"""ShipShipment: book the carrier, capture the shipment's share of the payment, and let its units leave.

Idempotent: a retry finds the shipment shipped and answers the same. Booking and capture are idempotent at the
provider (keyed by the shipment), so a retry after a lost answer repeats them harmlessly. A capture refused because
the card authorisation lapsed re-authorises and captures (or holds the order for a person: dawra.app.payments).
A processor error (TransientError) is the task's to retry: it never cancels the order."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from dawra.app.common import load, now_iso, retry_on_race
from dawra.app.payments import RenewAuthorization
from dawra.contracts.tasks import HoldExpiry, Shipped
from dawra.domain.errors import (
    AuthorizationExpired,
    CancellationRequested,
    ConcurrentChange,
    IllegalTransition,
)
from dawra.domain.holds import HoldKind
from dawra.domain.inventory import ReservationState, consume
from dawra.domain.order import Order, OrderEvent, OrderStatus
from dawra.domain.pricing import delivery_deadline
from dawra.domain.shipment import Shipment
from dawra.ports import (
    Carriers,
    Clock,
    InventoryRepository,
    OrderRepository,
    PaymentProviders,
    UnitOfWork,
    Workflow,
)

MIN_DELIVERY_WAIT_S = 1  # Step Functions wants a positive timeout even when the promise has already passed
HOLD_LIMIT = timedelta(days=7)  # an operator's hold lasts this long by default (each kind's: dawra.domain.holds)




def capture_reference(shipment: Shipment) -> str:
    """The provider's reference for the shipment's capture: retries of one capture share it (the provider applies it
    once); a capture given back (its round) makes the next one a new capture."""
    return shipment.shipment_id if shipment.capture_round == 0 else f"{shipment.shipment_id}:{shipment.capture_round}"


class ShipShipment:
    def __init__(self, orders: OrderRepository, inventory: InventoryRepository, uow: UnitOfWork,
                 carriers: Carriers, payments: PaymentProviders, clock: Clock, delivery_grace: timedelta,
                 hold_timeouts: Mapping[HoldKind, timedelta] | None = None,
                 renewals: RenewAuthorization | None = None):
        self.orders, self.inventory, self.uow, self.carriers = orders, inventory, uow, carriers
        self.payments, self.clock, self.delivery_grace = payments, clock, delivery_grace
        self.hold_timeouts = dict(hold_timeouts or {})
        self.renewals = renewals

    def __call__(self, order_id: str, shipment_id: str) -> Shipped:
        captured: list[Order] = []
        try:
            return retry_on_race(lambda: self._attempt(order_id, shipment_id, captured), f"shipping {shipment_id}")
        except (IllegalTransition, CancellationRequested):
            if captured:  # the order was cancelled between our capture and our commit: give the capture back
                self._undo(captured[0], shipment_id)
            raise

    def _renew(self, order: Order) -> None:
        """The provider says the authorisation lapsed: renew it (dawra.app.payments). Renewed, or not renewed and
        the order held for a person: the attempt starts again on the order as it now is (it captures on the new
        authorisation, or answers "on hold"). Not renewed and not holdable (a sibling parcel left): the lapse
        stands, and the workflow hands the order to a person."""
        if self.renewals is None:
            return
        renewal = self.renewals.renew(order.order_id, order.payment.authorization_id)
        if renewal.outcome != "not_renewed" or renewal.held:
            raise ConcurrentChange({"order"})

    def _undo(self, order: Order, shipment_id: str) -> None:
        shipment = order.shipment(shipment_id)
        if shipment.amount.amount:  # a replacement captured nothing
            self.payments.named(order.payment.provider).refund(
                order.payment.authorization_id, shipment.amount, reference=f"{capture_reference(shipment)}:undo")

    @staticmethod
    def _same_capture(earlier: Order, now: Order, shipment_id: str) -> bool:
        """Would this attempt capture exactly what the earlier one did, under the same reference?"""
        before, shipment = earlier.shipment(shipment_id), now.shipment(shipment_id)
        return (now.can(OrderEvent.SHIP) and not now.cancellation_requested and not shipment.cancelled
                and shipment.amount == before.amount and shipment.capture_round == before.capture_round)

    def _attempt(self, order_id: str, shipment_id: str, captured: list[Order]) -> Shipped:
        order = load(self.orders, order_id)
        shipment = order.shipment(shipment_id)
        if shipment.has_shipped:
            return self._shipped(order, shipment)
        if captured and not self._same_capture(captured[0], order, shipment_id):
            # An earlier attempt captured, then lost its commit to a change that stops or alters this shipment (a
            # hold, a cancellation, a cancelled line): give that capture back and count the round, so a later
            # capture is a new one at the provider. (Losing to a sibling shipment's commit changes nothing: the
            # retry captures again with the same reference, which the provider applies once.)
            # The round is stored first: once it is, no later attempt can mistake the refunded capture for its own.
            shipment.capture_round += 1
            order.touch(shipment_id)
            self.uow.commit(order=order)
            self._undo(captured[0], shipment_id)  # under the earlier attempt's reference
            captured.clear()
        if shipment.cancelled:
            return Shipped(outcome="cancelled")
        if order.status == OrderStatus.ON_HOLD and not order.cancellation_requested:
            held_since = datetime.fromisoformat(order.held_at or now_iso(self.clock))
            limit = self.hold_timeouts.get(order.held_as or HoldKind.OPERATOR, HOLD_LIMIT)
            left = int((held_since + limit - self.clock.now()).total_seconds())
            return Shipped(outcome="on_hold", hold_timeout_s=max(MIN_DELIVERY_WAIT_S, left))
        order.ensure_can_ship(shipment_id)  # before any side effect
        carrier = self.carriers.named(self.carriers.default)
        booking = carrier.book(shipment_id, order.shipping_address.country, weight_g=0)
        provider = self.payments.named(order.payment.provider)
        if shipment.amount.amount:  # nothing to capture for a replacement: the customer paid once
            try:
                provider.capture(order.payment.authorization_id, shipment.amount,
                                 reference=capture_reference(shipment))
            except AuthorizationExpired:
                self._renew(order)  # renewed or held: raises ConcurrentChange, so the next attempt reads it
                raise
        captured[:] = [order]
        held = [r for r in self.inventory.reservations(order_id)
                if r.shipment_id == shipment_id and r.state == ReservationState.HELD]
        order.ship(shipment_id, carrier=carrier.name, tracking_number=booking.tracking_number,
                   label_url=booking.label_url, at=now_iso(self.clock))
        self.uow.commit(order=order, stock=[consume(r) for r in held])
        return self._shipped(order, order.shipment(shipment_id))

    def _shipped(self, order: Order, shipment: Shipment) -> Shipped:
        """WaitForDelivery waits until the end of the shipment's promised day plus the merchant's grace."""
        deadline = delivery_deadline(date.fromisoformat(order.promise_of(shipment)), self.delivery_grace)
        wait = int((deadline - self.clock.now()).total_seconds())
        return Shipped(tracking_number=shipment.tracking_number or "",
                       delivery_timeout_s=max(MIN_DELIVERY_WAIT_S, wait))


class AwaitRelease:
    """WaitWhileOnHold: park the shipment until a person releases the order (or asks for it to be cancelled, or
    the customer cancels this parcel). If that happened before the token was stored, nothing else would answer the
    workflow: this task does."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, workflow: Workflow):
        self.orders, self.uow, self.workflow = orders, uow, workflow

    def __call__(self, order_id: str, shipment_id: str, task_token: str) -> dict[str, bool]:
        order = retry_on_race(lambda: self._park(order_id, shipment_id, task_token), f"holding {shipment_id}")
        stop = order.cancellation_stop()
        if stop is not None:
            self.workflow.fail(task_token, type(stop).__name__, stop.message)
            return {"waiting": False}
        if order.status != OrderStatus.ON_HOLD or order.shipment(shipment_id).cancelled:
            # released, or this parcel was cancelled meanwhile: ShipShipment runs again and says which
            self.workflow.resume(task_token, {"released": True})
            return {"waiting": False}
        return {"waiting": True}

    def _park(self, order_id: str, shipment_id: str, task_token: str) -> Order:
        order = load(self.orders, order_id)
        if order.status == OrderStatus.ON_HOLD and order.shipment(shipment_id).resume_token != task_token:
            order.wait_for_release(shipment_id, task_token)
            self.uow.commit(order=order)
        return order


class HoldExpired:
    """WaitWhileOnHold timed out: the hold lasted its kind's time. Released meanwhile (the release and the timeout
    crossed): ship after all. Otherwise the kind says what happens (dawra.domain.holds): a person is asked
    (`OnHoldTooLong`), or the order is cancelled with the kind's reason (e.g. `ReviewTimedOut`), recorded here first
    so that a release arriving later is refused rather than shipping an order the workflow is cancelling. The
    workflow's Choice routes on the answer; idempotent (a retry finds the cancellation recorded)."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, clock: Clock):
        self.orders, self.uow, self.clock = orders, uow, clock

    def __call__(self, order_id: str) -> HoldExpiry:
        return retry_on_race(lambda: self._attempt(order_id), f"expiring the hold of {order_id}")

    def _attempt(self, order_id: str) -> HoldExpiry:
        order = load(self.orders, order_id)
        stop = order.cancellation_stop()
        if stop is not None:  # cancelled meanwhile (by a person, the customer, or an earlier attempt of this task)
            return HoldExpiry(outcome=type(stop).__name__)
        if order.status != OrderStatus.ON_HOLD:
            return HoldExpiry(outcome="released")
        outcome = order.expire_hold(now_iso(self.clock))
        if order.cancellation_requested:
            self.uow.commit(order=order)
        return HoldExpiry(outcome=outcome)
