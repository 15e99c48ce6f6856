"""Checkout honesty: the lines of an order the stock visibly cannot cover, refused before anything is promised or
charged. Pure.

"Visibly" because the check reads stock a moment before the reservation takes it: units sold in between still end
the order in a clean cancellation (ReserveStock's OutOfStock and the compensation), never in an order that ships
short."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from dawra.domain.errors import OutOfStock


class LineAvailability(BaseModel):
    """What a line asked for and what there is, across every location."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str
    requested: int
    available: int


class BackorderPolicy(BaseModel):
    """Which SKUs may be sold beyond their stock, to arrive later. None yet: every SKU is refused when short. The hook
    for a merchant's backorders (a catalog flag, a supplier's lead time); a backordered line will also need its own
    promise, which the delivery promise does not count yet."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backorderable: frozenset[str] = frozenset()

    def allows(self, sku: str) -> bool:
        return sku in self.backorderable


NO_BACKORDERS = BackorderPolicy()


def available_by_sku(available: Mapping[tuple[str, str], int]) -> dict[str, int]:
    """(sku, location) -> units, summed over the locations (never below zero: a counter read mid-change is 0)."""
    totals: dict[str, int] = {}
    for (sku, _), units in available.items():
        totals[sku] = totals.get(sku, 0) + max(0, units)
    return totals


def shortages(wanted: Mapping[str, int], available: Mapping[tuple[str, str], int],
              backorders: BackorderPolicy = NO_BACKORDERS) -> list[LineAvailability]:
    """The lines whose quantity the stock of every location together cannot cover and that may not be backordered,
    in the order's order. Empty: the order can be reserved as the stock stands (allocation may still split it)."""
    totals = available_by_sku(available)
    return [LineAvailability(sku=sku, requested=quantity, available=totals.get(sku, 0))
            for sku, quantity in wanted.items()
            if totals.get(sku, 0) < quantity and not backorders.allows(sku)]


class ShortOfStock(OutOfStock):
    """Checkout refuses an order some lines of which the stock cannot cover; `lines` says what each asked for and
    what there is (the API's 409 lists them)."""

    def __init__(self, lines: Sequence[LineAvailability]):
        listed = "; ".join(f"{line.sku}: {line.requested} asked, {line.available} available" for line in lines)
        super().__init__(f"not enough stock for this order ({listed})")
        self.lines = tuple(lines)
