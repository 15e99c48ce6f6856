"""A return asked for line by line, as a storefront asks over the API: each line judged against what the order lets
go back now (`dawra.domain.returns.returnable`), every refused line with its own reason, and where the parcel goes.

The order page's form makes the same judgement field by field (dawra/web/customer_returns.py); both then call the
same request (`Returns.start`), which checks everything again as it stores the return."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from dawra.domain.allocation import Location
from dawra.domain.errors import OrderNotFound
from dawra.domain.returns import NotReturnable, Returnable, ReturnRefused, refusals

if TYPE_CHECKING:
    from dawra.domain.order import Order

STORE_KIND = "store"  # Location.kind of the places a customer may bring a return to
# Why a line cannot go back as asked: a NotReturnable reason, or one about the request itself (NOT_IN_ORDER,
# TOO_MANY).
Why = NotReturnable | Literal["not_in_order", "too_many"]


class RefusedLine(BaseModel):
    """One line of a return request that cannot go back as asked, and why."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    sku: str
    requested: int = Field(description="The units asked to return")
    returnable: int = Field(description="The units of it that may go back now (0 when none may)")
    why: Why = Field(description=(
        "final_sale, not_delivered (not yet, or not that many), window_ended, already_returned (in a return open "
        "or done), not_in_order (the order has no such item), too_many (more than may go back now)"))
    detail: str = Field(description="Why, in English")


class LinesNotReturnable(ReturnRefused):
    """A return request some lines of which cannot go back; `lines` says why for each (the API's 409 lists them)."""

    def __init__(self, order_id: str, status: str, lines: Sequence[RefusedLine]):
        super().__init__(f"order {order_id}", status, "request_return",
                         "; ".join(f"{line.sku}: {line.detail}" for line in lines))
        self.lines = tuple(lines)


class ReturnNotFound(OrderNotFound):
    """The order has no such return (or there is no such order)."""


def refused_lines(choices: Sequence[Returnable], asked: Sequence[tuple[str, int]]) -> list[RefusedLine]:
    """Each asked (sku, quantity) that cannot go back now, with why; an empty list when every one can."""
    return [RefusedLine(sku=sku, requested=requested, returnable=may, why=why, detail=detail)
            for sku, requested, may, why, detail in refusals(choices, asked, "can be returned")]


def stores(locations: Sequence[Location]) -> list[Location]:
    """The places a customer may bring a return to, as the pages list them."""
    return sorted((loc for loc in locations if loc.kind == STORE_KIND), key=lambda loc: (loc.priority, loc.name))


def home_location(order: Order, skus: Sequence[str]) -> str:
    """Where a label or a pickup sends the parcel: the location the first chosen item was delivered from."""
    for shipment in order.shipments:
        if shipment.is_delivered and any(line.sku in skus for line in shipment.lines):
            return shipment.location_id
    return order.shipments[0].location_id if order.shipments else ""
