"""Tracking: one status vocabulary for every carrier. Each carrier adapter maps its own words onto it.

A carrier's clock is not ours: a report dated more than CLOCK_SKEW after we received it, or before the shipment's
label was created, is not believed. Its time is then when we received it, and the report says so (time_trusted)."""

from __future__ import annotations

import enum
import hashlib
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from dawra.domain.money import Money
from dawra.domain.time import iso

CLOCK_SKEW = timedelta(minutes=5)  # how far a carrier's clock may be from ours before its times are not believed


class TrackingStatus(enum.StrEnum):
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    ATTEMPTED = "attempted"
    DELAYED = "delayed"
    EXCEPTION = "exception"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    PICKUP_MISSED = "pickup_missed"  # a courier booked to collect a return parcel did not come
    RETURN_TO_SENDER = "return_to_sender"  # the carrier is taking the parcel back to where it left from
    RETURNED = "returned"  # the parcel is back at the location it left from
    FAILURE = "failure"


class TrackingEvent(BaseModel):
    """A carrier's report, normalised."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    carrier: str
    event_id: str
    tracking_number: str
    status: TrackingStatus
    occurred_at: str  # UTC ISO-8601, as the carrier says
    carrier_status: str  # the carrier's own word, kept for support staff
    location: str | None = None  # where the carrier says it happened (a pickup point, a depot), as it says it
    received_at: str | None = None  # UTC ISO-8601: when the webhook reached us (None: not known)
    # A cash-on-delivery parcel's delivered report: what the courier collected at the door (None: not said).
    cod_collected: Money | None = None

    def believable_time(self, not_before: str | None) -> tuple[str, bool]:
        """(the time to keep this report at, whether it is the carrier's). The carrier's time is not believed when
        it is more than CLOCK_SKEW after we received the report or before `not_before` (the label's creation):
        the report is then kept at when we received it (at `not_before` if that is not known either)."""
        occurred = _utc(self.occurred_at)
        earliest = _utc_or_none(not_before)  # a bound we cannot read bounds nothing
        future = self.received_at is not None and occurred > _utc(self.received_at) + CLOCK_SKEW
        too_early = earliest is not None and occurred < earliest - CLOCK_SKEW
        if future or too_early:
            return self.received_at or not_before or self.occurred_at, False
        return iso(occurred), True

    def known_at(self, at: str) -> str:
        """When we knew what this report says: when it reached us, and never before `at` (its believable time). A
        report that arrives hours late completes its order then, not at the carrier's time, before changes made to
        the order's other parcels meanwhile."""
        if self.received_at is None:
            return at
        return max(at, iso(_utc(self.received_at)), key=_utc)

    @property
    def dedup_key(self) -> str:
        """What makes this report unique: a carrier may reuse its event ids across parcels."""
        return f"{self.carrier}#{self.tracking_number}#{self.event_id}"

    @property
    def digest(self) -> str:
        """The report's dedup key as the parcel keeps it among the reports applied to it (16 hex characters)."""
        return hashlib.sha256(self.dedup_key.encode()).hexdigest()[:16]

    def applied_to(self, reports: list[str]) -> bool:
        """Whether a parcel that kept these digests (`reports`) has had this report applied already."""
        return self.digest in reports

    def kept_with(self, reports: list[str]) -> list[str]:
        """The digests a parcel keeps once this report is applied: the REPORTS_KEPT latest. Carriers redeliver a
        webhook within hours; a copy of a report older than that many later ones is applied by state alone (a
        parcel never moves backwards; a side notice is told once a kind and day)."""
        return [*reports, self.digest][-REPORTS_KEPT:]


REPORTS_KEPT = 32


def _utc(at: str) -> datetime:
    moment = datetime.fromisoformat(at)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _utc_or_none(at: str | None) -> datetime | None:
    try:
        return _utc(at) if at else None
    except ValueError:
        return None
