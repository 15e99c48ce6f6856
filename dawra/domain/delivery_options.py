"""Availability for the storefront: per SKU, the units each location has now and has coming (transfers in transit to
it), and the ways the SKU can reach a destination with the earliest date of each. Pure.

The options, each offered only from a location that has the SKU available now (units in transit are shown, never
promised):
- **standard** and **express**: the carrier's, the earliest delivery promise (dawra.domain.promise: the location's
  cut-off, handling days and the business days of both countries) over the locations;
- **same day**: a location whose own couriers deliver in the destination's city (`Location.delivery_cities`), on one
  of its business days, before its same-day cut-off (its local time); the option says the moment to order by;
- **scheduled**: the weekly slots of such a location (`Location.delivery_slots`, weekend slots among them), the first
  ones once the location has handled the order (its dispatch day, as the promise counts it);
- **pickup**: each store with a pickup desk (`Location.pickup`) in the destination's country, ready on its dispatch
  day, with its opening hours; stores in the destination's city first.
A location or destination without a business-day calendar offers nothing a date needs (never an error)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dawra.domain.allocation import DeliverySlot, Location
from dawra.domain.promise import (
    DEFAULT_SERVICE_LEVELS,
    WEEKDAYS,
    Calendars,
    NoCalendar,
    ServiceLevels,
    default_calendars,
    dispatch_day,
    promise_for,
)

OptionKind = Literal["standard", "express", "same_day", "scheduled", "pickup"]
MAX_SKUS = 20  # one question asks about at most this many skus (one BatchGetItem with up to 4 locations)
MAX_AGE_S = 30  # an answer's data is at most this many seconds old (dawra.app.availability keeps it that long)
SLOT_HORIZON_DAYS = 7  # the scheduled option lists the slots of the week from the first one a customer can book


class Destination(BaseModel):
    """Where the customer wants the SKU: a country (ISO 3166-1 alpha-2) and, for local delivery, a city."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    country: str = Field(pattern=r"^[A-Z]{2}$")
    city: str | None = None


class StockHere(BaseModel):
    """One location's units of one SKU: sellable now, and sent to it by transfers not received yet."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    location_id: str
    available: int = 0
    in_transit: int = 0


class LocationAvailability(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    location_id: str
    name: str
    kind: str
    city: str | None
    available: int  # sellable now
    in_transit: int  # on their way here (transfers in transit), not sellable yet


class BookableSlot(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    date: dt.date
    start: dt.time  # the location's local time
    end: dt.time
    weekend: bool  # the day is a weekend day in the location's country


class PickupDetails(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    name: str
    city: str | None
    hours: dict[str, str]  # language -> opening hours as the customer reads them


class DeliveryOption(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    kind: OptionKind
    earliest: dt.date  # delivered (or ready to collect) on this date at the earliest
    location_id: str  # where it would leave from (or be collected)
    order_by: dt.datetime | None = None  # same day: the moment (UTC) an order must be placed before
    slots: tuple[BookableSlot, ...] = ()  # scheduled: the slots of the first week, earliest first
    pickup: PickupDetails | None = None  # pickup: the store


class SkuAvailability(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    sku: str
    known: bool  # False: no such SKU in the catalog (nothing else is said about it)
    available: int  # sellable now, every location together
    in_transit: int  # on their way to a location, every location together
    locations: tuple[LocationAvailability, ...]  # by location priority; only those that hold or expect the SKU
    options: tuple[DeliveryOption, ...]  # standard, express, same day, scheduled, then pickup stores


class AvailabilityAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    destination: Destination
    as_of: dt.datetime  # when the oldest data the answer used was read (UTC)
    age_s: int  # how old that data is, in whole seconds (below max_age_s)
    max_age_s: int
    skus: tuple[SkuAvailability, ...]  # in the order asked


def unknown_sku(sku: str) -> SkuAvailability:
    return SkuAvailability(sku=sku, known=False, available=0, in_transit=0, locations=(), options=())


def availability_of(sku: str, stock: Iterable[StockHere], locations: Sequence[Location], destination: Destination,
                    now: dt.datetime, *, levels: ServiceLevels = DEFAULT_SERVICE_LEVELS,
                    calendars: Calendars | None = None) -> SkuAvailability:
    """A catalog SKU's availability at `now` (aware) for `destination`, from its stock per location."""
    by_id = {location.location_id: location for location in locations}
    held = {here.location_id: here for here in stock if here.location_id in by_id
            and (here.available > 0 or here.in_transit > 0)}
    ordered = sorted((by_id[location_id] for location_id in held), key=lambda loc: (loc.priority, loc.location_id))
    rows = tuple(LocationAvailability(location_id=loc.location_id, name=loc.name, kind=loc.kind, city=loc.city,
                                      available=max(0, held[loc.location_id].available),
                                      in_transit=max(0, held[loc.location_id].in_transit)) for loc in ordered)
    sellable = [loc for loc in ordered if held[loc.location_id].available > 0]
    return SkuAvailability(sku=sku, known=True, available=sum(row.available for row in rows),
                           in_transit=sum(row.in_transit for row in rows), locations=rows,
                           options=tuple(delivery_options(sellable, destination, now, levels=levels,
                                                          calendars=calendars)))


def delivery_options(sellable: Sequence[Location], destination: Destination, now: dt.datetime, *,
                     levels: ServiceLevels = DEFAULT_SERVICE_LEVELS,
                     calendars: Calendars | None = None) -> list[DeliveryOption]:
    """Every option from the locations that have the SKU now (best first within each kind)."""
    calendars = calendars or default_calendars()
    found = [carrier_option(method, sellable, destination, now, levels, calendars)
             for method in ("standard", "express")]
    found += [same_day_option(sellable, destination, now, calendars), scheduled_option(
        sellable, destination, now, calendars)]
    return [option for option in found if option is not None] + pickup_options(sellable, destination, now, calendars)


def carrier_option(method: Literal["standard", "express"], sellable: Sequence[Location], destination: Destination,
                   now: dt.datetime, levels: ServiceLevels, calendars: Calendars) -> DeliveryOption | None:
    """The earliest promise for `method` over the locations (the better priority on a tie)."""
    best: tuple[dt.date, int, str] | None = None
    for location in sellable:
        try:
            day = promise_for(now, location, destination.country, method, levels=levels, calendars=calendars)
        except (NoCalendar, ValueError):  # no calendar, or no service level for the method
            continue
        candidate = (day, location.priority, location.location_id)
        best = candidate if best is None or candidate < best else best
    return None if best is None else DeliveryOption(kind=method, earliest=best[0], location_id=best[2])


def serves(location: Location, destination: Destination) -> bool:
    """The location's own couriers deliver to the destination's city (in its own country)."""
    if destination.city is None or location.country != destination.country:
        return False
    return _city(destination.city) in {_city(city) for city in location.delivery_cities}


def same_day_option(sellable: Sequence[Location], destination: Destination, now: dt.datetime,
                    calendars: Calendars) -> DeliveryOption | None:
    """Same day from the first location (by priority) serving the city whose same-day cut-off has not passed today,
    a business day there; `order_by` is that cut-off."""
    for location in sorted(sellable, key=lambda loc: (loc.priority, loc.location_id)):
        if location.same_day_cutoff is None or not serves(location, destination):
            continue
        try:
            calendar = calendars.of(location.country)
        except NoCalendar:
            continue
        local = calendar.local(now)
        if calendar.is_business_day(local.date()) and local.time() < location.same_day_cutoff:
            cutoff = dt.datetime.combine(local.date(), location.same_day_cutoff, tzinfo=local.tzinfo)
            return DeliveryOption(kind="same_day", earliest=local.date(), location_id=location.location_id,
                                  order_by=cutoff.astimezone(dt.UTC))
    return None


def scheduled_option(sellable: Sequence[Location], destination: Destination, now: dt.datetime,
                     calendars: Calendars) -> DeliveryOption | None:
    """The location serving the city with the earliest bookable slot, and its slots of the week from that one."""
    best: tuple[tuple[dt.date, dt.time, int], Location, list[BookableSlot]] | None = None
    for location in sellable:
        if not location.delivery_slots or not serves(location, destination):
            continue
        try:
            slots = bookable_slots(location, now, calendars)
        except NoCalendar:
            continue
        if slots:
            rank = (slots[0].date, slots[0].start, location.priority)
            best = (rank, location, slots) if best is None or rank < best[0] else best
    if best is None:
        return None
    _, location, slots = best
    return DeliveryOption(kind="scheduled", earliest=slots[0].date, location_id=location.location_id,
                          slots=tuple(slots))


def bookable_slots(location: Location, now: dt.datetime, calendars: Calendars) -> list[BookableSlot]:
    """The location's slots from its dispatch day for an order placed now (a slot today only if it has not started
    yet), over SLOT_HORIZON_DAYS days from the first of them."""
    calendar = calendars.of(location.country)
    local = calendar.local(now)
    ready = dispatch_day(now, location, calendars)
    found: list[BookableSlot] = []
    for offset in range(SLOT_HORIZON_DAYS + 7):
        day = ready + dt.timedelta(days=offset)
        if found and day >= found[0].date + dt.timedelta(days=SLOT_HORIZON_DAYS):
            break
        for slot in sorted(_slots_on(location.delivery_slots, day), key=lambda s: s.start):
            if day == local.date() and slot.start <= local.time():
                continue
            found.append(BookableSlot(date=day, start=slot.start, end=slot.end,
                                      weekend=WEEKDAYS[day.weekday()] in calendar.weekend))
    return found


def pickup_options(sellable: Sequence[Location], destination: Destination, now: dt.datetime,
                   calendars: Calendars) -> list[DeliveryOption]:
    """Each store with a pickup desk in the destination's country, ready on its dispatch day: the destination's
    city first, then the earliest."""
    found: list[tuple[tuple[bool, dt.date, int, str], DeliveryOption]] = []
    for location in sellable:
        if location.pickup is None or location.country != destination.country:
            continue
        try:
            ready = dispatch_day(now, location, calendars)
        except NoCalendar:
            continue
        in_city = destination.city is not None and location.city is not None and \
            _city(location.city) == _city(destination.city)
        option = DeliveryOption(kind="pickup", earliest=ready, location_id=location.location_id, pickup=PickupDetails(
            name=location.name, city=location.city, hours=dict(location.pickup.hours)))
        found.append(((not in_city, ready, location.priority, location.location_id), option))
    return [option for _, option in sorted(found, key=lambda pair: pair[0])]


def _slots_on(slots: Iterable[DeliverySlot], day: dt.date) -> list[DeliverySlot]:
    return [slot for slot in slots if slot.weekday == WEEKDAYS[day.weekday()].value]


def _city(name: str) -> str:
    return " ".join(name.split()).casefold()
