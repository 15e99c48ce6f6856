"""Routing: which locations an order's stock is held at, and why, in words a merchant reads. Pure.

The candidates are the covers: sets of locations that together hold every unit the order wants, none with a location
it could do without (dawra.domain.allocation, bounded: past MAX_EXACT_LOCATIONS locations holding anything wanted,
one greedy cover). A chain of strategies, configured per merchant (routing.json beside this module: read once), then
narrows them: each keeps only the candidates best by its own measure, until one is left. The default chain:

  fewest_shipments   the fewest locations (parcels)
  location_priority  the best location priorities (lower number = preferred)
  nearest            nearest to the destination region (its hub; a split's farthest parcel, then their sum)
  lowest_cost        the lowest shipping cost from its locations to the destination region (the merchant's table)

What is left after the chain (a tie on every measure) goes to the preferred locations. A constraint such as "only these
locations" (an order collected at a store) comes before the chain: only covers within them are candidates.

The route says which strategy decided and whether a split was needed; its reason codes go on the order's timeline
with the stock reservation (no item of their own) and the console says them in English and Arabic (routing.* in the
console's catalogs)."""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from dawra.domain.allocation import Location, Pick, cover_candidates, covers, picks_from, useful_locations
from dawra.domain.pricing import city_key

POLICY_FILE = Path(__file__).with_name("routing.json")
ANY_REGION = "*"  # a shipping cost row's entry for every region it does not name


class Strategy(enum.StrEnum):
    FEWEST_SHIPMENTS = "fewest_shipments"
    LOCATION_PRIORITY = "location_priority"
    NEAREST = "nearest"
    LOWEST_COST = "lowest_cost"


DEFAULT_CHAIN = (Strategy.FEWEST_SHIPMENTS, Strategy.LOCATION_PRIORITY, Strategy.NEAREST, Strategy.LOWEST_COST)
ONLY = "only"  # one candidate from the start: nothing to choose
CHOSEN = "chosen"  # one candidate within the locations the order was limited to (a pickup store)
TIE = "tie"  # equal on every strategy: the preferred locations


class Region(BaseModel):
    """A destination region (ISO 3166-2 like SA-02, or a whole country like KW): its names, its hub (latitude,
    longitude: where distances are measured from) and the cities in it (matched by their letters, like pricing's
    zones)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    names: dict[str, str]  # language -> name ("en" at least)
    hub: tuple[float, float]
    cities: tuple[str, ...] = ()

    @field_validator("names")
    @classmethod
    def _english_name(cls, names: dict[str, str]) -> dict[str, str]:
        if "en" not in names:
            raise ValueError("a region needs its English name")
        return names


class RoutingPolicy(BaseModel):
    """The merchant's routing: the strategy chain, the regions parcels go to, and what a parcel costs to ship from
    each location to each region (minor units of `currency`; "*" for any region not named; a location missing:
    unknown, ranked after every known cost)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    chain: tuple[Strategy, ...] = Field(default=DEFAULT_CHAIN, min_length=1)
    currency: str = Field(default="SAR", pattern=r"^[A-Z]{3}$")
    regions: dict[str, Region] = Field(default_factory=dict)
    shipping_cost: dict[str, dict[str, int]] = Field(default_factory=dict)
    # (country, a region's code or name as city_key has it) -> its code; (country, city) -> its region's code.
    _by_name: dict[tuple[str, str], str] = PrivateAttr(default_factory=dict)
    _by_city: dict[tuple[str, str], str] = PrivateAttr(default_factory=dict)
    _indexed: dict[str, Region] | None = PrivateAttr(default=None)  # the regions the index was built from

    @model_validator(mode="after")
    def _consistent(self) -> RoutingPolicy:
        if len(set(self.chain)) != len(self.chain):
            raise ValueError("a strategy appears twice in the chain")
        for location_id, row in self.shipping_cost.items():
            unknown = set(row) - set(self.regions) - {ANY_REGION}
            if unknown:
                raise ValueError(f"shipping_cost[{location_id}] names unknown regions {sorted(unknown)}")
            if any(cost < 0 for cost in row.values()):
                raise ValueError(f"shipping_cost[{location_id}] has a negative cost")
        return self

    def _index(self) -> None:
        """Built on first use for these regions (again after a model_copy that replaced them)."""
        if self._indexed is self.regions:
            return
        self._by_name, self._by_city = {}, {}
        for code, candidate in self.regions.items():
            country = code.split("-")[0]
            for name in (code, *candidate.names.values()):
                self._by_name.setdefault((country, city_key(name)), code)
            for city in candidate.cities:
                self._by_city.setdefault((country, city_key(city)), code)
        self._indexed = self.regions

    def region_of(self, country: str, city: str, region: str | None = None) -> str | None:
        """The region an address is in: its own region when it names one of ours (code or name), else its city's,
        else its whole country's; None when unknown (nearest and cheapest then choose nothing)."""
        self._index()
        found = self._by_name.get((country, city_key(region))) if region else None
        found = found or self._by_city.get((country, city_key(city)))
        return found or (country if country in self.regions else None)

    def distance_km(self, origin: str, destination: str) -> float | None:
        """Great-circle kilometres between two regions' hubs; None when either is not one of ours."""
        start, end = self.regions.get(origin), self.regions.get(destination)
        if start is None or end is None:
            return None
        (lat1, lon1), (lat2, lon2) = (tuple(map(math.radians, r.hub)) for r in (start, end))
        h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
        return 2 * 6371.0 * math.asin(math.sqrt(h))

    def cost(self, location_id: str, destination: str) -> int | None:
        row = self.shipping_cost.get(location_id, {})
        return row.get(destination, row.get(ANY_REGION))


@cache
def routing_policy() -> RoutingPolicy:
    """The merchant's routing (routing.json), read once per process."""
    return RoutingPolicy.model_validate(json.loads(POLICY_FILE.read_text(encoding="utf-8")))


class Route(BaseModel):
    """Where the stock is held (the picks) and why: the strategy that decided (or ONLY, CHOSEN, TIE), whether no
    single location had every item, and the destination region the distances and costs were measured to."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    picks: list[Pick]
    location_ids: tuple[str, ...]  # the chosen locations, preferred first
    decided_by: str
    split_needed: bool
    destination: str | None = None

    @property
    def reasons(self) -> tuple[str, ...]:
        """The reason as codes, each a phrase in the console's catalogs (routing.<code>)."""
        if len(self.location_ids) == 1:
            return (_SINGLE.get(self.decided_by, TIE),)
        found = ("no_single",) if self.split_needed else ()
        extra = _SPLIT.get(self.decided_by)
        return (*found, extra) if extra else found or (TIE,)

    def timeline_detail(self, names: Mapping[str, str]) -> dict[str, str]:
        """What the stock reservation's timeline event says about the route: its reason codes, the locations' names
        (as they were then; "|" between them) and, when a reason names it, the destination region."""
        detail = {"routing": "+".join(self.reasons),
                  "routed_from": "|".join(names.get(i, i).replace("|", "/") for i in self.location_ids)}
        if self.destination and any(code in _NAMES_REGION for code in self.reasons):
            detail["routing_region"] = self.destination
        return detail


_SINGLE = {ONLY: "only_location", Strategy.FEWEST_SHIPMENTS: "only_location", CHOSEN: "chosen_location",
           Strategy.LOCATION_PRIORITY: "first_priority", Strategy.NEAREST: "nearest",
           Strategy.LOWEST_COST: "cheapest", TIE: TIE}
_SPLIT = {CHOSEN: "chosen_locations", Strategy.LOCATION_PRIORITY: "split_priority",
          Strategy.NEAREST: "split_nearest", Strategy.LOWEST_COST: "split_cheapest", TIE: TIE}
_NAMES_REGION = frozenset({"nearest", "split_nearest", "cheapest", "split_cheapest"})

Cover = tuple[Location, ...]
Measure = Callable[[Cover, RoutingPolicy, str | None], tuple[float, ...]]


def _fewest(cover: Cover, _: RoutingPolicy, __: str | None) -> tuple[float, ...]:
    return (len(cover),)


def _priority(cover: Cover, _: RoutingPolicy, __: str | None) -> tuple[float, ...]:
    return tuple(sorted(loc.priority for loc in cover))


def _nearest(cover: Cover, policy: RoutingPolicy, destination: str | None) -> tuple[float, ...]:
    if destination is None:
        return ()
    distances = [policy.distance_km(loc.region, destination) for loc in cover]
    known = [math.inf if d is None else round(d) for d in distances]  # whole km: hubs are not that precise
    return (max(known), sum(known))


def _cheapest(cover: Cover, policy: RoutingPolicy, destination: str | None) -> tuple[float, ...]:
    if destination is None:
        return ()
    costs = [policy.cost(loc.location_id, destination) for loc in cover]
    return (sum(math.inf if c is None else c for c in costs),)


# The strategies by name: a new one is a measure (lower is better) here, a name in Strategy and its phrases.
MEASURES: dict[Strategy, Measure] = {Strategy.FEWEST_SHIPMENTS: _fewest, Strategy.LOCATION_PRIORITY: _priority,
                                     Strategy.NEAREST: _nearest, Strategy.LOWEST_COST: _cheapest}


def narrow(candidates: Sequence[Cover], strategy: Strategy, policy: RoutingPolicy,
           destination: str | None) -> list[Cover]:
    """The candidates best by one strategy (all of them when it cannot tell them apart)."""
    measured = [(MEASURES[strategy](cover, policy, destination), cover) for cover in candidates]
    best = min(m for m, _ in measured)
    return [cover for m, cover in measured if m == best]


def plan_route(wanted: Mapping[str, int], available: Mapping[tuple[str, str], int], locations: Sequence[Location],
               policy: RoutingPolicy, *, destination: str | None = None,
               only: Collection[str] | None = None) -> Route | None:
    """The route for `wanted` (sku -> units) from `available` ((sku, location id) -> units), or None when the stock
    cannot cover it. `destination`: the region it goes to (policy.region_of); `only`: the locations it may be held
    at (None: any), e.g. the store an order is collected from."""
    pool = [loc for loc in locations if only is None or loc.location_id in only]
    if not wanted:
        return Route(picks=[], location_ids=(), decided_by=ONLY, split_needed=False, destination=destination)
    useful = useful_locations(wanted, available, pool)
    candidates = cover_candidates(wanted, available, useful,
                                  smallest_only=policy.chain[0] is Strategy.FEWEST_SHIPMENTS)
    if not candidates:
        return None
    decided_by: str = ONLY if only is None else CHOSEN
    if len(candidates) > 1:
        decided_by = TIE
        for strategy in policy.chain:
            candidates = narrow(candidates, strategy, policy, destination)
            if len(candidates) == 1:
                decided_by = strategy
                break
    chosen = candidates[0]  # on a tie, the first: the preferred locations (candidates come preferred first)
    split_needed = len(chosen) > 1 and not any(covers(wanted, available, (loc,)) for loc in useful)
    preferred_first = sorted(chosen, key=lambda loc: (loc.priority, loc.location_id))
    return Route(picks=picks_from(wanted, available, chosen),
                 location_ids=tuple(loc.location_id for loc in preferred_first),
                 decided_by=decided_by, split_needed=split_needed, destination=destination)
