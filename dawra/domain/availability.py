"""Checkout honesty: the lines of an order the stock visibly cannot cover, refused before anything is promised or
charged. Pure.

Backorders and preorders (the catalog's StockPolicy per SKU): a line the merchant lets be backordered or
preordered is not short; the order waits for its stock (AwaitedStock) instead, in a FIFO waiting list per SKU
(dawra.app.backorders).

"Visibly" because the check reads stock a moment before the reservation takes it: units sold in between still end
the order in a clean cancellation (ReserveStock's OutOfStock and the compensation), never in an order that ships
short."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dawra.domain.errors import DomainError, OutOfStock


class LineAvailability(BaseModel):
    """What a line asked for and what there is, across every location."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    sku: str
    requested: int
    available: int


class StockPolicy(BaseModel):
    """What a SKU does when its stock is short (the catalog's `stock_policy`, set by the merchant's managers or
    warehouse): `backorder` sells beyond the stock, expecting more by `until` (the expected restock date); `preorder`
    sells before the SKU is released on `until` (nothing ships before it, even from stock on hand). No policy, or
    `refuse`: an order the stock cannot cover is refused at checkout. A preorder's release day past, the SKU sells
    as an ordinary one."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    kind: Literal["refuse", "backorder", "preorder"] = "refuse"
    until: date | None = None  # backorder: the expected restock date; preorder: the release date (UTC days)

    @model_validator(mode="after")
    def _dated(self) -> StockPolicy:
        if self.kind != "refuse" and self.until is None:
            raise ValueError(f"a {self.kind} policy needs its date (until)")
        return self


class AwaitedStock(BaseModel):
    """Why an order waits for stock before it can be reserved, and until when: the SKUs it waits for, the kind
    (a preorder waits for its release day even with stock on hand), and the day the stock is due."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    kind: Literal["backorder", "preorder"]
    skus: tuple[str, ...] = Field(min_length=1)
    due: date  # restock or release date, as the customer was told (moved on by each delay)
    delays: int = Field(default=0, ge=0)  # how many times the customer was told it is late


class BackorderPolicy(BaseModel):
    """Which SKUs may be sold beyond their stock (backordered), and which sell only from their release day
    (preordered), with their dates: the catalog's stock policies as they stand `today`."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    backorderable: frozenset[str] = frozenset()
    preordered: dict[str, date] = Field(default_factory=dict)  # sku -> release date (still ahead)
    restock: dict[str, date] = Field(default_factory=dict)  # a backorderable sku -> its expected restock date

    @classmethod
    def of(cls, policies: Mapping[str, StockPolicy | None], today: date) -> BackorderPolicy:
        """From the catalog's policies: a preorder whose release day came sells as an ordinary SKU."""
        back = {sku: p.until for sku, p in policies.items() if p and p.kind == "backorder" and p.until}
        pre = {sku: p.until for sku, p in policies.items() if p and p.kind == "preorder" and p.until and p.until > today}
        return cls(backorderable=frozenset(back) | frozenset(pre), preordered=pre, restock=back)

    def allows(self, sku: str) -> bool:
        return sku in self.backorderable

    def awaited(self, wanted: Mapping[str, int], available: Mapping[tuple[str, str], int],
                today: date) -> AwaitedStock | None:
        """What an order of `wanted` waits for: its preordered SKUs (before their release, stock or not), else its
        backorderable lines the stock cannot cover; the day it is due is the latest of theirs (a restock date
        already past counts from today). None: nothing to wait for (an ordinary order)."""
        pre = sorted(sku for sku in wanted if sku in self.preordered)
        totals = available_by_sku(available)
        back = sorted(sku for sku, quantity in wanted.items()
                      if sku in self.restock and sku not in self.preordered and totals.get(sku, 0) < quantity)
        if not pre and not back:
            return None
        due = max([self.preordered[sku] for sku in pre] + [max(self.restock[sku], today) for sku in back])
        return AwaitedStock(kind="preorder" if pre else "backorder", skus=tuple(pre + back), due=due)


def released(awaited: AwaitedStock, today: date) -> bool:
    """A preorder may be reserved from its release day on; a backorder as soon as its stock is there."""
    return awaited.kind != "preorder" or today >= awaited.due


NO_BACKORDERS = BackorderPolicy()


class WaitingEntry(BaseModel):
    """An order in a SKU's waiting list (FIFO by placement: `placed_at`, then the order id), with what it needs of
    the SKU (the token that resumes its workflow is on the order: Order.stock_token)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    sku: str
    order_id: str
    placed_at: str  # UTC ISO-8601: the list's order
    quantity: int = Field(ge=1)


def waiting_entries(order_id: str, placed_at: str, wanted: Mapping[str, int],
                    awaited: AwaitedStock) -> list[WaitingEntry]:
    """An order's places in the waiting lists of the SKUs it waits for."""
    return [WaitingEntry(sku=sku, order_id=order_id, placed_at=placed_at, quantity=wanted[sku])
            for sku in awaited.skus if sku in wanted]


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


class AwaitingStock(DomainError):
    """A backordered or preordered order cannot be reserved yet: it is in its SKUs' waiting lists and the workflow
    waits for its stock (WaitForStock), not a failure."""


class StockNeverArrived(DomainError):
    """A backordered or preordered order waited through every delay the merchant allows: cancelled, with the
    compensation (nothing was reserved; the payment is voided and the customer told)."""
