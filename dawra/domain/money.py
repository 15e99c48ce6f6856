"""Money: integer minor units (halalas, cents, fils) with an ISO 4217 currency. No float ever touches it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class Money(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    amount: int = Field(ge=0, description="Integer minor units, e.g. 1999 for 19.99")
    currency: CurrencyCode

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {other.currency} with {self.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)  # refuses to go below zero

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(amount=0, currency=currency)


class MoneyDifference(Money):
    """A signed difference between two amounts (after - before; negative when it went down). It only ever tells
    somebody how much more or less something costs: never a price, a balance or a payment, which are Money."""

    amount: int = Field(description="Integer minor units; negative when the amount went down")

    @classmethod
    def between(cls, before: Money, after: Money) -> MoneyDifference:
        before._same(after)
        return cls(amount=after.amount - before.amount, currency=after.currency)


def split_amount(total: int, weights: list[int]) -> list[int]:
    """Split `total` minor units in proportion to `weights`; the parts always add up to `total` exactly.

    Used to give each shipment its share of the order total (what is captured when it ships)."""
    if not weights:
        raise ValueError("nothing to split between")
    weight_sum = sum(weights)
    if weight_sum == 0:
        parts = [0] * len(weights)
        parts[-1] = total
        return parts
    parts = [total * weight // weight_sum for weight in weights]
    parts[-1] += total - sum(parts)
    return parts
