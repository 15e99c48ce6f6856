"""The sandbox carrier: deterministic, offline, with a webhook format and signature scheme of its own.

Booking: the tracking number is derived from the shipment id (re-booking the same shipment returns the same
label), ``SBX`` + 12 hex digits.

Webhooks: ``POST /webhooks/carriers/sandbox`` with a JSON body

    {"event_id": "evt-1", "tracking_number": "SBX...", "status": "DELIVERED",
     "occurred_at": "2026-11-23T10:00:00Z", "location": "Riyadh"}

``status`` is one of LABEL_CREATED, PICKED_UP, PICKUP_MISSED, IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED,
DELIVERY_ATTEMPTED, DELAYED, EXCEPTION, READY_FOR_PICKUP, RETURNED_TO_SENDER, RETURN_DELIVERED. What each means, as
tests send them:

    DELIVERY_ATTEMPTED   the courier came and nobody could take the parcel (it tries again)
    EXCEPTION            a problem on the way (address, customs, damage); ``location`` says where
    READY_FOR_PICKUP     waiting at a pickup point: ``location`` is the point's name and address
    RETURNED_TO_SENDER   the parcel is on its way back to the location it left from
    RETURN_DELIVERED     it is back there (the carrier delivered the return to the sender)

Returns: ``book_return`` books a parcel the customer sends back to one of the merchant's locations. Its tracking
number is derived from the return id alone (``SBX`` + 12 hex digits, like an outbound parcel's, from a hash that
cannot coincide with a shipment's), so booking the same return again returns the same tracking number. The label is
valid until the end of the RETURN_LABEL_VALID_DAYS-th day (UTC) after the day it was first booked: a booking repeated
the same day returns the same booking even from another process, and this process also remembers its bookings, as a
carrier does, so a repeat on a later day returns the first booking too. There is no failure input (outbound
booking has none either). Dawra renders the printable label itself (dawra/web/return_label.py).

Courier pickups: ``pickup_days(country, from_day)`` offers the PICKUP_DAYS (5) days after ``from_day`` that are not
a Friday (the weekend day it never collects on), whatever the country, each with two windows, ``morning``
(09:00-13:00) and ``afternoon`` (13:00-17:00), soonest first: from Wednesday 2026-11-25 it offers Thursday 26,
Saturday 28, Sunday 29, Monday 30 November and Tuesday 1 December. ``book_return(..., pickup=slot)`` books the
courier for that slot when it is offered on the day the booking is made; when it is not (the day passed while an
agent approved the return) it books the first offered day in the same window, and the booking says which
(``pickup_on``, ``pickup_window``). ``rebook_pickup(return_id, country, slot, reference)`` moves the courier of a
booked return to another slot it offers on the day it is asked (any other: PickupNotOffered, listing the slots); the
label then stays valid at least until the end of the day after the new day (UTC), longer if it already was; the
same ``reference`` answers the same booking. A courier that did not come is reported as ``PICKUP_MISSED`` (below).

A return parcel is reported through the same webhook, by its tracking number, with the same statuses, from the
customer's side of the journey. What a carrier integrator, the demo or a test sends for a return:

    LABEL_CREATED        the label was booked (nothing moves)
    PICKED_UP            the customer dropped it off, or the courier collected it: "in transit"
    PICKUP_MISSED        the courier booked for a pickup did not come (or could not collect it): the customer is
                         told and may choose another day; nothing moves (after PICKED_UP, or once it arrived, and
                         for the same day again: recorded only)
    IN_TRANSIT           on its way to the merchant's location: "in transit"
    DELIVERED            delivered to the merchant's location (the warehouse or store on the label): "received"
    EXCEPTION            a problem on the way; ``location`` says where
    RETURNED_TO_SENDER / RETURN_DELIVERED   the return could not be delivered and goes back to the customer

for example, in transit then delivered to the warehouse:

    {"event_id": "ret-1", "tracking_number": "SBX...", "status": "IN_TRANSIT", "occurred_at": "2026-11-24T08:00:00Z"}
    {"event_id": "ret-2", "tracking_number": "SBX...", "status": "DELIVERED", "occurred_at": "2026-11-25T11:00:00Z",
     "location": "Riyadh distribution centre"}

or, for a courier pickup booked on Thursday 26 November, the courier not coming that afternoon:

    {"event_id": "ret-0", "tracking_number": "SBX...", "status": "PICKUP_MISSED",
     "occurred_at": "2026-11-26T14:30:00Z"}

Cash on delivery: a ``DELIVERED`` report on a parcel paid in cash at the door may say what the courier collected,
as money in minor units (``cod_collected``, optional; ignored on any other status):

    {"event_id": "evt-9", "tracking_number": "SBX...", "status": "DELIVERED", "occurred_at": "2026-11-25T11:00:00Z",
     "cod_collected": {"amount": 18975, "currency": "SAR"}}

An amount other than the parcel's share of the order (what was due at the door) is flagged to operations; the
first report that says it is kept (a repeat changes nothing).

``occurred_at`` is the carrier's clock: a time more than five minutes after the webhook was received, or before the
parcel's label was created (1970, say), is kept as the time it was received and flagged. The
``X-Carrier-Signature`` header is
``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>``; a signature more than five minutes away
from the time the webhook was received is refused (replay window)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dawra.contracts import webhook
from dawra.contracts.webhook import SIGNATURE_HEADER
from dawra.domain.customer import Address
from dawra.domain.errors import WebhookRejected
from dawra.domain.money import Money
from dawra.domain.returns import PickupSlot, PickupWindow, ReturnMethod, check_pickup, pickup_covered_until
from dawra.domain.time import iso
from dawra.domain.tracking import TrackingEvent, TrackingStatus
from dawra.ports import Booking, ReturnBooking

sign = webhook.sign  # what the carrier puts in X-Carrier-Signature (the demo and tests act as the carrier)
LABEL_BASE_URL = "https://labels.sandbox-carrier.dawra.example"
RETURN_SERVICE = "Sandbox Returns"
RETURN_LABEL_VALID_DAYS = 14
PICKUP_DAYS = 5
NO_PICKUP_WEEKDAY = 4  # Friday (date.weekday())

VOCABULARY: dict[str, TrackingStatus] = {
    "LABEL_CREATED": TrackingStatus.LABEL_CREATED,
    "PICKED_UP": TrackingStatus.IN_TRANSIT,
    "PICKUP_MISSED": TrackingStatus.PICKUP_MISSED,
    "IN_TRANSIT": TrackingStatus.IN_TRANSIT,
    "OUT_FOR_DELIVERY": TrackingStatus.OUT_FOR_DELIVERY,
    "DELIVERED": TrackingStatus.DELIVERED,
    "DELIVERY_ATTEMPTED": TrackingStatus.ATTEMPTED,
    "DELAYED": TrackingStatus.DELAYED,
    "EXCEPTION": TrackingStatus.EXCEPTION,
    "READY_FOR_PICKUP": TrackingStatus.AVAILABLE_FOR_PICKUP,
    "RETURNED_TO_SENDER": TrackingStatus.RETURN_TO_SENDER,
    "RETURN_DELIVERED": TrackingStatus.RETURNED,
}


class SandboxWebhook(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    event_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    tracking_number: str = Field(pattern=r"^SBX[0-9A-F]{12}$")
    status: str
    occurred_at: datetime
    location: str | None = Field(default=None, max_length=200)
    cod_collected: Money | None = None  # DELIVERED, cash on delivery: what the courier collected at the door


def return_tracking_number(return_id: str) -> str:
    """A return parcel's tracking number: its return id's (a different hash input from a shipment's)."""
    return "SBX" + hashlib.sha256(f"return:{return_id}".encode()).hexdigest()[:12].upper()


def _system_now() -> datetime:
    return datetime.now(UTC)


class SandboxCarrier:
    name = "sandbox"

    def __init__(self, now: Callable[[], datetime] = _system_now):
        self._now = now  # the carrier's clock: when a return label was booked, so until when it is valid
        self._returns: dict[str, ReturnBooking] = {}
        self._rebooked: dict[str, ReturnBooking] = {}  # by the reference a pickup was moved under

    def book(self, shipment_id: str, country: str, weight_g: int) -> Booking:
        tracking = "SBX" + hashlib.sha256(shipment_id.encode()).hexdigest()[:12].upper()
        return Booking(tracking_number=tracking, label_url=f"{LABEL_BASE_URL}/{tracking}.pdf")

    def book_return(self, return_id: str, from_address: Address, to_location_id: str,
                    weight_g: int, pickup: PickupSlot | None = None) -> ReturnBooking:
        booked = self._returns.get(return_id)
        if booked is None:
            day = self._now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            courier = self._courier(from_address.country, day.date(), pickup) if pickup else None
            booked = ReturnBooking(carrier=self.name, service=RETURN_SERVICE,
                                   tracking_number=return_tracking_number(return_id),
                                   expires_at=iso(day + timedelta(days=RETURN_LABEL_VALID_DAYS + 1)),
                                   pickup_on=courier.day.isoformat() if courier else None,
                                   pickup_window=courier.window if courier else None)
            self._returns[return_id] = booked
        return booked

    def pickup_days(self, country: str, from_day: date) -> list[PickupSlot]:
        days: list[date] = []
        day = from_day
        while len(days) < PICKUP_DAYS:
            day += timedelta(days=1)
            if day.weekday() != NO_PICKUP_WEEKDAY:
                days.append(day)
        return [PickupSlot(day=d, window=window) for d in days for window in PickupWindow]

    def rebook_pickup(self, return_id: str, country: str, pickup: PickupSlot, reference: str) -> ReturnBooking:
        done = self._rebooked.get(reference)
        if done is not None:
            return done
        check_pickup(ReturnMethod.PICKUP, pickup, self.pickup_days(country, self._now().astimezone(UTC).date()))
        booked = self._returns.get(return_id)
        covered = pickup_covered_until(pickup.day)
        moved = ReturnBooking(carrier=self.name, service=RETURN_SERVICE, tracking_number=return_tracking_number(return_id),
                              expires_at=max(booked.expires_at, covered) if booked else covered,
                              pickup_on=pickup.day.isoformat(), pickup_window=pickup.window)
        self._returns[return_id] = self._rebooked[reference] = moved
        return moved

    def _courier(self, country: str, today: date, asked: PickupSlot) -> PickupSlot:
        offered = self.pickup_days(country, today)
        return asked if asked in offered else next(slot for slot in offered if slot.window == asked.window)

    def verify(self, raw_body: bytes, signature: str | None, secret: bytes, received_at_epoch_ms: int) -> None:
        webhook.verify(raw_body, signature, secret, received_at_epoch_ms, header=SIGNATURE_HEADER)

    def parse(self, raw_body: bytes) -> list[TrackingEvent]:
        try:
            webhook = SandboxWebhook.model_validate(json.loads(raw_body))
        except (ValueError, ValidationError) as exc:
            raise WebhookRejected(f"malformed sandbox webhook: {exc.__class__.__name__}", "shape") from None
        status = VOCABULARY.get(webhook.status)
        if status is None:
            raise WebhookRejected(f"unknown sandbox status {webhook.status!r}", "shape")
        occurred = webhook.occurred_at
        if occurred.tzinfo is None:
            raise WebhookRejected("occurred_at must carry a time zone", "shape")
        return [
            TrackingEvent(
                carrier=self.name,
                event_id=webhook.event_id,
                tracking_number=webhook.tracking_number,
                status=status,
                occurred_at=iso(occurred.astimezone(UTC)),
                carrier_status=webhook.status,
                location=webhook.location,
                cod_collected=webhook.cod_collected if status == TrackingStatus.DELIVERED else None,
            )
        ]
