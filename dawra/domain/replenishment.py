"""Replenishment: per stock item (sku x location) a reorder point and a target set by a manager; a low-stock alert
when available drops below the reorder point (with hysteresis: see dawra.domain.inventory.crossed_below and
HoldCase); the report of what to order, and transfers suggested between locations of the same sku.

- Under the reorder point: order `target - available - in_transit` (what is already on its way counts).
- A suggested transfer: a location short of its target (available + in transit below it) and another whose
  available is above its own target: move the smaller of the shortfall and the excess. The largest shortfalls are
  served first, from the largest excesses; a location only gives what is above its own target."""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, ConfigDict

from dawra.domain.inventory import CounterChange, StockLevel, StockRefused, is_low

MAX_LEVEL = 1_000_000


def set_policy(level: StockLevel | None, sku: str, location_id: str, reorder_point: int | None,
               target: int | None) -> CounterChange:
    """The stock item's reorder point and target (both None: not planned any more). The low flag follows available
    against the new reorder point."""
    if level is None:
        raise StockRefused(f"there is no stock item of {sku} at {location_id}", field="sku")
    if (reorder_point is None) != (target is None):
        raise StockRefused("give both a reorder point and a target, or neither", field="target")
    if reorder_point is not None and target is not None:
        if not 0 <= reorder_point <= MAX_LEVEL or not 0 <= target <= MAX_LEVEL:
            raise StockRefused(f"a reorder point and a target are between 0 and {MAX_LEVEL}", field="reorder_point")
        if target < reorder_point:
            raise StockRefused(f"the target ({target}) is below the reorder point ({reorder_point})", field="target")
    if (level.reorder_point, level.target) == (reorder_point, target):
        raise StockRefused("the reorder point and target are already these", field="reorder_point")
    after = level.model_copy(update={"reorder_point": reorder_point, "target": target})
    return CounterChange(before=level, after=after.model_copy(update={"low": is_low(after)}))


class ReorderLine(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    sku: str
    location_id: str
    available: int
    in_transit: int
    reorder_point: int
    target: int
    order_quantity: int  # to reach the target, counting what is in transit


class SuggestedTransfer(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    sku: str
    from_location: str
    to_location: str
    quantity: int
    shortfall: int  # the destination's, before this suggestion
    excess: int  # the source's, before this suggestion


class ReplenishmentPlan(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    reorder: list[ReorderLine]  # by sku, then location
    transfers: list[SuggestedTransfer]  # by sku, largest first


def plan(levels: list[StockLevel]) -> ReplenishmentPlan:
    reorder = [ReorderLine(sku=lv.sku, location_id=lv.location_id, available=lv.available, in_transit=lv.in_transit,
                           reorder_point=lv.reorder_point, target=lv.target,
                           order_quantity=max(0, lv.target - lv.available - lv.in_transit))
               for lv in levels if lv.reorder_point is not None and lv.target is not None and is_low(lv)]
    by_sku: dict[str, list[StockLevel]] = defaultdict(list)
    for lv in levels:
        if lv.target is not None:
            by_sku[lv.sku].append(lv)
    transfers: list[SuggestedTransfer] = []
    for sku in sorted(by_sku):
        short = sorted(((lv.target - lv.available - lv.in_transit, lv.location_id) for lv in by_sku[sku]
                        if lv.target is not None and lv.available + lv.in_transit < lv.target),
                       key=lambda x: (-x[0], x[1]))
        spare = {lv.location_id: lv.available - lv.target for lv in by_sku[sku]
                 if lv.target is not None and lv.available > lv.target}
        for shortfall, to_location in short:
            need = shortfall
            while need > 0 and spare:
                from_location = min(spare, key=lambda loc: (-spare[loc], loc))
                excess = spare[from_location]
                quantity = min(need, excess)
                transfers.append(SuggestedTransfer(sku=sku, from_location=from_location, to_location=to_location,
                                                   quantity=quantity, shortfall=need, excess=excess))
                need -= quantity
                if excess == quantity:
                    del spare[from_location]
                else:
                    spare[from_location] = excess - quantity
    return ReplenishmentPlan(reorder=sorted(reorder, key=lambda line: (line.sku, line.location_id)),
                             transfers=transfers)
