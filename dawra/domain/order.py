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
from dawra.domain.errors import IllegalTransition, PaymentInvariantBroken
from dawra.domain.money import Money, split_amount
from dawra.domain.shipment import Shipment, ShipmentLine, ShipmentStatus
from dawra.domain.timeline import TimelineEvent, TimelineKind, timeline_event_id
from dawra.domain.tracking import TrackingEvent, TrackingStatus


class OrderStatus(enum.StrEnum):
    CONFIRMED = "CONFIRMED"  # placed and paid (authorised)
    ALLOCATED = "ALLOCATED"  # stock reserved, one shipment per location
    SHIPPED = "SHIPPED"  # at least one shipment handed to a carrier
    NEEDS_ATTENTION = "NEEDS_ATTENTION"  # the automation stopped; a person decides what happens next
    COMPLETED = "COMPLETED"  # every shipment delivered
    CANCELLED = "CANCELLED"  # nothing shipped; stock released, payment voided


class OrderEvent(enum.StrEnum):
    RESERVE_STOCK = "reserve_stock"
    SHIP = "ship"
    COMPLETE = "complete"
    CANCEL = "cancel"
    ASK_A_PERSON = "ask_a_person"


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[OrderStatus]
    to: OrderStatus


S = OrderStatus
# The lifecycle in one screen: event -> the statuses it may happen in -> the status it leads to.
TRANSITIONS: dict[OrderEvent, Transition] = {
    OrderEvent.RESERVE_STOCK: Transition(frozenset({S.CONFIRMED}), S.ALLOCATED),
    OrderEvent.SHIP: Transition(frozenset({S.ALLOCATED, S.SHIPPED}), S.SHIPPED),
    OrderEvent.COMPLETE: Transition(frozenset({S.SHIPPED, S.NEEDS_ATTENTION}), S.COMPLETED),
    OrderEvent.CANCEL: Transition(frozenset({S.CONFIRMED, S.ALLOCATED, S.NEEDS_ATTENTION}), S.CANCELLED),
    OrderEvent.ASK_A_PERSON: Transition(frozenset({S.CONFIRMED, S.ALLOCATED, S.SHIPPED}), S.NEEDS_ATTENTION),
}
INITIAL = OrderStatus.CONFIRMED
TERMINAL: frozenset[OrderStatus] = frozenset(
    status for status in OrderStatus if not any(status in t.allowed_from for t in TRANSITIONS.values()))


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
    def wanted(self) -> dict[str, int]:
        return {line.sku: line.quantity for line in self.lines}

    # --- the business ---------------------------------------------------------------------------------------------
    @classmethod
    def place(cls, *, order_id: str, customer_id: str, placed_at: str, promised_by: str, contact: Contact,
              shipping_address: Address, shipping_method: str, lines: list[OrderLine], totals: Totals,
              payment: PaymentState) -> Order:
        order = cls(order_id=order_id, customer_id=customer_id, status=INITIAL, placed_at=placed_at,
                    promised_by=promised_by, contact=contact, shipping_address=shipping_address,
                    shipping_method=shipping_method, lines=lines, totals=totals, payment=payment)
        order._record(TimelineKind.ORDER_CONFIRMED, placed_at)
        return order

    def reserve(self, picks: list[Pick], shipment_id_for: Callable[[str, str], str], at: str) -> list[Shipment]:
        """Stock is held for every line: one shipment per location, each with its share of the total."""
        by_location: dict[str, list[Pick]] = {}
        for pick in picks:
            by_location.setdefault(pick.location_id, []).append(pick)
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
        return list(self.shipments)

    def ensure_can_ship(self, shipment_id: str) -> Shipment:
        shipment = self.shipment(shipment_id)
        if not self.can(OrderEvent.SHIP):
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.SHIP.value)
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
        if not self.shipments or not all(s.is_delivered for s in self.shipments):
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
        self.cancellation_reason = reason
        self._record(TimelineKind.ORDER_CANCELLED, at, reason=reason)
        return refund

    def ask_a_person(self, reason: str, at: str) -> None:
        """The automation stops here: an operator sees the order and the reason."""
        self.apply(OrderEvent.ASK_A_PERSON)
        self.attention_reason = reason
        self._record(TimelineKind.ORDER_NEEDS_ATTENTION, at, reason=reason)


def state_diagram() -> str:
    """The transition table as a Mermaid state diagram (docs/architecture.md embeds it; a test keeps them equal)."""
    lines = ["stateDiagram-v2", f"    [*] --> {INITIAL.value}: place"]
    for event, transition in TRANSITIONS.items():
        for source in (status for status in OrderStatus if status in transition.allowed_from):
            lines.append(f"    {source.value} --> {transition.to.value}: {event.value}")
    lines += [f"    {status.value} --> [*]" for status in OrderStatus if status in TERMINAL]
    return "\n".join(lines)


if __name__ == "__main__":  # python -m dawra.domain.order: the diagram docs/architecture.md embeds
    print(state_diagram())
