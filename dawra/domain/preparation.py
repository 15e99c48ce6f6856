"""Pick and pack: how a shipment is prepared before the carrier takes it. Pure.

A location says how (`Location.preparation`): "immediate" (the default: the label is booked at once, the location's
own system picks and packs; nothing here applies), "pick_pack" (staff confirm picked, then packed, in the console) or
"partner" (a 3PL or dropshipper gets the shipment by a signed webhook and confirms packed by a signed callback). A
line whose catalog item needs work (engraving, assembly) gives its shipment a work task, which must be done before it
is packed; such a shipment waits for packing even at an "immediate" location (as "pick_pack": staff pack it).

It is decided when the stock is reserved and kept on the shipment (so ShipShipment reads no location), together with
when it is due to be packed: the location's SLA from then. An ordinary shipment keeps none of it (nothing stored)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from dawra.domain.allocation import Location
from dawra.domain.time import iso

PICK_PACK, PARTNER = "pick_pack", "partner"


class Preparation(BaseModel):
    """What a shipment's location asks of it before it is booked: who prepares it and by when."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    how: str  # pick_pack | partner
    prepare_by: str  # UTC ISO-8601: past it, operations are alerted (once)


def preparation_for(location: Location, needs_work: bool, reserved_at: str) -> Preparation | None:
    """None for an ordinary shipment: an "immediate" location and no work on its lines."""
    how = location.preparation if location.preparation != "immediate" else PICK_PACK if needs_work else None
    if how is None:
        return None
    due = datetime.fromisoformat(reserved_at) + timedelta(hours=location.pack_within_hours)
    return Preparation(how=how, prepare_by=iso(due))


def work_task_id(shipment_id: str, sku: str) -> str:
    """The same on every retry of the reservation: derived from the shipment and the line."""
    return "wt_" + hashlib.sha256(f"{shipment_id}|{sku}".encode()).hexdigest()[:16]


def wait_seconds(prepare_by: str | None, now: datetime, at_least: int = 1) -> int:
    """How long WaitForPacking waits before PackingLate: until the shipment is due (at least `at_least`)."""
    if prepare_by is None:
        return at_least
    return max(at_least, int((datetime.fromisoformat(prepare_by) - now).total_seconds()))
