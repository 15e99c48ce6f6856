"""Stock: reservations per (order, sku, location), the moves that change stock levels, the back office's
adjustments and transfers between locations, and quarantined stock (returned units set aside at inspection).

A reservation is held when an order is allocated, then either shipped (the units left with a parcel: on hand and
reserved go down) or released (the units go back to available). Each move happens at most once."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dawra.domain.errors import DomainError


class ReservationState(enum.StrEnum):
    HELD = "held"
    SHIPPED = "shipped"
    RELEASED = "released"


class Reservation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    order_id: str
    shipment_id: str
    sku: str
    location_id: str
    quantity: int = Field(ge=1)
    state: ReservationState = ReservationState.HELD
    # Held for a replacement (a lost or returned parcel sent again): stored under its shipment too, beside the
    # original's reservation of the same sku at the same location.
    replacement: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        """What tells one reservation of an order from another: (sku, location, the replacement's shipment)."""
        return self.sku, self.location_id, self.shipment_id if self.replacement else ""


class MoveKind(enum.StrEnum):
    HOLD = "hold"  # available -> reserved (only if enough is available)
    CONSUME = "consume"  # reserved -> gone with a parcel (on hand and reserved go down)
    RELEASE = "release"  # reserved -> available again


class HoldCase(enum.StrEnum):
    """Where a hold leaves available against the stock item's reorder point, as planned from the level read. The
    unit of work writes the hold only while the item is still in that case (conditions on available and the reorder
    point, no extra request), so the low-stock alert is decided exactly once even when holds race."""

    UNPLANNED = "unplanned"  # no reorder point on the item
    ABOVE = "above"  # at or above the reorder point after the hold
    CROSSING = "crossing"  # from at or above to below: flag low, alert
    BELOW = "below"  # below before, already flagged low: nothing to say
    BELOW_UNFLAGGED = "below_unflagged"  # below before, not flagged yet: flag low, alert


class HoldWatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    reorder_point: int | None
    case: HoldCase
    left: int  # available after the hold, as planned (what the alert tells)

    @property
    def alerts(self) -> bool:
        return self.case in (HoldCase.CROSSING, HoldCase.BELOW_UNFLAGGED)


def hold_case(available: int, reorder_point: int | None, quantity: int, low: bool) -> HoldCase:
    if reorder_point is None:
        return HoldCase.UNPLANNED
    if available - quantity >= reorder_point:
        return HoldCase.ABOVE
    if available >= reorder_point:
        return HoldCase.CROSSING
    return HoldCase.BELOW if low else HoldCase.BELOW_UNFLAGGED


class StockMove(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    kind: MoveKind
    reservation: Reservation
    # A hold planned against the level read (None: not watched; the item's low flag is left alone).
    watch: HoldWatch | None = None


def hold(reservation: Reservation, level: StockLevel | None = None) -> StockMove:
    """`level`: the stock item as read when planning: the hold is watched against its reorder point."""
    if level is None:
        return StockMove(kind=MoveKind.HOLD, reservation=reservation)
    case = hold_case(level.available, level.reorder_point, reservation.quantity, level.low)
    return StockMove(kind=MoveKind.HOLD, reservation=reservation,
                     watch=HoldWatch(reorder_point=level.reorder_point, case=case,
                                     left=level.available - reservation.quantity))


def consume(reservation: Reservation) -> StockMove:
    if reservation.state != ReservationState.HELD:
        raise ValueError(f"only a held reservation can ship, not a {reservation.state} one")
    return StockMove(kind=MoveKind.CONSUME, reservation=reservation)


def release(reservation: Reservation) -> StockMove:
    if reservation.state != ReservationState.HELD:
        raise ValueError(f"only a held reservation can be released, not a {reservation.state} one")
    return StockMove(kind=MoveKind.RELEASE, reservation=reservation)


class StockLevel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    sku: str
    location_id: str
    on_hand: int
    reserved: int
    available: int
    in_transit: int = 0  # sent here by a transfer, not yet received (not part of on hand)
    # Returned units found damaged or tampered at inspection, set aside here (not part of on hand, never sold) until
    # the warehouse writes them off or releases them to sellable.
    quarantined: int = 0
    # Replenishment (dawra.domain.replenishment): reorder when available drops below `reorder_point`, up to `target`
    # (None: not planned). `low`: a low-stock alert was raised and available has not been written back above since.
    reorder_point: int | None = None
    target: int | None = None
    low: bool = False
    # Orders may be waiting for this sku (backorders, preorders: dawra.app.backorders): stock arriving here looks
    # at its waiting list. Set when an order joins the list, cleared when the list is found empty.
    waiting: bool = False


# --- Stock the back office counts and moves -----------------------------------------------------------------------
# An adjustment (a count, a breakage, goods received from a supplier) changes on hand and available by the same delta;
# units reserved for orders cannot be adjusted away. A transfer leaves the source at once (on hand and available go
# down), is counted in transit at the destination, and arrives there (on hand and available go up) when received.


class StockRefused(DomainError):
    """A stock change the counters or the records do not allow (the message says why)."""


class TransferNotFound(DomainError):
    pass


def counters(level: StockLevel | None) -> dict[str, int]:
    """What an audit entry records of a stock item (all zero when it did not exist)."""
    if level is None:
        return {"on_hand": 0, "reserved": 0, "available": 0, "in_transit": 0, "quarantined": 0}
    return {"on_hand": level.on_hand, "reserved": level.reserved, "available": level.available,
            "in_transit": level.in_transit, "quarantined": level.quarantined}


class CounterChange(BaseModel):
    """One stock item's counters moved from `before` (as read; None: the item does not exist yet) to `after`. The
    unit of work writes it only while the item is still exactly as read, so a change that raced another is refused
    (ConcurrentChange) and decided again on fresh counters: the audit entry's before and after are always true."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    before: StockLevel | None
    after: StockLevel

    @model_validator(mode="after")
    def _same_item(self) -> CounterChange:
        if self.before is not None and (self.before.sku, self.before.location_id) != (self.after.sku,
                                                                                      self.after.location_id):
            raise ValueError("a counter change is about one stock item")
        if min(self.after.on_hand, self.after.reserved, self.after.available, self.after.in_transit,
               self.after.quarantined) < 0:
            raise ValueError("stock counters never go below zero")
        return self


class TransferState(enum.StrEnum):
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    transfer_id: str
    sku: str
    from_location: str
    to_location: str
    quantity: int = Field(ge=1)
    state: TransferState = TransferState.IN_TRANSIT
    reason: str
    sent_at: str  # UTC ISO-8601
    sent_by: str  # the operator's user id
    received_at: str | None = None
    received_by: str | None = None


class TransferMove(BaseModel):
    """A transfer record written: created (expected None: it must not exist) or received (expected in_transit)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    transfer: Transfer
    expected: TransferState | None


# Everything a unit of work can be asked to do to stock, one closed union.
StockChange = StockMove | CounterChange | TransferMove


def _moved(level: StockLevel, **deltas: int) -> StockLevel:
    moved = level.model_copy(update={name: getattr(level, name) + delta for name, delta in deltas.items()})
    return moved.model_copy(update={"low": is_low(moved)})


def is_low(level: StockLevel) -> bool:
    """Available is below the reorder point (never, without one)."""
    return level.reorder_point is not None and level.available < level.reorder_point


def may_serve_waiters(change: CounterChange) -> bool:
    """The change made units available of a sku orders may be waiting for: a stock item carrying the waiting flag,
    or a new one (created where the sku was never kept: its list is looked at). Nothing for any other change."""
    gained = change.after.available - (change.before.available if change.before else 0)
    return gained > 0 and (change.before is None or change.before.waiting or change.after.waiting)


def crossed_below(change: CounterChange) -> bool:
    """The change takes available below the reorder point from at or above it, or from a level not yet flagged low:
    the low-stock alert fires (once; again only after available was back at or above the reorder point). A `low`
    flag left set while available is at or above the reorder point (releases do not write it) counts as recovered."""
    before, after = change.before, change.after
    if not is_low(after):
        return False
    return before is None or not before.low or not is_low(before)


def empty_level(sku: str, location_id: str) -> StockLevel:
    return StockLevel(sku=sku, location_id=location_id, on_hand=0, reserved=0, available=0)


def adjust(level: StockLevel | None, sku: str, location_id: str, delta: int) -> CounterChange:
    """On hand and available change by `delta`. Refused when available would go below zero (reserved units belong
    to orders) or when there is nothing to take from. `level` None: no stock item yet (a positive delta creates it)."""
    if delta == 0:
        raise StockRefused("an adjustment must change the stock: delta is 0", field="delta")
    if level is None and delta < 0:
        raise StockRefused(f"there is no stock of {sku} at {location_id} to take {-delta} from", field="delta")
    current = level or empty_level(sku, location_id)
    if current.available + delta < 0:
        raise StockRefused(
            f"{sku} at {location_id}: {current.available} available ({current.reserved} reserved for orders); "
            f"cannot take away {-delta}", field="delta")
    return CounterChange(before=level, after=_moved(current, on_hand=delta, available=delta))


def send(transfer: Transfer, source: StockLevel | None,
         destination: StockLevel | None) -> tuple[CounterChange, CounterChange, TransferMove]:
    """The units leave the source (on hand and available go down) and are in transit at the destination."""
    if transfer.from_location == transfer.to_location:
        raise StockRefused("a transfer goes from one location to another", field="to_location")
    if source is None or source.available < transfer.quantity:
        available = source.available if source else 0
        raise StockRefused(f"{transfer.sku} at {transfer.from_location}: {available} available, cannot send "
                           f"{transfer.quantity}", field="quantity")
    q = transfer.quantity
    # A new stock item at the destination carries the source's waiting flag: its arrival looks at the list too.
    arriving = destination or empty_level(transfer.sku, transfer.to_location).model_copy(
        update={"waiting": source.waiting})
    return (CounterChange(before=source, after=_moved(source, on_hand=-q, available=-q)),
            CounterChange(before=destination, after=_moved(arriving, in_transit=q)),
            TransferMove(transfer=transfer, expected=None))


def receive(transfer: Transfer, destination: StockLevel | None, at: str,
            by: str) -> tuple[CounterChange, TransferMove]:
    """The units arrive: in transit goes down, on hand and available go up. Once per transfer."""
    if transfer.state != TransferState.IN_TRANSIT:
        raise StockRefused(f"transfer {transfer.transfer_id} was already received ({transfer.received_at})")
    q = transfer.quantity
    if destination is None or destination.in_transit < q:
        raise StockRefused(f"{transfer.sku} at {transfer.to_location} does not show {q} in transit")
    received = transfer.model_copy(update={"state": TransferState.RECEIVED, "received_at": at, "received_by": by})
    return (CounterChange(before=destination, after=_moved(destination, in_transit=-q, on_hand=q, available=q)),
            TransferMove(transfer=received, expected=TransferState.IN_TRANSIT))


# --- Quarantined stock ----------------------------------------------------------------------------------------------
# A return's units come back to the location that received it: sellable ones on hand and available; damaged or
# tampered ones (unless the inspector wrote them off there and then) quarantined, counted apart from on hand. The
# warehouse later writes quarantined units off (gone) or releases them to sellable (repaired, re-checked: on hand and
# available). Quarantined units never go below zero.


def take_back(level: StockLevel | None, sku: str, location_id: str, *, sellable: int = 0,
              quarantined: int = 0) -> CounterChange:
    """A return's inspected units arrive at `location_id`: `sellable` on hand and available, `quarantined` set aside.
    `level` None: the sku was never kept there (the stock item is created)."""
    if sellable < 0 or quarantined < 0 or sellable + quarantined == 0:
        raise ValueError("a return gives back at least one unit, and no negative count")
    current = level or empty_level(sku, location_id)
    return CounterChange(before=level, after=_moved(current, on_hand=sellable, available=sellable,
                                                    quarantined=quarantined))


def _quarantined(level: StockLevel | None, sku: str, location_id: str, quantity: int, doing: str) -> StockLevel:
    if quantity < 1:
        raise StockRefused(f"{doing} at least one unit", field="quantity")
    if level is None or level.quarantined < quantity:
        held = level.quarantined if level else 0
        raise StockRefused(f"{sku} at {location_id}: {held} quarantined, cannot {doing} {quantity}", field="quantity")
    return level


def write_off(level: StockLevel | None, sku: str, location_id: str, quantity: int) -> CounterChange:
    """Quarantined units are gone (beyond repair, destroyed, sent back to the supplier): quarantined goes down."""
    current = _quarantined(level, sku, location_id, quantity, "write off")
    return CounterChange(before=level, after=_moved(current, quarantined=-quantity))


def release_quarantined(level: StockLevel | None, sku: str, location_id: str, quantity: int) -> CounterChange:
    """Quarantined units are sellable after all (repaired, re-checked): quarantined down, on hand and available up."""
    current = _quarantined(level, sku, location_id, quantity, "release")
    return CounterChange(before=level, after=_moved(current, quarantined=-quantity, on_hand=quantity,
                                                    available=quantity))
