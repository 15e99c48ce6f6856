"""The order aggregate: its statuses, the one table of which event may follow which status, and the rules that
keep its money and shipments consistent.

`Order.apply(event)` is the only place an order's status changes, and it consults only `TRANSITIONS`. Each business
method (reserve, ship, complete, cancel, ask_a_person) checks its own guards, applies its event and appends the
timeline events the customer or an operator will see; a unit of work then commits the whole change at once.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from dawra.domain.allocation import Pick
from dawra.domain.customer import Address, Contact
from dawra.domain.errors import CancelledByOperator, IllegalTransition, PaymentInvariantBroken
from dawra.domain.money import Money, split_amount
from dawra.domain.shipment import Shipment, ShipmentLine, ShipmentStatus
from dawra.domain.timeline import TimelineEvent, TimelineKind, timeline_event_id
from dawra.domain.tracking import TrackingEvent, TrackingStatus


class OrderStatus(enum.StrEnum):
    CONFIRMED = "CONFIRMED"  # placed and paid (authorised)
    ALLOCATED = "ALLOCATED"  # stock reserved, one shipment per location
    SHIPPED = "SHIPPED"  # at least one shipment handed to a carrier
    ON_HOLD = "ON_HOLD"  # stock reserved, but nothing ships until a person releases it
    NEEDS_ATTENTION = "NEEDS_ATTENTION"  # the automation stopped; a person decides what happens next
    COMPLETED = "COMPLETED"  # every shipment delivered
    CANCELLED = "CANCELLED"  # nothing shipped; stock released, payment voided


class OrderEvent(enum.StrEnum):
    RESERVE_STOCK = "reserve_stock"
    SHIP = "ship"
    COMPLETE = "complete"
    CANCEL = "cancel"
    ASK_A_PERSON = "ask_a_person"
    HOLD = "hold"
    RELEASE_HOLD = "release_hold"
    # What an operator or the customer may do without moving the order to another status.
    REQUEST_CANCEL = "request_cancel"
    CANCEL_LINE = "cancel_line"
    CHANGE_ADDRESS = "change_address"
    REFUND = "refund"
    ADD_NOTE = "add_note"
    RESEND_MESSAGE = "resend_message"


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[OrderStatus]
    to: OrderStatus | None  # None: the event is allowed in those statuses and leaves the status as it is


S = OrderStatus
_EVERY = frozenset(OrderStatus)
_NOT_SHIPPED = frozenset({S.CONFIRMED, S.ALLOCATED, S.ON_HOLD})
# The lifecycle in one screen: event -> the statuses it may happen in -> the status it leads to (None: stays).
TRANSITIONS: dict[OrderEvent, Transition] = {
    OrderEvent.RESERVE_STOCK: Transition(frozenset({S.CONFIRMED}), S.ALLOCATED),
    OrderEvent.HOLD: Transition(frozenset({S.ALLOCATED}), S.ON_HOLD),
    OrderEvent.RELEASE_HOLD: Transition(frozenset({S.ON_HOLD}), S.ALLOCATED),
    OrderEvent.SHIP: Transition(frozenset({S.ALLOCATED, S.SHIPPED}), S.SHIPPED),
    OrderEvent.COMPLETE: Transition(frozenset({S.SHIPPED, S.NEEDS_ATTENTION}), S.COMPLETED),
    OrderEvent.CANCEL: Transition(frozenset({S.CONFIRMED, S.ALLOCATED, S.ON_HOLD, S.NEEDS_ATTENTION}), S.CANCELLED),
    OrderEvent.ASK_A_PERSON: Transition(frozenset({S.CONFIRMED, S.ALLOCATED, S.ON_HOLD, S.SHIPPED}),
                                        S.NEEDS_ATTENTION),
    OrderEvent.REQUEST_CANCEL: Transition(_NOT_SHIPPED | {S.NEEDS_ATTENTION}, None),
    OrderEvent.CANCEL_LINE: Transition(frozenset({S.ALLOCATED, S.ON_HOLD}), None),
    OrderEvent.CHANGE_ADDRESS: Transition(_NOT_SHIPPED, None),
    OrderEvent.REFUND: Transition(frozenset({S.SHIPPED, S.NEEDS_ATTENTION, S.COMPLETED}), None),
    OrderEvent.ADD_NOTE: Transition(_EVERY, None),
    OrderEvent.RESEND_MESSAGE: Transition(_EVERY, None),
}
INITIAL = OrderStatus.CONFIRMED
TERMINAL: frozenset[OrderStatus] = frozenset(
    status for status in OrderStatus
    if not any(status in t.allowed_from and t.to not in (None, status) for t in TRANSITIONS.values()))


class OrderLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str
    title: str
    quantity: int = Field(ge=1)
    unit_price: Money
    line_total: Money  # unit_price * quantity, before tax
    tax: Money


class Totals(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    subtotal: Money
    shipping: Money
    tax: Money
    total: Money


class PaymentState(BaseModel):
    """What the payment provider was asked to do. Invariant: 0 <= refunded <= captured <= authorised."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: str
    authorization_id: str
    authorized: Money
    captured: Money
    refunded: Money
    voided: bool = False

    def capture(self, amount: Money) -> PaymentState:
        if self.voided or (self.captured + amount).amount > self.authorized.amount:
            raise PaymentInvariantBroken(f"cannot capture {amount.amount}: authorised {self.authorized.amount}, "
                                         f"captured {self.captured.amount}, voided {self.voided}")
        return self.model_copy(update={"captured": self.captured + amount})

    def settle_for_cancellation(self) -> tuple[PaymentState, Money]:
        """Refund everything captured and not yet refunded, void the rest. Returns the new state and the refund."""
        refund = self.captured - self.refunded
        return self.model_copy(update={"refunded": self.captured, "voided": True}), refund


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    order_id: str
    customer_id: str
    status: OrderStatus
    placed_at: str
    promised_by: str  # UTC date (YYYY-MM-DD) the customer was promised delivery by
    contact: Contact
    shipping_address: Address
    shipping_method: str
    lines: list[OrderLine]
    totals: Totals
    payment: PaymentState
    cancellation_reason: str | None = None
    attention_reason: str | None = None
    placed_by: str | None = None  # the agent who placed it for the customer (their user id), if one did
    cancellation_requested: str | None = None  # why an operator asked for it; the workflow then cancels it
    hold_reason: str | None = None
    held_at: str | None = None
    hold_on_allocation: str | None = None  # placed to be held once its stock is reserved (the reason)
    cancelled_lines: list[OrderLine] = Field(default_factory=list)
    shipments: list[Shipment] = Field(default_factory=list)
    version: int = 0  # 0: never stored; the unit of work commits only over the version it loaded

    _new_events: list[TimelineEvent] = PrivateAttr(default_factory=list)
    _changed_shipments: set[str] = PrivateAttr(default_factory=set)
    _header_changed: bool = PrivateAttr(default=False)

    # --- the one way a status changes -----------------------------------------------------------------------------
    def apply(self, event: OrderEvent) -> None:
        transition = TRANSITIONS[event]
        if self.status not in transition.allowed_from:
            raise IllegalTransition(self.order_id, self.status.value, event.value)
        if transition.to is not None:
            self.status = transition.to
        self._header_changed = True

    def can(self, event: OrderEvent) -> bool:
        return self.status in TRANSITIONS[event].allowed_from

    # --- what the unit of work commits ----------------------------------------------------------------------------
    @property
    def new_events(self) -> list[TimelineEvent]:
        return list(self._new_events)

    @property
    def header_changed(self) -> bool:
        return self._header_changed or self.version == 0

    @property
    def changed_shipments(self) -> list[Shipment]:
        return [s for s in self.shipments if s.shipment_id in self._changed_shipments]

    def mark_committed(self) -> None:
        """Called by the unit of work once the change is stored: versions advance, pending changes are cleared."""
        if self.header_changed:
            self.version += 1
        for shipment in self.changed_shipments:
            shipment.version += 1
        self._new_events.clear()
        self._changed_shipments.clear()
        self._header_changed = False

    def _record(self, kind: TimelineKind, at: str, *id_parts: str, shipment_id: str | None = None,
                **detail: str) -> None:
        self._new_events.append(TimelineEvent(
            event_id=timeline_event_id(kind, self.order_id, *id_parts), order_id=self.order_id, kind=kind, at=at,
            shipment_id=shipment_id, detail=detail))

    def _touch(self, shipment: Shipment) -> None:
        self._changed_shipments.add(shipment.shipment_id)

    def touch(self, shipment_id: str) -> None:
        """A shipment's own bookkeeping changed (not its status): commit it with the order."""
        self._touch(self.shipment(shipment_id))

    # --- reads ----------------------------------------------------------------------------------------------------
    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def currency(self) -> str:
        return self.totals.total.currency

    def shipment(self, shipment_id: str) -> Shipment:
        for shipment in self.shipments:
            if shipment.shipment_id == shipment_id:
                return shipment
        raise KeyError(f"order {self.order_id} has no shipment {shipment_id}")

    @property
    def shipped(self) -> list[Shipment]:
        return [s for s in self.shipments if s.has_shipped]

    @property
    def active_shipments(self) -> list[Shipment]:
        """The shipments still meant to reach the customer (not emptied by line cancellations)."""
        return [s for s in self.shipments if not s.cancelled]

    @property
    def wanted(self) -> dict[str, int]:
        return {line.sku: line.quantity for line in self.lines}

    # --- the business ---------------------------------------------------------------------------------------------
    @classmethod
    def place(cls, *, order_id: str, customer_id: str, placed_at: str, promised_by: str, contact: Contact,
              shipping_address: Address, shipping_method: str, lines: list[OrderLine], totals: Totals,
              payment: PaymentState, placed_by: str | None = None, hold_reason: str | None = None) -> Order:
        order = cls(order_id=order_id, customer_id=customer_id, status=INITIAL, placed_at=placed_at,
                    promised_by=promised_by, contact=contact, shipping_address=shipping_address,
                    shipping_method=shipping_method, lines=lines, totals=totals, payment=payment,
                    placed_by=placed_by, hold_on_allocation=hold_reason)
        order._record(TimelineKind.ORDER_CONFIRMED, placed_at, **({"placed_by": placed_by} if placed_by else {}))
        return order

    def reserve(self, picks: list[Pick], shipment_id_for: Callable[[str, str], str], at: str) -> list[Shipment]:
        """Stock is held for every line: one shipment per location, each with its share of the total."""
        by_location: dict[str, list[Pick]] = {}
        for pick in picks:
            by_location.setdefault(pick.location_id, []).append(pick)
        if self.cancellation_requested:
            raise CancelledByOperator(f"order {self.order_id}: an operator asked for it to be cancelled")
        if {sku: sum(p.quantity for p in picks if p.sku == sku) for sku in self.wanted} != self.wanted:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.RESERVE_STOCK.value,
                                    "the picks do not cover the order's lines exactly")
        self.apply(OrderEvent.RESERVE_STOCK)
        unit_value = {line.sku: (line.line_total.amount, line.quantity) for line in self.lines}
        locations = sorted(by_location)
        weights = [sum(unit_value[p.sku][0] * p.quantity // unit_value[p.sku][1] for p in by_location[location])
                   for location in locations]
        shares = split_amount(self.totals.total.amount, weights)
        for location, share in zip(locations, shares, strict=True):
            shipment = Shipment(
                shipment_id=shipment_id_for(self.order_id, location), order_id=self.order_id, location_id=location,
                lines=[ShipmentLine(sku=p.sku, quantity=p.quantity) for p in by_location[location]],
                amount=Money(amount=share, currency=self.currency))
            self.shipments.append(shipment)
            self._touch(shipment)
        self._record(TimelineKind.STOCK_RESERVED, at, shipments=str(len(locations)))
        if self.hold_on_allocation:
            self.hold(self.hold_on_allocation, at, "placed")
            self.hold_on_allocation = None
        return list(self.shipments)

    def ensure_can_ship(self, shipment_id: str) -> Shipment:
        shipment = self.shipment(shipment_id)
        if self.cancellation_requested:  # first: the workflow compensates, whatever the status
            raise CancelledByOperator(f"order {self.order_id}: an operator asked for it to be cancelled")
        if not self.can(OrderEvent.SHIP):
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.SHIP.value)
        if shipment.cancelled:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.SHIP.value,
                                    f"every line of shipment {shipment_id} was cancelled")
        if shipment.has_shipped:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.SHIP.value,
                                    f"shipment {shipment_id} has already shipped")
        return shipment

    def ship(self, shipment_id: str, *, carrier: str, tracking_number: str, label_url: str, at: str) -> Money:
        """The parcel is handed to the carrier and its share of the payment is captured. Returns that share."""
        shipment = self.ensure_can_ship(shipment_id)
        self.payment = self.payment.capture(shipment.amount)
        self.apply(OrderEvent.SHIP)
        shipment.status = ShipmentStatus.LABEL_CREATED
        shipment.carrier, shipment.tracking_number, shipment.label_url = carrier, tracking_number, label_url
        self._touch(shipment)
        self._record(TimelineKind.SHIPMENT_SHIPPED, at, shipment_id, shipment_id=shipment_id, carrier=carrier,
                     tracking_number=tracking_number, label_url=label_url)
        return shipment.amount

    def wait_for_release(self, shipment_id: str, resume_token: str) -> Shipment:
        """The workflow parks this shipment until the order is released from its hold."""
        return self.wait_for_delivery(shipment_id, resume_token)

    def wait_for_delivery(self, shipment_id: str, resume_token: str) -> Shipment:
        shipment = self.shipment(shipment_id)
        shipment.resume_token = resume_token
        self._touch(shipment)
        return shipment

    def stop_waiting(self, shipment_id: str) -> None:
        shipment = self.shipment(shipment_id)
        shipment.resume_token = None
        self._touch(shipment)

    def record_tracking(self, shipment_id: str, report: TrackingEvent) -> ShipmentStatus | None:
        """A carrier report moves its shipment forward (never backwards); returns the new status, if any."""
        shipment = self.shipment(shipment_id)
        target = shipment.moves_forward_to(report.status)
        if target is None:
            return None
        shipment.status = target
        shipment.last_tracking_at = report.occurred_at
        if target == ShipmentStatus.DELIVERED:
            shipment.delivered_at = report.occurred_at
        self._touch(shipment)
        kind = {TrackingStatus.IN_TRANSIT: TimelineKind.SHIPMENT_IN_TRANSIT,
                TrackingStatus.OUT_FOR_DELIVERY: TimelineKind.SHIPMENT_OUT_FOR_DELIVERY,
                TrackingStatus.DELIVERED: TimelineKind.SHIPMENT_DELIVERED}.get(report.status)
        if kind is not None:
            self._record(kind, report.occurred_at, shipment_id, shipment_id=shipment_id,
                         tracking_number=report.tracking_number, carrier=report.carrier)
        return target

    def complete(self, at: str) -> None:
        if not self.active_shipments or not all(s.is_delivered for s in self.active_shipments):
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.COMPLETE.value,
                                    "not every shipment is delivered")
        self.apply(OrderEvent.COMPLETE)
        self._record(TimelineKind.ORDER_COMPLETED, at)

    def cancel(self, reason: str, at: str) -> Money:
        """Nothing has left the building: void the payment (refunding any capture). Returns the refund."""
        if self.shipped:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.CANCEL.value,
                                    f"{len(self.shipped)} shipment(s) already left; a person must decide")
        self.apply(OrderEvent.CANCEL)
        self.payment, refund = self.payment.settle_for_cancellation()
        self.cancellation_reason = reason  # a code the customer may see (OutOfStock, CancelledByOperator, ...)
        self.hold_reason = self.held_at = None
        self._record(TimelineKind.ORDER_CANCELLED, at, reason=reason)
        return refund

    def ask_a_person(self, reason: str, at: str) -> None:
        """The automation stops here: an operator sees the order and the reason."""
        self.apply(OrderEvent.ASK_A_PERSON)
        self.attention_reason = reason
        self._record(TimelineKind.ORDER_NEEDS_ATTENTION, at, reason=reason)

    # --- what people do (operators in the back office; later the customer) ----------------------------------------
    # `ref` is the request's own id (its idempotency key's digest): it names the timeline event the change appends.
    def hold(self, reason: str, at: str, ref: str) -> None:
        """Nothing ships until somebody releases the order; its stock stays reserved."""
        self.apply(OrderEvent.HOLD)
        self.hold_reason, self.held_at = reason, at
        self._record(TimelineKind.ORDER_ON_HOLD, at, ref)  # the reason is the operators' (audit trail, header)

    def waiting_tokens(self) -> list[str]:
        """The tokens the workflow parked unshipped shipments on while the order was on hold. They stay stored: a
        token answered twice is refused by the workflow harmlessly, and a retried request can answer it again."""
        return [s.resume_token for s in self.shipments if s.resume_token and not s.has_shipped]

    def release_hold(self, at: str, ref: str) -> None:
        """Back to shipping (whoever holds the waiting tokens resumes them)."""
        self.apply(OrderEvent.RELEASE_HOLD)
        self.hold_reason = self.held_at = None
        self._record(TimelineKind.ORDER_RELEASED, at, ref)

    def request_cancellation(self, reason: str, at: str, ref: str) -> None:
        """An operator asks for the whole order to be cancelled: the workflow releases its stock and voids the
        payment (its own compensation). Refused once a parcel has left."""
        self.apply(OrderEvent.REQUEST_CANCEL)
        if self.shipped:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.REQUEST_CANCEL.value,
                                    f"{len(self.shipped)} shipment(s) already left; refund or wait for a return")
        if self.cancellation_requested:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.REQUEST_CANCEL.value,
                                    "its cancellation was already asked for")
        self.cancellation_requested = reason
        self._record(TimelineKind.CANCELLATION_REQUESTED, at, ref)

    def cancel_line(self, sku: str, at: str, ref: str) -> list[Shipment]:
        """Take one line out of an order that has not shipped it: the total goes down by the line and its tax, and
        each shipment carrying it gives up that line (and its value). Returns the shipments that changed."""
        self.apply(OrderEvent.CANCEL_LINE)
        line = next((candidate for candidate in self.lines if candidate.sku == sku), None)
        if line is None:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.CANCEL_LINE.value,
                                    f"it has no line {sku}")
        if len(self.lines) == 1:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.CANCEL_LINE.value,
                                    "it is the order's only line: cancel the order instead")
        carrying = [s for s in self.shipments if any(item.sku == sku for item in s.lines)]
        if any(s.has_shipped for s in carrying):
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.CANCEL_LINE.value,
                                    f"{sku} has already left with a parcel")
        value = line.line_total + line.tax
        shares = split_amount(value.amount, [next(i.quantity for i in s.lines if i.sku == sku) for s in carrying])
        for shipment, share in zip(carrying, shares, strict=True):
            shipment.lines = [item for item in shipment.lines if item.sku != sku]
            shipment.amount = Money(amount=max(0, shipment.amount.amount - share), currency=self.currency)
            if not shipment.lines:  # nothing left to send from there: what it still carried moves to another one
                leftover, shipment.amount = shipment.amount, Money.zero(self.currency)
                shipment.cancelled = True
                heir = next((s for s in self.shipments if not s.cancelled and not s.has_shipped), None)
                if heir is not None:
                    heir.amount = heir.amount + leftover
                    self._touch(heir)
            self._touch(shipment)
        self.lines = [candidate for candidate in self.lines if candidate.sku != sku]
        self.cancelled_lines = [*self.cancelled_lines, line]
        t = self.totals
        self.totals = Totals(subtotal=t.subtotal - line.line_total, shipping=t.shipping, tax=t.tax - line.tax,
                             total=t.total - value)
        self._record(TimelineKind.LINE_CANCELLED, at, ref, sku=sku, quantity=str(line.quantity),
                     amount=str(value.amount))
        return carrying

    def change_address(self, address: Address, at: str, ref: str) -> None:
        """Before any label exists, the parcel can still go somewhere else."""
        self.apply(OrderEvent.CHANGE_ADDRESS)
        if self.shipped:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.CHANGE_ADDRESS.value,
                                    "a label already exists for a parcel")
        if address.country != self.shipping_address.country:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.CHANGE_ADDRESS.value,
                                    "the country cannot change: prices, tax and the promise depend on it")
        self.shipping_address = address
        self._record(TimelineKind.ADDRESS_CHANGED, at, ref)

    def refund(self, amount: Money, at: str, ref: str) -> None:
        """Give back part of what was captured (never more than captured minus what was already refunded)."""
        self.apply(OrderEvent.REFUND)
        if amount.amount <= 0:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.REFUND.value,
                                    "a refund must be more than zero")
        refundable = self.payment.captured - self.payment.refunded
        if amount.currency != self.currency or amount.amount > refundable.amount:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.REFUND.value,
                                    f"at most {refundable.amount} {self.currency} minor units can be refunded")
        self.payment = self.payment.model_copy(update={"refunded": self.payment.refunded + amount})
        self._record(TimelineKind.REFUNDED, at, ref, amount=str(amount.amount), currency=amount.currency)

    def note(self) -> None:
        """An internal note changes nothing on the order itself; the table still says where one may be added."""
        self.apply(OrderEvent.ADD_NOTE)
        self._header_changed = False

    def resend(self, event: TimelineEvent, at: str, ref: str) -> None:
        """Send a customer message again: a new timeline event pointing at the one whose message it repeats."""
        self.apply(OrderEvent.RESEND_MESSAGE)
        self._header_changed = False
        self._record(TimelineKind.MESSAGE_RESENT, at, ref, of=event.event_id, message=event.kind.value)


def state_diagram() -> str:
    """The transition table as a Mermaid state diagram (docs/architecture.md embeds it; a test keeps them equal).
    Events that leave the status as it is are listed in a note beside each status they are allowed in."""
    lines = ["stateDiagram-v2", f"    [*] --> {INITIAL.value}: place"]
    for event, transition in TRANSITIONS.items():
        if transition.to is None:
            continue
        for source in (status for status in OrderStatus if status in transition.allowed_from):
            lines.append(f"    {source.value} --> {transition.to.value}: {event.value}")
    lines += [f"    {status.value} --> [*]" for status in OrderStatus if status in TERMINAL]
    for status in OrderStatus:
        staying = [e.value for e, t in TRANSITIONS.items() if t.to is None and status in t.allowed_from]
        if staying:
            lines.append(f"    note right of {status.value}: {', '.join(staying)}")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m dawra.domain.order: the diagram docs/architecture.md embeds
    print(state_diagram())
