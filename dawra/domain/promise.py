"""Delivery promises: the day by which a parcel leaving a location reaches the customer, in business days.

A shipment's promise is counted in three steps:
1. **Start**: the location starts on the day the order was placed (its local day) if that is a business day there and
   the order came before the location's daily cut-off; otherwise on its next business day.
2. **Handling**: it hands the parcel to the carrier `handling_days` business days later (0: on the start day).
3. **Transit**: the carrier's service level for the shipping method, in business days of the destination country
   (more when the parcel crosses a border); the promise is the last of those days.

Weekends and public holidays differ by country (Friday and Saturday in Saudi Arabia, Saturday and Sunday in the
UAE); they are data, `calendars.json` beside this module, validated when first read. Islamic holidays in it are
estimates the merchant corrects once they are announced. Everything here is pure but that one read."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from dawra.domain.allocation import Location
from dawra.domain.order import Order

CALENDARS_FILE = Path(__file__).with_name("calendars.json")
MAX_SEARCH_DAYS = 366  # no calendar the validator admits keeps a business day further away than this


class Weekday(enum.StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"


WEEKDAYS = tuple(Weekday)  # in date.weekday() order (Monday = 0)


class NoCalendar(ValueError):
    """No calendar for a country: promises there cannot be counted (the merchant's data must add it)."""


class Holiday(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    date: dt.date
    name: str = Field(min_length=1, max_length=100)
    estimated: bool = False  # a lunar date, announced shortly before: the merchant confirms it


class CountryCalendar(BaseModel):
    """One country's working week, clock and public holidays."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    name: str
    utc_offset: str = Field(pattern=r"^[+-](0\d|1[0-4]):[0-5]\d$")  # none of the Gulf countries keeps summer time
    weekend: frozenset[Weekday] = Field(max_length=3)
    holidays: tuple[Holiday, ...] = ()

    _days_off: frozenset[dt.date] = PrivateAttr(default=frozenset())
    _weekend_days: frozenset[int] = PrivateAttr(default=frozenset())

    @model_validator(mode="after")
    def _one_entry_per_day(self) -> CountryCalendar:
        days = [holiday.date for holiday in self.holidays]
        repeated = sorted({day for day in days if days.count(day) > 1})
        if repeated:
            raise ValueError(f"holidays listed twice: {', '.join(map(str, repeated))}")
        return self

    def model_post_init(self, context: object, /) -> None:
        self._days_off = frozenset(holiday.date for holiday in self.holidays)
        self._weekend_days = frozenset(WEEKDAYS.index(day) for day in self.weekend)

    @property
    def offset(self) -> dt.timedelta:
        sign = -1 if self.utc_offset.startswith("-") else 1
        hours, minutes = self.utc_offset[1:].split(":")
        return sign * dt.timedelta(hours=int(hours), minutes=int(minutes))

    def local(self, moment: dt.datetime) -> dt.datetime:
        """A moment on this country's clock."""
        if moment.tzinfo is None:
            raise ValueError("a moment without a time zone cannot be placed on a country's clock")
        return moment.astimezone(dt.timezone(self.offset))

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() not in self._weekend_days and day not in self._days_off

    def on_or_after(self, day: dt.date) -> dt.date:
        """`day` if it is a business day, else the next one."""
        for _ in range(MAX_SEARCH_DAYS):
            if self.is_business_day(day):
                return day
            day += dt.timedelta(days=1)
        raise ValueError(f"{self.name} has no business day within {MAX_SEARCH_DAYS} days of {day}")

    def next_business_day(self, day: dt.date) -> dt.date:
        return self.on_or_after(day + dt.timedelta(days=1))

    def add(self, day: dt.date, business_days: int) -> dt.date:
        """The `business_days`-th business day after `day` (0: `day` itself if it is one, else the next one)."""
        if business_days < 0:
            raise ValueError("business days are counted forwards")
        day = self.on_or_after(day)
        for _ in range(business_days):
            day = self.next_business_day(day)
        return day


class Calendars(BaseModel):
    """Every country's calendar, for the years the holidays cover."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    about: str = ""
    years: tuple[int, ...] = Field(min_length=1)
    countries: dict[str, CountryCalendar]

    @model_validator(mode="after")
    def _holidays_within_the_years(self) -> Calendars:
        for code, calendar in self.countries.items():
            if len(code) != 2 or not code.isascii() or not code.isupper():
                raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
            outside = [str(h.date) for h in calendar.holidays if h.date.year not in self.years]
            if outside:
                raise ValueError(f"{code}: holidays outside the years covered ({self.years}): {', '.join(outside)}")
        return self

    def of(self, country: str) -> CountryCalendar:
        calendar = self.countries.get(country)
        if calendar is None:
            raise NoCalendar(f"no business-day calendar for {country}")
        return calendar

    def covers(self, day: dt.date) -> bool:
        """Whether the holidays of `day`'s year are known (past them, only weekends are counted)."""
        return day.year in self.years


@cache
def default_calendars() -> Calendars:
    """The calendars shipped with the package, read and validated once per process."""
    return Calendars.model_validate_json(CALENDARS_FILE.read_text(encoding="utf-8"))


class ServiceLevels(BaseModel):
    """The carrier's transit times: business days of the destination country per shipping method, and the days a
    parcel crossing a border takes on top."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    transit_days: dict[str, int] = {"standard": 4, "express": 1, "pickup": 0}  # pickup: ready on its dispatch day
    cross_border_days: int = Field(default=2, ge=0)

    def transit(self, shipping_method: str, origin: str, destination: str) -> int:
        if shipping_method not in self.transit_days:
            raise ValueError(f"no service level for shipping method {shipping_method!r}")
        return self.transit_days[shipping_method] + (0 if origin == destination else self.cross_border_days)


DEFAULT_SERVICE_LEVELS = ServiceLevels()


def handling_starts(placed_at: dt.datetime, location: Location, calendar: CountryCalendar) -> dt.date:
    """The location's first working day on the order: the order's own local day if it is a business day there and
    the order came before the cut-off, else the next business day."""
    local = calendar.local(placed_at)
    if calendar.is_business_day(local.date()) and local.time() < location.cutoff:
        return local.date()
    return calendar.next_business_day(local.date())


def dispatch_day(placed_at: dt.datetime, location: Location, calendars: Calendars | None = None) -> dt.date:
    """The day the location hands the parcel to the carrier."""
    at_location = (calendars or default_calendars()).of(location.country)
    return at_location.add(handling_starts(placed_at, location, at_location), location.handling_days)


def promise_for(placed_at: dt.datetime, location: Location, destination: str, shipping_method: str, *,
                levels: ServiceLevels = DEFAULT_SERVICE_LEVELS, calendars: Calendars | None = None) -> dt.date:
    """The day a parcel for an order placed at `placed_at` (aware), leaving `location` for `destination` (ISO
    country) by `shipping_method`, is promised by: the location's start day and handling days in its country's
    business days, then the carrier's transit days in the destination's."""
    calendars = calendars or default_calendars()
    transit = levels.transit(shipping_method, location.country, destination)
    return calendars.of(destination).add(dispatch_day(placed_at, location, calendars), transit)


def latest_promise(placed_at: dt.datetime, locations: Iterable[Location], destination: str, shipping_method: str, *,
                   levels: ServiceLevels = DEFAULT_SERVICE_LEVELS, calendars: Calendars | None = None) -> dt.date:
    """An order's promise: the latest of its shipments' (its parcels arrive when the last one does)."""
    promises = [promise_for(placed_at, location, destination, shipping_method, levels=levels, calendars=calendars)
                for location in locations]
    if not promises:
        raise ValueError("a promise needs at least one location to ship from")
    return max(promises)


def promises_for(order: Order, locations: Iterable[Location], *, levels: ServiceLevels = DEFAULT_SERVICE_LEVELS,
                 calendars: Calendars | None = None) -> dict[str, str]:
    """Each location's promise (UTC date, ISO) for an order, counted from when it was placed: the cut-off the
    customer beat at checkout still counts when the reservation runs a little later. A location or destination
    without a calendar gets none (the order's estimate from checkout stands): a promise never stops an order."""
    # An order that waited for stock (a backorder, a preorder) is counted from the day the stock was due.
    placed_at = counted_from(dt.datetime.fromisoformat(order.placed_at), order.awaiting.due if order.awaiting else None)
    promised: dict[str, str] = {}
    for location in locations:
        try:
            promised[location.location_id] = promise_for(
                placed_at, location, order.shipping_address.country, order.shipping_method, levels=levels,
                calendars=calendars).isoformat()
        except NoCalendar:
            continue
    return promised


def counted_from(placed_at: dt.datetime, due: dt.date | None) -> dt.datetime:
    """When a promise is counted from: the order's placing, or, for an order waiting for stock (a backorder's
    restock date, a preorder's release date), the start of that day (UTC) if it is later. The locations then work,
    hand over and the carrier delivers as for an order placed that day."""
    if due is None:
        return placed_at
    return max(placed_at, dt.datetime.combine(due, dt.time(0, 0), tzinfo=dt.UTC))


def awaited_promise(placed_at: dt.datetime, due: dt.date, locations: Iterable[Location], destination: str,
                    shipping_method: str, *, levels: ServiceLevels = DEFAULT_SERVICE_LEVELS,
                    calendars: Calendars | None = None) -> dt.date:
    """The promise of an order waiting for stock due on `due`: the latest of the locations', counted from that day."""
    return latest_promise(counted_from(placed_at, due), locations, destination, shipping_method, levels=levels,
                          calendars=calendars)
