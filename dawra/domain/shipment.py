"""A shipment: the part of an order that leaves from one location, with its own table of statuses.

`SHIPMENT_TRANSITIONS` is the one table of which event may follow which status, as the order's is for orders, and
`Shipment.apply` the only way a status changes. Its progress only moves forward: allocated < label_created <
in_transit < out_for_delivery < delivered; a delivered parcel stays delivered whatever the carrier says next. Off
that line: the carrier takes it back (returning, then returned: back at its location), or we declare it lost once it
is long past its promise. A lost or returning parcel the carrier then delivers is delivered (the carrier's word about
a real delivery beats our declaration); a returned one stays returned. Carrier reports of side statuses (attempted,
exception, available for pickup, delayed) move nothing."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field

from dawra.domain.cod import CodRemittance
from dawra.domain.money import Money
from dawra.domain.pickup import PickupState
from dawra.domain.tracking import TrackingStatus


class ShipmentStatus(enum.StrEnum):
    ALLOCATED = "allocated"
    PICKED = "picked"  # the warehouse took its units off the shelves (pick and pack: dawra.domain.preparation)
    PACKED = "packed"  # boxed and ready for the carrier: ShipShipment books it now
    READY_FOR_PICKUP = "ready_for_pickup"  # store pickup: on the store's desk, waiting for the customer (its code)
    COLLECTED = "collected"  # store pickup: handed to the customer at the store (as good as delivered)
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    RETURNING = "returning"  # the carrier is taking it back to the location it left from
    RETURNED = "returned"  # back at that location: its units are on hand there again
    LOST = "lost"  # declared lost in transit: undelivered long past its promise


class ShipmentEvent(enum.StrEnum):
    PICK = "pick"  # the warehouse confirms its units are picked
    PACK = "pack"  # the warehouse (or the partner: a 3PL, a dropshipper) confirms it is packed
    BOOK = "book"  # a label exists: the parcel is handed to the carrier
    READY = "ready"  # store pickup: staff put it on the desk (dawra.domain.pickup)
    COLLECT = "collect"  # store pickup: the customer gave the code and took it
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVER = "deliver"
    RETURN_TO_SENDER = "return_to_sender"
    RETURN_ARRIVED = "return_arrived"
    DECLARE_LOST = "declare_lost"


class Settlement(enum.StrEnum):
    """How a lost or returned parcel was settled: the merchant's policy, or a person when it could not apply."""

    RESHIP = "reship"  # the same lines sent again as a new shipment of the same order, at no charge
    REFUND = "refund"  # the shipment's captured share refunded
    AGENT = "agent"  # handed to a person (the order needs attention)


St, Ev = ShipmentStatus, ShipmentEvent
MOVING = frozenset({St.LABEL_CREATED, St.IN_TRANSIT, St.OUT_FOR_DELIVERY})  # with the carrier, on its way
# Still in the building: nothing about it has reached the customer, so it may be cancelled or changed.
NOT_LEFT = frozenset({St.ALLOCATED, St.PICKED, St.PACKED, St.READY_FOR_PICKUP})  # on a store's desk: still ours
# The shipment's lifecycle in one screen: event -> (the statuses it may happen in, the status it leads to).
SHIPMENT_TRANSITIONS: dict[ShipmentEvent, tuple[frozenset[ShipmentStatus], ShipmentStatus]] = {
    Ev.PICK: (frozenset({St.ALLOCATED}), St.PICKED),
    Ev.PACK: (frozenset({St.ALLOCATED, St.PICKED}), St.PACKED),  # a partner confirms packed without a picked step
    Ev.BOOK: (frozenset({St.ALLOCATED, St.PACKED}), St.LABEL_CREATED),
    Ev.READY: (frozenset({St.ALLOCATED, St.PICKED, St.PACKED}), St.READY_FOR_PICKUP),
    Ev.COLLECT: (frozenset({St.READY_FOR_PICKUP}), St.COLLECTED),
    Ev.IN_TRANSIT: (frozenset({St.LABEL_CREATED}), St.IN_TRANSIT),
    Ev.OUT_FOR_DELIVERY: (frozenset({St.LABEL_CREATED, St.IN_TRANSIT}), St.OUT_FOR_DELIVERY),
    Ev.DELIVER: (MOVING | {St.RETURNING, St.LOST}, St.DELIVERED),
    Ev.RETURN_TO_SENDER: (MOVING, St.RETURNING),
    Ev.RETURN_ARRIVED: (MOVING | {St.RETURNING, St.LOST}, St.RETURNED),
    Ev.DECLARE_LOST: (MOVING | {St.RETURNING}, St.LOST),
}
# A carrier's report -> the event it is for its shipment (side statuses are none: they move nothing).
REPORTED: dict[TrackingStatus, ShipmentEvent] = {
    TrackingStatus.IN_TRANSIT: Ev.IN_TRANSIT,
    TrackingStatus.OUT_FOR_DELIVERY: Ev.OUT_FOR_DELIVERY,
    TrackingStatus.DELIVERED: Ev.DELIVER,
    TrackingStatus.RETURN_TO_SENDER: Ev.RETURN_TO_SENDER,
    TrackingStatus.RETURNED: Ev.RETURN_ARRIVED,
}


class IllegalShipmentTransition(ValueError):
    """A shipment event its status does not allow (a bug in the caller: use cases check `can` first)."""


class ShipmentLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    sku: str
    quantity: int = Field(ge=1)


class WorkTask(BaseModel):
    """Work a line needs before its shipment can be packed (a personalised or assembled item): the warehouse marks it
    done in the console. Its id is the shipment's and the sku's, so it is the same on every retry."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, defer_build=True)

    task_id: str = Field(pattern=r"^wt_[a-f0-9]{16}$")
    sku: str
    kind: str = Field(pattern=r"^(engraving|assembly)$")
    quantity: int = Field(ge=1)
    done_at: str | None = None
    done_by: str | None = None  # the operator's user id


class Shipment(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, defer_build=True)

    shipment_id: str
    order_id: str
    location_id: str
    lines: list[ShipmentLine]
    amount: Money  # this shipment's share of the order total, captured when it ships
    status: ShipmentStatus = ShipmentStatus.ALLOCATED
    carrier: str | None = None
    tracking_number: str | None = None
    label_url: str | None = None
    last_tracking_at: str | None = None
    delivered_at: str | None = None
    # UTC date (YYYY-MM-DD) its delivery is promised by, set when its stock is reserved (dawra.domain.promise);
    # None on shipments reserved before promises were per shipment (the order's promised_by stands for them).
    promised_by: str | None = None
    # Opaque handle the workflow waits on while the parcel travels (a Step Functions task token); never shown.
    resume_token: str | None = None
    cancelled: bool = False  # every line of it was cancelled before it left: it never ships
    capture_round: int = 0  # captures given back before it shipped (a hold or a change raced the shipping)
    label_created_at: str | None = None  # when it was booked (None on shipments booked before this was kept)
    delayed_at: str | None = None  # when the customer was told it is late (once)
    last_notice: str | None = None  # "<kind>:<UTC day>" of the last carrier side report the customer was told about
    reports: list[str] = Field(default_factory=list)  # digests of the carrier reports applied (TrackingEvent.kept_with)
    settlement: Settlement | None = None  # how it was settled once lost or returned
    replaces: str | None = None  # the lost or returned shipment this one sends again (nothing captured for it)
    replaced_by: str | None = None  # the shipment that sends this one's lines again
    # The return whose replacement this is (an exchange's other size or variant): it belongs to that return and its
    # workflow, never to the order's own lifecycle; nothing is captured for it (dawra.domain.returns).
    for_return: str | None = None
    # Cash on delivery (dawra.domain.cod): what the carrier's delivered report said the courier collected, when the
    # courier remitted it (and how much, its fee, the file), and when it was flagged as not remitted in time.
    cod_collected: Money | None = None
    cod_collected_at: str | None = None
    cod_remittance: CodRemittance | None = None
    cod_overdue_at: str | None = None
    # Pick and pack (dawra.domain.preparation), all None on an ordinary shipment (booked at once): how it is prepared
    # ("pick_pack": staff confirm in the console; "partner": a 3PL or dropshipper, by signed callback), by when
    # (its location's SLA, from when it was reserved), the work its lines need first (engraving, assembly), when
    # it was picked and packed, when operations were told it is late (once), when it was sent to the partner, and
    # the partner's own tracking number, if it gave one.
    preparation: str | None = Field(default=None, pattern=r"^(pick_pack|partner)$")
    prepare_by: str | None = None
    work_tasks: list[WorkTask] | None = None
    picked_at: str | None = None
    packed_at: str | None = None
    packing_late_at: str | None = None
    partner_sent_at: str | None = None
    partner_tracking: str | None = None
    # Store pickup (dawra.domain.pickup), None on every other shipment: the store's desk, its code and its dates.
    pickup: PickupState | None = None
    version: int = 0

    @property
    def has_shipped(self) -> bool:
        """It left the building: from here on, nothing about it is undone automatically."""
        return self.status not in NOT_LEFT

    @property
    def waits_for_packing(self) -> bool:
        """Someone prepares it before the carrier takes it (staff, a partner, or work its lines need), and it is not
        packed yet: ShipShipment books nothing until it is."""
        if self.pickup is not None:  # store pickup: until staff mark it ready (whatever picking it had)
            return self.status in (St.ALLOCATED, St.PICKED, St.PACKED)
        return (self.preparation is not None or bool(self.work_tasks)) and self.status in (St.ALLOCATED, St.PICKED)

    @property
    def open_tasks(self) -> list[WorkTask]:
        return [task for task in self.work_tasks or [] if task.done_at is None]

    @property
    def is_delivered(self) -> bool:
        """Delivered by the carrier, or collected at the store (store pickup)."""
        return self.status in (ShipmentStatus.DELIVERED, ShipmentStatus.COLLECTED)

    @property
    def is_moving(self) -> bool:
        """With the carrier on its way to the customer (not delivered, returning, returned or lost)."""
        return self.status in MOVING

    @property
    def is_settled(self) -> bool:
        """Lost or returned, and settled by a replacement or a refund: nothing more is awaited of it."""
        return self.status in (St.LOST, St.RETURNED) and self.settlement in (Settlement.RESHIP, Settlement.REFUND)

    @property
    def is_done(self) -> bool:
        """Nothing more to wait for: delivered, or settled."""
        return self.is_delivered or self.is_settled

    def can(self, event: ShipmentEvent) -> bool:
        return self.status in SHIPMENT_TRANSITIONS[event][0]

    def apply(self, event: ShipmentEvent) -> ShipmentStatus:
        """The one way a shipment's status changes."""
        allowed_from, to = SHIPMENT_TRANSITIONS[event]
        if self.status not in allowed_from:
            raise IllegalShipmentTransition(f"shipment {self.shipment_id} is {self.status}: cannot {event}")
        self.status = to
        return to

    def moves_forward_to(self, reported: TrackingStatus) -> ShipmentStatus | None:
        """The status a carrier report moves this shipment to, or None when its table does not allow it."""
        event = REPORTED.get(reported)
        return SHIPMENT_TRANSITIONS[event][1] if event is not None and self.can(event) else None
