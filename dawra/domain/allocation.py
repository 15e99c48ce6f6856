"""Allocation strategy: where each unit of an order ships from. Pure.

Rule: the fewest shipments (locations) that can cover every line; among equally few, the best location priorities
(lower number = preferred); within the chosen locations each sku is taken from the preferred location first."""

from __future__ import annotations

from datetime import time
from itertools import combinations

from pydantic import BaseModel, ConfigDict, Field

MAX_EXACT_LOCATIONS = 12  # above this, fall back to a greedy cover (2^12 subsets is still instant)


class Location(BaseModel):
    model_config = ConfigDict(frozen=True)

    location_id: str
    name: str
    kind: str  # warehouse | store | 3pl
    priority: int
    region: str
    # What a delivery promise needs (dawra.domain.promise); defaults for locations stored before promises existed.
    country: str = Field(default="SA", pattern=r"^[A-Z]{2}$")  # whose weekends, holidays and clock it works by
    handling_days: int = Field(default=1, ge=0, le=30)  # business days to hand a parcel to the carrier
    cutoff: time = time(14, 0)  # local time: an order after it starts the next business day


class Pick(BaseModel):
    model_config = ConfigDict(frozen=True)

    location_id: str
    sku: str
    quantity: int


def plan_allocation(
    wanted: dict[str, int],
    available: dict[tuple[str, str], int],
    locations: list[Location],
) -> list[Pick] | None:
    """Picks covering `wanted` (sku -> quantity) from `available` ((sku, location_id) -> units), or None."""
    ordered = sorted(locations, key=lambda loc: (loc.priority, loc.location_id))
    useful = [loc for loc in ordered if any(available.get((sku, loc.location_id), 0) > 0 for sku in wanted)]
    if not wanted:
        return []

    def covers(chosen: tuple[Location, ...]) -> bool:
        return all(sum(available.get((sku, loc.location_id), 0) for loc in chosen) >= qty for sku, qty in wanted.items())

    chosen: tuple[Location, ...] | None = None
    if len(useful) <= MAX_EXACT_LOCATIONS:
        for size in range(1, len(useful) + 1):
            candidates = [combo for combo in combinations(useful, size) if covers(combo)]
            if candidates:
                chosen = min(candidates, key=lambda combo: sorted(loc.priority for loc in combo))
                break
    else:
        chosen = _greedy_cover(wanted, available, useful)
    if chosen is None or not covers(chosen):
        return None

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
