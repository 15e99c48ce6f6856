"""Tracking: one status vocabulary for every carrier. Each carrier adapter maps its own words onto it."""

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


class TrackingEvent(BaseModel):
    """A carrier's report, normalised."""

    model_config = ConfigDict(frozen=True)

    carrier: str
    event_id: str
    tracking_number: str
    status: TrackingStatus
    occurred_at: str  # UTC ISO-8601
    carrier_status: str  # the carrier's own word, kept for support staff

    @property
    def dedup_key(self) -> str:
        """What makes this report unique: a carrier may reuse its event ids across parcels."""
        return f"{self.carrier}#{self.tracking_number}#{self.event_id}"
