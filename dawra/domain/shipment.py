"""A shipment: the part of an order that leaves from one location, with its own ranked statuses.

A shipment only moves forward: allocated < label_created < in_transit < out_for_delivery < delivered. Carrier
reports of side statuses (attempted, delayed, exception, ...) are recorded without moving it."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field

from dawra.domain.money import Money
from dawra.domain.tracking import TrackingStatus


class ShipmentStatus(enum.StrEnum):
    ALLOCATED = "allocated"
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"


RANK: dict[ShipmentStatus, int] = {status: rank for rank, status in enumerate(ShipmentStatus)}
# A carrier's progress report -> the shipment status it means (side statuses move nothing).
PROGRESS: dict[TrackingStatus, ShipmentStatus] = {
    TrackingStatus.LABEL_CREATED: ShipmentStatus.LABEL_CREATED,
    TrackingStatus.IN_TRANSIT: ShipmentStatus.IN_TRANSIT,
    TrackingStatus.OUT_FOR_DELIVERY: ShipmentStatus.OUT_FOR_DELIVERY,
    TrackingStatus.DELIVERED: ShipmentStatus.DELIVERED,
}


class ShipmentLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str
    quantity: int = Field(ge=1)


class Shipment(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

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
    # Opaque handle the workflow waits on while the parcel travels (a Step Functions task token); never shown.
    resume_token: str | None = None
    cancelled: bool = False  # every line of it was cancelled before it left: it never ships
    capture_round: int = 0  # captures given back before it shipped (a hold or a change raced the shipping)
    version: int = 0

    @property
    def has_shipped(self) -> bool:
        """It left the building: from here on, nothing about it is undone automatically."""
        return self.status != ShipmentStatus.ALLOCATED

    @property
    def is_delivered(self) -> bool:
        return self.status == ShipmentStatus.DELIVERED

    def moves_forward_to(self, reported: TrackingStatus) -> ShipmentStatus | None:
        """The status a carrier report moves this shipment to, or None when it would not move it forward."""
        target = PROGRESS.get(reported)
        return target if target is not None and RANK[target] > RANK[self.status] else None
