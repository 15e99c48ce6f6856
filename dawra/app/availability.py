"""The storefront's availability (GET /availability): per SKU, the units at each location now and in transit, and the
delivery options to a destination with their earliest dates (dawra.domain.delivery_options decides them).

Read-only and cheap: what it reads is kept in process for at most `max_age_s` (MAX_AGE_S by default), the locations
as one entry and each SKU's catalog presence and stock items as another, so a product page asked for again and
again costs DynamoDB nothing within that age. A call that finds nothing kept makes two requests: the locations (a
Query) and the SKUs' catalog and stock items (one BatchGetItem, up to 100 keys). The answer says how old the oldest
data it used is (`as_of`, `age_s`). Nothing here is on the order path: checkout reserves against the stock as it is,
whatever an availability answer said."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from dawra.domain.allocation import Location
from dawra.domain.delivery_options import (
    MAX_AGE_S,
    MAX_SKUS,
    AvailabilityAnswer,
    Destination,
    StockHere,
    availability_of,
    unknown_sku,
)
from dawra.domain.errors import InvalidAvailabilityQuery
from dawra.domain.promise import Calendars
from dawra.ports import AvailabilityReads, Clock

MAX_KEPT_SKUS = 5000  # the skus kept per container (the oldest go first past this)


@dataclass(frozen=True)
class _Kept:
    read_at: dt.datetime
    known: bool
    stock: tuple[StockHere, ...]


class Availability:
    def __init__(self, reads: AvailabilityReads, clock: Clock, *, max_age_s: int = MAX_AGE_S,
                 calendars: Calendars | None = None):
        self.reads, self.clock, self.max_age_s, self.calendars = reads, clock, max_age_s, calendars
        self._locations: tuple[dt.datetime, list[Location]] | None = None
        self._skus: OrderedDict[str, _Kept] = OrderedDict()

    def __call__(self, skus: Sequence[str], destination: Destination) -> AvailabilityAnswer:
        if not skus:
            raise InvalidAvailabilityQuery("ask for at least one sku", field="query.sku")
        if len(skus) > MAX_SKUS:
            raise InvalidAvailabilityQuery(f"ask for at most {MAX_SKUS} skus at a time", field="query.sku")
        now = self.clock.now()
        located_at, locations = self._fresh_locations(now)
        kept = self._fresh_skus(list(dict.fromkeys(skus)), locations, now)
        answers = tuple(availability_of(sku, kept[sku].stock, locations, destination, now, calendars=self.calendars)
                        if kept[sku].known else unknown_sku(sku) for sku in skus)
        as_of = min([located_at, *(kept[sku].read_at for sku in skus)])
        return AvailabilityAnswer(destination=destination, as_of=as_of, age_s=int((now - as_of).total_seconds()),
                                  max_age_s=self.max_age_s, skus=answers)

    def _fresh(self, read_at: dt.datetime, now: dt.datetime) -> bool:
        return dt.timedelta(0) <= now - read_at < dt.timedelta(seconds=self.max_age_s)

    def _fresh_locations(self, now: dt.datetime) -> tuple[dt.datetime, list[Location]]:
        if self._locations is None or not self._fresh(self._locations[0], now):
            self._locations = (now, self.reads.locations())
        return self._locations

    def _fresh_skus(self, skus: list[str], locations: list[Location], now: dt.datetime) -> dict[str, _Kept]:
        """Each sku's kept entry, reading (in one request) those not kept or kept too long."""
        missing = [sku for sku in skus if sku not in self._skus or not self._fresh(self._skus[sku].read_at, now)]
        if missing:
            location_ids = [location.location_id for location in locations]
            known, levels = self.reads.skus_and_levels(missing, location_ids)
            for sku in missing:
                stock = tuple(StockHere(location_id=location_id, available=level.available,
                                        in_transit=level.in_transit)
                              for location_id in location_ids if (level := levels.get((sku, location_id))))
                self._skus.pop(sku, None)
                self._skus[sku] = _Kept(read_at=now, known=sku in known, stock=stock)
            while len(self._skus) > MAX_KEPT_SKUS:
                self._skus.popitem(last=False)
        return {sku: self._skus[sku] for sku in skus}
