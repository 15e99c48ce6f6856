"""ShipShipment: book the carrier, capture the shipment's share of the payment, and let its units leave.
ShipTheOnlyParcel (decision 122) and ReserveAndShip (decision 124) ship an order's only parcel with it.

Idempotent: a retry finds the shipment shipped and answers the same. Booking and capture are idempotent at the
provider (keyed by the shipment), so a retry after a lost answer repeats them harmlessly. A capture refused because
the card authorisation lapsed re-authorises and captures (or holds the order for a person: dawra.app.payments).
A processor error (TransientError) is the task's to retry: it never cancels the order."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from dawra.app.common import Fail, Resume, TaskWait, load, now_iso, retry_on_race, stopped
from dawra.app.partners import SendToPartner
from dawra.app.payments import RenewAuthorization
from dawra.contracts.tasks import (
    NOT_ON_ITS_WAY_WAIT_S,
    CollectionWait,
    HoldExpiry,
    OnlyParcel,
    PackingLate,
    PlannedShipment,
    Reserved,
    Shipped,
)
from dawra.domain.errors import (
    AuthorizationExpired,
    CancellationRequested,
    ConcurrentChange,
    IllegalTransition,
    NotCollected,
)
from dawra.domain.holds import HoldKind
from dawra.domain.inventory import ReservationState, consume
from dawra.domain.order import Order, OrderEvent, OrderStatus
from dawra.domain.preparation import PARTNER, wait_seconds
from dawra.domain.pricing import delivery_deadline
from dawra.domain.shipment import Shipment, ShipmentStatus
from dawra.ports import (
    Carriers,
    Clock,
    InventoryRepository,
    OpsAlerts,
    OrderRepository,
    PaymentProviders,
    UnitOfWork,
)

if TYPE_CHECKING:  # ReserveAndShip is given it: modules that import this one need not load the reservation
    from dawra.app.reserve import JustReserved, ReserveStock

MIN_DELIVERY_WAIT_S = 1  # Step Functions wants a positive timeout even when the promise has already passed
HOLD_LIMIT = timedelta(days=7)  # an operator's hold lasts this long by default (each kind's: dawra.domain.holds)
PACKING_RECHECK = timedelta(hours=24)  # once operations know a shipment is late to be packed, the wait goes on this long




def capture_reference(shipment: Shipment) -> str:
    """The provider's reference for the shipment's capture: retries of one capture share it (the provider applies it
    once); a capture given back (its round) makes the next one a new capture."""
    return shipment.shipment_id if shipment.capture_round == 0 else f"{shipment.shipment_id}:{shipment.capture_round}"


class ShipShipment:
    def __init__(self, orders: OrderRepository, inventory: InventoryRepository, uow: UnitOfWork,
                 carriers: Carriers, payments: PaymentProviders, clock: Clock, delivery_grace: timedelta,
                 hold_timeouts: Mapping[HoldKind, timedelta] | None = None,
                 renewals: RenewAuthorization | None = None, partners: SendToPartner | None = None):
        """partners: hands a partner's shipment to its partner (a signed message on the partner-outbound queue:
        dawra.app.partners); None: a partner's shipment cannot be sent (it waits, then operations are alerted)."""
        self.orders, self.inventory, self.uow, self.carriers = orders, inventory, uow, carriers
        self.payments, self.clock, self.delivery_grace = payments, clock, delivery_grace
        self.hold_timeouts = dict(hold_timeouts or {})
        self.renewals = renewals
        self.partners = partners

    def __call__(self, order_id: str, shipment_id: str, just: JustReserved | None = None) -> Shipped:
        """`just`: the reservation this process has just committed (ReserveAndShip): the first attempt starts from
        that order and those reservations instead of reading them (decision 126). A change committed since by
        anyone else makes this attempt's commit lose, as one landing during it would: the next attempt reads."""
        captured: list[Order] = []
        first = [just] if just is not None else []
        try:
            return retry_on_race(lambda: self._attempt(order_id, shipment_id, captured, first),
                                 f"shipping {shipment_id}")
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

    def _attempt(self, order_id: str, shipment_id: str, captured: list[Order],
                 first: list[JustReserved]) -> Shipped:
        just = first.pop() if first else None  # the first attempt only: a retry after a lost race reads again
        order = just.order if just is not None else load(self.orders, order_id)
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
        if shipment.waits_for_packing:  # staff or a partner prepare it first: nothing is booked or captured yet
            if shipment.preparation == PARTNER and shipment.partner_sent_at is None:
                self._send_to_partner(order, shipment)
            return Shipped(outcome="preparing", prepare_timeout_s=wait_seconds(shipment.prepare_by, self.clock.now()))
        if shipment.pickup is not None:  # store pickup, ready on the desk: no carrier; the customer collects it
            return Shipped(outcome="awaiting_collection", collect_timeout_s=collection_wait(shipment, self.clock.now()))
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
        reservations = just.reservations if just is not None else self.inventory.reservations(order_id)
        held = [r for r in reservations if r.shipment_id == shipment_id and r.state == ReservationState.HELD]
        order.ship(shipment_id, carrier=carrier.name, tracking_number=booking.tracking_number,
                   label_url=booking.label_url, at=now_iso(self.clock))
        self.uow.commit(order=order, stock=[consume(r) for r in held])
        return self._shipped(order, order.shipment(shipment_id)).model_copy(update={"shipped_now": True})

    def _send_to_partner(self, order: Order, shipment: Shipment) -> None:
        """Sent, then recorded on the shipment (a retry after a lost commit sends again: the partner keys its work by
        the shipment id). Without a partner outbox nothing is sent: the SLA's alert tells a person."""
        if self.partners is None:
            return
        self.partners(order, shipment)
        order.sent_to_partner(shipment.shipment_id, now_iso(self.clock))
        self.uow.commit(order=order)

    def _shipped(self, order: Order, shipment: Shipment) -> Shipped:
        """WaitForDelivery waits until the end of the shipment's promised day plus the merchant's grace."""
        deadline = delivery_deadline(date.fromisoformat(order.promise_of(shipment)), self.delivery_grace)
        wait = int((deadline - self.clock.now()).total_seconds())
        return Shipped(tracking_number=shipment.tracking_number or "",
                       delivery_timeout_s=max(MIN_DELIVERY_WAIT_S, wait))


class ShipTheOnlyParcel:
    """ShipTheOnlyParcel (decision 122): an order that leaves in one parcel ships it here, outside the Map, and its
    wait parks on it (WaitForItsDelivery), so the ordinary order does not pay Step Functions for ShipEachShipment.
    Any other order is answered, never failed (a function error would page operations): with several shipments, the
    first one's id, nothing read or shipped; with one that did not leave (on hold, its lines cancelled, being
    prepared, ready at a store), its id. Neither is on its way, so the wait's write is refused and the order goes to
    ShipEachShipment, whose ShipShipment decides again (the same answer: it is idempotent)."""

    def __init__(self, ship: ShipShipment):
        self.ship = ship

    def __call__(self, order_id: str, shipments: list[PlannedShipment],
                 just: JustReserved | None = None) -> OnlyParcel:
        """`just`: the reservation ReserveAndShip has just committed (ShipShipment starts from it)."""
        if len(shipments) != 1:
            return OnlyParcel(shipment_id=shipments[0].shipment_id, delivery_timeout_s=NOT_ON_ITS_WAY_WAIT_S)
        shipment_id = shipments[0].shipment_id
        shipped = self.ship(order_id, shipment_id, just)
        return OnlyParcel(shipment_id=shipment_id, delivery_timeout_s=shipped.delivery_timeout_s,
                          shipped_now=shipped.shipped_now)


class ReserveAndShip:
    """ReserveAndShip (decision 124): ReserveStock and ShipTheOnlyParcel in one call, so an ordinary order invokes one
    function, not two, before it waits for its delivery. Each is what it is alone: the reservation all or nothing
    and idempotent (a retry finds the one it made; AwaitingStock and OutOfStock raised before anything ships), then
    the only parcel shipped (or, for any other order, a shipment named that WaitForItsDelivery's write refuses).
    The shipping half starts from the order and reservations the reservation's commit stored, without reading them
    again (decision 126); a retry whose reservation an earlier attempt made reads them, as ShipShipment alone does."""

    def __init__(self, reserve: ReserveStock, only: ShipTheOnlyParcel):
        self.reserve, self.only = reserve, only

    def __call__(self, order_id: str) -> Reserved:
        allocation, just = self.reserve.holding(order_id)  # just: None when an earlier attempt reserved it
        return Reserved(shipments=allocation.shipments, parcel=self.only(order_id, allocation.shipments, just))


class AwaitRelease(TaskWait):
    """WaitWhileOnHold: park the shipment until a person releases the order (or asks for it to be cancelled, or
    the customer cancels this parcel). If that happened before the token was stored, nothing else would answer the
    workflow: this task does."""

    def __call__(self, order_id: str, shipment_id: str, task_token: str) -> dict[str, bool]:
        def parks(order: Order) -> bool:
            return order.status == OrderStatus.ON_HOLD and order.shipment(shipment_id).resume_token != task_token

        def answer(order: Order) -> Fail | Resume | None:
            # released, or this parcel was cancelled meanwhile: ShipShipment runs again and says which
            released = order.status != OrderStatus.ON_HOLD or order.shipment(shipment_id).cancelled
            return stopped(order) or (Resume({"released": True}) if released else None)

        return self.park_or_answer(order_id, task_token, f"holding {shipment_id}", parks=parks,
                                   park=lambda order: order.wait_for_release(shipment_id, task_token), answer=answer)


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


class AwaitPacking(TaskWait):
    """WaitForPacking: park the shipment until it is packed (staff in the console, or the partner's callback), or its
    order's cancellation is asked for. If either happened before the token was stored, nothing else would answer the
    workflow: this task does (as AwaitRelease does for holds)."""

    def __call__(self, order_id: str, shipment_id: str, task_token: str) -> dict[str, bool]:
        def awaited(order: Order) -> bool:
            shipment = order.shipment(shipment_id)
            return shipment.waits_for_packing and not shipment.cancelled

        def parks(order: Order) -> bool:
            return awaited(order) and order.cancellation_stop() is None \
                and order.shipment(shipment_id).resume_token != task_token

        def answer(order: Order) -> Fail | Resume | None:
            # packed (or this parcel cancelled): ShipShipment runs again and says what next
            return stopped(order) or (None if awaited(order) else Resume({"packed": True}))

        # wait_for_release: the token is kept with the header, where a cancellation sees it
        return self.park_or_answer(order_id, task_token, f"packing {shipment_id}", parks=parks,
                                   park=lambda order: order.wait_for_release(shipment_id, task_token), answer=answer)


class PackingIsLate:
    """PackingLate: WaitForPacking reached the shipment's SLA. Operations are alerted once per shipment (the alert
    goes out before the mark is committed: a retry after a lost commit may alert again, never not at all); the wait
    goes on. Packed or cancelled meanwhile: the next wait answers at once."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, alerts: OpsAlerts, clock: Clock):
        self.orders, self.uow, self.alerts, self.clock = orders, uow, alerts, clock

    def __call__(self, order_id: str, shipment_id: str) -> PackingLate:
        return retry_on_race(lambda: self._attempt(order_id, shipment_id), f"late packing of {shipment_id}")

    def _attempt(self, order_id: str, shipment_id: str) -> PackingLate:
        order = load(self.orders, order_id)
        shipment = order.shipment(shipment_id)
        if order.packing_late(shipment_id, now_iso(self.clock)):
            who = "its partner" if shipment.preparation == PARTNER else \
                "the store to have it ready for collection" if shipment.pickup else "the warehouse"
            self.alerts.alert(order_id, f"shipment {shipment_id} at {shipment.location_id} is not packed by "
                                        f"{shipment.prepare_by}: waiting for {who}")
            self.uow.commit(order=order)
        wait = MIN_DELIVERY_WAIT_S if not shipment.waits_for_packing else int(PACKING_RECHECK.total_seconds())
        return PackingLate(prepare_timeout_s=wait)


def collection_wait(shipment: Shipment, now: datetime) -> int:
    """How long WaitForCollection waits: until the reminder is due (once), then until the collect-by date."""
    desk = shipment.pickup
    if desk is None or desk.ready_at is None:
        return MIN_DELIVERY_WAIT_S
    return max(MIN_DELIVERY_WAIT_S, int((desk.next_wait(now) - now).total_seconds()))


class AwaitCollection(TaskWait):
    """WaitForCollection: park a store pickup, ready on the desk, until staff hand it over (the right code; the
    console answers the stored token), or its order's cancellation is asked for. If either happened before the token
    was stored, nothing else would answer the workflow: this task does (as AwaitPacking does)."""

    def __call__(self, order_id: str, shipment_id: str, task_token: str) -> dict[str, bool]:
        def parks(order: Order) -> bool:
            shipment = order.shipment(shipment_id)
            return shipment.status == ShipmentStatus.READY_FOR_PICKUP and order.cancellation_stop() is None \
                and shipment.resume_token != task_token

        def answer(order: Order) -> Fail | Resume | None:
            return stopped(order) or (Resume({"collected": True}) if order.shipment(shipment_id).is_delivered else None)

        # wait_for_release: the token is kept with the header, where a cancellation sees it
        return self.park_or_answer(order_id, task_token, f"collecting {shipment_id}", parks=parks,
                                   park=lambda order: order.wait_for_release(shipment_id, task_token), answer=answer)


class RemindCollection:
    """CollectionReminder: WaitForCollection timed out. Before the collect-by date the customer is reminded (once:
    the mark is committed with the message's timeline event) and the wait goes on until that date. At or past it,
    the cancellation is recorded on the order (so a late handover is refused) and the task fails with NotCollected:
    the Map's Catch releases the units at the store and voids the payment, and the customer is told. Collected or
    cancelled meanwhile: the next wait answers at once."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, clock: Clock):
        self.orders, self.uow, self.clock = orders, uow, clock

    def __call__(self, order_id: str, shipment_id: str) -> CollectionWait:
        return retry_on_race(lambda: self._attempt(order_id, shipment_id), f"collection of {shipment_id}")

    def _attempt(self, order_id: str, shipment_id: str) -> CollectionWait:
        order = load(self.orders, order_id)
        shipment, now = order.shipment(shipment_id), self.clock.now()
        desk = shipment.pickup
        if order.cancellation_as == NotCollected.__name__:  # recorded by an earlier attempt of this task
            raise NotCollected(f"order {order_id}: not collected at the store in time")
        if desk is None or shipment.status != ShipmentStatus.READY_FOR_PICKUP or order.cancellation_stop() is not None:
            return CollectionWait(collect_timeout_s=MIN_DELIVERY_WAIT_S)  # the next wait answers at once
        if desk.collect_by is not None and now_iso(self.clock) >= desk.collect_by:
            order.not_collected(shipment_id, now_iso(self.clock))
            self.uow.commit(order=order)
            raise NotCollected(f"order {order_id}: not collected at the store in time")
        if order.remind_collection(shipment_id, now_iso(self.clock)):
            self.uow.commit(order=order)
        return CollectionWait(collect_timeout_s=collection_wait(shipment, now))
