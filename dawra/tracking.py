"""Tracking: one ranked status vocabulary for every carrier. Pure.

Progress statuses have a rank and a shipment only ever moves forward through them; side statuses (attempted,
delayed, exception, ...) are recorded on the timeline without moving the shipment."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict


class TrackingStatus(enum.StrEnum):
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    ATTEMPTED = "attempted"
    DELAYED = "delayed"
    EXCEPTION = "exception"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    RETURN_TO_SENDER = "return_to_sender"
    FAILURE = "failure"


PROGRESS_RANK: dict[TrackingStatus, int] = {
    TrackingStatus.LABEL_CREATED: 10,
    TrackingStatus.IN_TRANSIT: 20,
    TrackingStatus.OUT_FOR_DELIVERY: 30,
    TrackingStatus.DELIVERED: 40,
}


def rank(status: str | None) -> int:
    """Rank of a shipment status; 0 for a shipment no carrier has reported on yet."""
    try:
        return PROGRESS_RANK.get(TrackingStatus(status), 0) if status else 0
    except ValueError:
        return 0


def moves_forward(current: str | None, reported: TrackingStatus) -> bool:
    return reported in PROGRESS_RANK and PROGRESS_RANK[reported] > rank(current)


class TrackingEvent(BaseModel):
    """A carrier's report, normalised."""

    model_config = ConfigDict(frozen=True)

    carrier: str
    event_id: str
    tracking_number: str
    status: TrackingStatus
    occurred_at: str  # UTC ISO-8601
    carrier_status: str  # the carrier's own word, kept for support staff
