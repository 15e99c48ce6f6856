"""Allocation strategy: where each unit of an order ships from. Pure.

Rule: the fewest shipments (locations) that can cover every line; among equally few, the best location priorities
(lower number = preferred); within the chosen locations each sku is taken from the preferred location first. The
candidate covers and the picks are shared with an order's routing (dawra.domain.routing), whose strategy chain the
merchant configures."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import time
from itertools import combinations
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_EXACT_LOCATIONS = 12  # above this, fall back to a greedy cover (2^12 subsets is still instant)


class PickupDesk(BaseModel):
    """A location where customers collect their orders (click and collect): its opening hours as shown to the
    customer, how many days a ready order waits there, and when the customer is reminded."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    hours: dict[str, str]  # language -> opening hours as the customer reads them ("Sat-Thu 10:00-22:00")
    collect_within_days: int = Field(default=7, ge=1, le=60)  # not collected by then: cancelled, restocked, refunded
    remind_after_days: int = Field(default=3, ge=1, le=60)  # the customer is reminded once, after this many days


class DeliverySlot(BaseModel):
    """A window in which a location's own couriers deliver in its delivery cities, every week on `weekday` (a weekend
    day is a weekend slot): local time, at the location's country's clock."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    start: time
    end: time

    @model_validator(mode="after")
    def _starts_before_it_ends(self) -> DeliverySlot:
        if self.end <= self.start:
            raise ValueError("a delivery slot ends after it starts")
        return self


class Location(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    location_id: str
    name: str
    kind: str  # warehouse | store | 3pl
    priority: int
    region: str
    # What a delivery promise needs (dawra.domain.promise); defaults for locations stored before promises existed.
    country: str = Field(default="SA", pattern=r"^[A-Z]{2}$")  # whose weekends, holidays and clock it works by
    handling_days: int = Field(default=1, ge=0, le=30)  # business days to hand a parcel to the carrier
    cutoff: time = time(14, 0)  # local time: an order after it starts the next business day
    # How a shipment is prepared here before the carrier takes it: "immediate" (the label is booked at once, the
    # location's own system picks and packs), "pick_pack" (warehouse staff confirm picked and packed in the console),
    # "partner" (a 3PL or dropshipper gets the shipment by signed webhook and confirms by callback).
    preparation: str = Field(default="immediate", pattern=r"^(immediate|pick_pack|partner)$")
    # How long a shipment may wait to be packed here (pick_pack or partner, or work its lines need) before operations
    # are alerted (its SLA, counted from when its stock was reserved).
    pack_within_hours: int = Field(default=24, ge=1, le=24 * 30)
    pickup: PickupDesk | None = None  # customers may collect orders here (None: no click and collect)
    # Local delivery (dawra.domain.delivery_options), opt in: the location's city, the cities its own couriers deliver
    # to (matched without regard to case or surrounding spaces; empty: none), same day there for an order before
    # `same_day_cutoff` (its local time; None: no same day) and the weekly slots a customer may book there.
    city: str | None = Field(default=None, max_length=100)
    delivery_cities: tuple[str, ...] = Field(default=(), max_length=50)
    same_day_cutoff: time | None = None
    delivery_slots: tuple[DeliverySlot, ...] = Field(default=(), max_length=28)


class Pick(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    location_id: str
    sku: str
    quantity: int


def plan_allocation(
    wanted: dict[str, int],
    available: dict[tuple[str, str], int],
    locations: list[Location],
) -> list[Pick] | None:
    """Picks covering `wanted` (sku -> quantity) from `available` ((sku, location_id) -> units), or None: the fewest
    locations, then the best priorities (what returns, claims and checkout's estimate use; an order's own
    reservation goes through the merchant's routing chain, dawra.domain.routing)."""
    if not wanted:
        return []
    useful = useful_locations(wanted, available, locations)
    candidates = cover_candidates(wanted, available, useful, smallest_only=True)
    if not candidates:
        return None
    chosen = min(candidates, key=lambda combo: sorted(loc.priority for loc in combo))
    return picks_from(wanted, available, chosen)


def useful_locations(wanted: Mapping[str, int], available: Mapping[tuple[str, str], int],
                     locations: Iterable[Location]) -> list[Location]:
    """The locations holding any wanted sku, preferred first (priority, then id)."""
    ordered = sorted(locations, key=lambda loc: (loc.priority, loc.location_id))
    return [loc for loc in ordered if any(available.get((sku, loc.location_id), 0) > 0 for sku in wanted)]


def covers(wanted: Mapping[str, int], available: Mapping[tuple[str, str], int],
           chosen: tuple[Location, ...]) -> bool:
    return all(sum(available.get((sku, loc.location_id), 0) for loc in chosen) >= qty for sku, qty in wanted.items())


def cover_candidates(wanted: Mapping[str, int], available: Mapping[tuple[str, str], int], useful: list[Location],
                     *, smallest_only: bool) -> list[tuple[Location, ...]]:
    """The sets of `useful` locations (preferred first) that together hold every wanted unit, none with a location it
    could do without; only the smallest ones when `smallest_only`. Bounded: past MAX_EXACT_LOCATIONS useful
    locations, the one greedy cover (or none)."""
    if len(useful) > MAX_EXACT_LOCATIONS:
        greedy = _greedy_cover(dict(wanted), dict(available), useful)
        return [greedy] if greedy is not None and covers(wanted, available, greedy) else []
    found: list[tuple[Location, ...]] = []
    masks: list[int] = []
    for size in range(1, len(useful) + 1):
        if found and smallest_only:
            break
        for combo in combinations(range(len(useful)), size):
            mask = sum(1 << i for i in combo)
            if any(m & mask == m for m in masks):
                continue  # holds a smaller cover: one of its locations would ship nothing needed
            chosen = tuple(useful[i] for i in combo)
            if covers(wanted, available, chosen):
                found.append(chosen)
                masks.append(mask)
    return found


def picks_from(wanted: Mapping[str, int], available: Mapping[tuple[str, str], int],
               chosen: tuple[Location, ...]) -> list[Pick]:
    """Each sku taken from the chosen locations, the preferred one first."""
    picks: list[Pick] = []
    for sku, qty in wanted.items():
        remaining = qty
        for loc in sorted(chosen, key=lambda loc: (loc.priority, loc.location_id)):
            take = min(remaining, available.get((sku, loc.location_id), 0))
            if take:
                picks.append(Pick(location_id=loc.location_id, sku=sku, quantity=take))
                remaining -= take
            if not remaining:
                break
    return picks


def _greedy_cover(
    wanted: dict[str, int], available: dict[tuple[str, str], int], locations: list[Location],
) -> tuple[Location, ...] | None:
    remaining = dict(wanted)
    chosen: list[Location] = []
    pool = list(locations)
    while any(remaining.values()) and pool:
        best = max(
            pool,
            key=lambda loc: (sum(min(q, available.get((s, loc.location_id), 0)) for s, q in remaining.items()),
                             -loc.priority),
        )
        gain = {s: min(q, available.get((s, best.location_id), 0)) for s, q in remaining.items()}
        if not any(gain.values()):
            return None
        chosen.append(best)
        pool.remove(best)
        remaining = {s: q - gain[s] for s, q in remaining.items()}
    return tuple(chosen) if not any(remaining.values()) else None


def group_by_location(picks: list[Pick]) -> dict[str, list[Pick]]:
    grouped: dict[str, list[Pick]] = {}
    for pick in picks:
        grouped.setdefault(pick.location_id, []).append(pick)
    return grouped
