"""When a message goes out: SMS quiet hours on the customer's clock, and shipped parcels told together. Rules only.

Quiet hours are the merchant's (``sms-quiet-hours``, e.g. ``21:00-08:00``, local time; empty: none). An SMS of a kind
that is not urgent, due inside them, is held until they end. The customer's clock is the country of their phone
number (the SMS reaches them wherever the parcel goes: a gift's address says nothing of the buyer's night), else the
shipping address's country, with that country's fixed UTC offset from the business-day calendars
(dawra/domain/calendars.json). A country without a calendar has no known clock: nothing is held there.

A parcel of an order that has another parcel still to ship, or one that shipped within SHIPPED_TOGETHER of it, is told
about in one message with the others (the shipped digest), a short while later."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from hashlib import sha256

import phonenumbers

from dawra.domain.order import Order
from dawra.domain.promise import Calendars, NoCalendar, default_calendars
from dawra.domain.shipment import ShipmentStatus
from dawra.domain.timeline import TimelineEvent, TimelineKind

# What is sent at any hour: what the customer is waiting for right now (the confirmation or apology seconds after
# checkout, a link or a change they just asked for, or a change of how they are reached, which its owner must hear of
# at once) and what they must act on before the morning may be too late (a courier coming back, a parcel waiting at a
# pickup point). Everything else (shipped, delivered, late, lost, a delivery problem, a parcel on its way back, a
# return settled, the feedback ask) waits for the morning.
URGENT: frozenset[TimelineKind] = frozenset({
    TimelineKind.ORDER_CONFIRMED,
    TimelineKind.COD_CONFIRMATION_REQUESTED,  # unconfirmed in time, the order is cancelled
    TimelineKind.ORDER_CANCELLED,
    TimelineKind.SHIPMENTS_CANCELLED,
    TimelineKind.ADDRESS_CHANGED,
    TimelineKind.CONTACT_CHANGED,
    TimelineKind.ORDER_LINK_REQUESTED,
    TimelineKind.DELIVERY_ATTEMPTED,
    TimelineKind.AVAILABLE_FOR_PICKUP,
    TimelineKind.RETURN_REQUESTED,  # a return the customer just asked for, and the label they are waiting to print
    TimelineKind.RETURN_LABEL_ISSUED,
    TimelineKind.RETURN_PICKUP_CHANGED,  # the new day the customer just chose for the courier
})
# How close together parcels of one order ship to be told about in one message. The digest is sent this long after
# the first of them shipped (at least EventBridge Scheduler's one-minute lead, dawra/contracts/later.py).
SHIPPED_TOGETHER = dt.timedelta(minutes=10)
GONE = frozenset({ShipmentStatus.LOST, ShipmentStatus.RETURNING, ShipmentStatus.RETURNED})
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class QuietHours:
    """A daily span of local time, e.g. 21:00 to 08:00 (across midnight) or 13:00 to 16:00."""

    start: dt.time
    end: dt.time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """``HH:MM-HH:MM`` (24-hour, local time); empty means none. ValueError for anything else, or an empty span."""
        if not text.strip():
            return None
        matched = _HOURS.match(text.strip())
        if matched is None:
            raise ValueError("quiet hours are HH:MM-HH:MM, e.g. 21:00-08:00")
        start_h, start_m, end_h, end_m = map(int, matched.groups())
        quiet = cls(dt.time(start_h, start_m), dt.time(end_h, end_m))
        if quiet.start == quiet.end:
            raise ValueError("quiet hours that start when they end are not a span")
        return quiet

    def contains(self, local: dt.time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # across midnight

    def end_after(self, local: dt.datetime) -> dt.datetime:
        """The first end of the quiet hours after `local` (a local, timezone-aware moment inside them)."""
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        return end if end > local else end + dt.timedelta(days=1)


def customer_country(order: Order) -> str:
    """Where the customer's SMS is read: the phone number's country, else the shipping address's."""
    phone = order.contact.phone
    if phone:
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(phone))
        except phonenumbers.NumberParseException:
            region = None
        if region and region != "ZZ":
            return region
    return order.shipping_address.country


def held_until(order: Order, kind: TimelineKind, channel: str, quiet: QuietHours | None, now: dt.datetime,
               calendars: Calendars | None = None) -> dt.datetime | None:
    """When a message due now may go out instead (UTC), or None if it goes now: only a non-urgent SMS inside the
    quiet hours of the customer's clock is held."""
    if quiet is None or channel != "sms" or kind in URGENT:
        return None
    try:
        calendar = (calendars or default_calendars()).of(customer_country(order))
    except NoCalendar:
        return None  # no known clock: never hold a message on a guess
    local = calendar.local(now)
    if not quiet.contains(local.time()):
        return None
    return quiet.end_after(local).astimezone(dt.UTC)


def shipped_with_others(order: Order, event: TimelineEvent) -> bool:
    """Whether a parcel's shipped message waits to go with its siblings': another parcel of the order has yet to
    ship, or shipped within SHIPPED_TOGETHER of this one. A single parcel, or the last of several shipped long after
    the others, is told about at once."""
    if event.kind != TimelineKind.SHIPMENT_SHIPPED:
        return False
    shipped_at = _moment(event.at)
    replaces = event.detail.get("replaces")
    for other in order.shipments:
        # A cancelled parcel never ships; a lost or returned one (and the one a replacement sends again) is not
        # shipping with anything any more.
        if other.shipment_id in (event.shipment_id, replaces) or other.cancelled or other.status in GONE \
                or other.for_return:  # a return's replacement ships on the return's schedule
            continue
        if not other.has_shipped:
            return True
        if other.label_created_at and abs(_moment(other.label_created_at) - shipped_at) <= SHIPPED_TOGETHER:
            return True
    return False


def _moment(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))


def job_name(prefix: str, *parts: str) -> str:
    """A schedule name for a job about one event (its id holds ':', which names may not): deterministic, 64 chars at
    most."""
    return f"{prefix}-{sha256('#'.join(parts).encode()).hexdigest()[:40]}"
