"""Pricing: what an order costs. Pure: catalog prices in, totals out; nothing here trusts the client."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dawra.domain.money import Money
from dawra.domain.order import OrderLine, Totals


class CatalogItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str
    title: str = Field(min_length=1, max_length=200)
    unit_price: Money
    tax_class: Literal["standard", "zero"] = "standard"
    weight_g: int = Field(ge=0)


class RequestedLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    quantity: int = Field(ge=1, le=100)


class PricingError(ValueError):
    """The request cannot be priced (unknown sku, unsupported destination, mixed currencies)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class PricingPolicy(BaseModel):
    """The merchant's tax and shipping rules. Rates are in basis points (1500 = 15%)."""

    model_config = ConfigDict(frozen=True)

    currency: str = "SAR"
    tax_bps_by_country: dict[str, int] = {"SA": 1500, "AE": 500, "KW": 0, "BH": 1000, "OM": 500, "QA": 0}
    shipping_by_method: dict[str, int] = {"standard": 2500, "express": 5500}
    shipping_taxable: bool = True
    business_days_by_method: dict[str, int] = {"standard": 5, "express": 2}
    weekend: frozenset[int] = frozenset({4, 5})  # Friday, Saturday (Monday = 0)


DEFAULT_POLICY = PricingPolicy()


def tax_on(amount: int, bps: int) -> int:
    """Tax in minor units, rounded half up (integers only: no float ever touches money)."""
    return (amount * bps + 5000) // 10000


def price_order(
    lines: list[RequestedLine],
    catalog: dict[str, CatalogItem],
    country: str,
    shipping_method: str,
    policy: PricingPolicy = DEFAULT_POLICY,
) -> tuple[list[OrderLine], Totals]:
    if country not in policy.tax_bps_by_country:
        raise PricingError("shipping_address.country", f"we do not ship to {country}")
    if shipping_method not in policy.shipping_by_method:
        raise PricingError("shipping_method", f"unknown shipping method {shipping_method}")
    bps = policy.tax_bps_by_country[country]
    currency = policy.currency
    priced: list[OrderLine] = []
    for index, line in enumerate(lines):
        item = catalog.get(line.sku)
        if item is None:
            raise PricingError(f"lines[{index}].sku", f"unknown sku {line.sku}")
        if item.unit_price.currency != currency:
            raise PricingError(f"lines[{index}].sku", f"{line.sku} is priced in {item.unit_price.currency}")
        line_total = item.unit_price.amount * line.quantity
        line_tax = tax_on(line_total, bps) if item.tax_class == "standard" else 0
        priced.append(
            OrderLine(
                sku=line.sku,
                title=item.title,
                quantity=line.quantity,
                unit_price=item.unit_price,
                line_total=Money(amount=line_total, currency=currency),
                tax=Money(amount=line_tax, currency=currency),
            )
        )
    subtotal = sum(line.line_total.amount for line in priced)
    shipping = policy.shipping_by_method[shipping_method]
    tax = sum(line.tax.amount for line in priced) + (tax_on(shipping, bps) if policy.shipping_taxable else 0)
    totals = Totals(
        subtotal=Money(amount=subtotal, currency=currency),
        shipping=Money(amount=shipping, currency=currency),
        tax=Money(amount=tax, currency=currency),
        total=Money(amount=subtotal + shipping + tax, currency=currency),
    )
    return priced, totals


def promise_date(placed_at: datetime, shipping_method: str, policy: PricingPolicy = DEFAULT_POLICY) -> date:
    """The date delivery is promised by: N business days after the order day (weekend days do not count)."""
    remaining = policy.business_days_by_method[shipping_method]
    day = placed_at.date()
    while remaining:
        day += timedelta(days=1)
        if day.weekday() not in policy.weekend:
            remaining -= 1
    return day


def delivery_deadline(promised_by: date, grace: timedelta) -> datetime:
    """When a parcel that has not arrived is handed to a person: the end of the promised day (UTC) plus grace."""
    return datetime.combine(promised_by + timedelta(days=1), time(0), tzinfo=UTC) + grace
