"""Pricing: what an order costs. Pure: catalog prices in, totals out; nothing here trusts the client."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from dawra.domain.availability import StockPolicy
from dawra.domain.money import Money
from dawra.domain.order import DEFAULT_ZONE, OrderLine, Totals


class CatalogItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    sku: str
    title: str = Field(min_length=1, max_length=200)
    # The title in other languages customers read ({"ar": "دلة نحاسية"}); a language missing reads the title.
    titles: dict[Literal["en", "ar"], Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=dict)
    unit_price: Money
    tax_class: Literal["standard", "zero"] = "standard"
    weight_g: int = Field(ge=0)
    # What kind of product it is ("food", "homeware"): the return policies apply by it (dawra.domain.returns).
    category: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    # Its other sizes or variants a customer may exchange it for (a return's exchange, at the same price).
    exchangeable_for: tuple[str, ...] = Field(default=(), max_length=20)
    # Work the warehouse does on each unit before it can be packed (personalised or assembled items): a work task on
    # the shipment that carries it (dawra.domain.shipment.WorkTask); None: none.
    work: Literal["engraving", "assembly"] | None = None
    # What an order beyond its stock does (dawra.domain.availability): refused (None, the default), backordered until
    # an expected restock date, or preordered until its release date.
    stock_policy: StockPolicy | None = None


class RequestedLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    sku: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    quantity: int = Field(ge=1, le=100)


class PricingError(ValueError):
    """The request cannot be priced (unknown sku, unsupported destination, mixed currencies)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class ShippingZone(BaseModel):
    """Cities that cost the same to ship to (written in any of the names customers use), and that cost per method."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    cities: tuple[str, ...] = Field(min_length=1)
    charge_by_method: dict[str, int]


def city_key(city: str) -> str:
    """A city as the zones match it: its letters and digits, case-folded (spaces, hyphens and dots dropped)."""
    return "".join(ch for ch in city.casefold() if ch.isalnum())


class PricingPolicy(BaseModel):
    """The merchant's tax and shipping rules. Rates are in basis points (1500 = 15%)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    currency: str = "SAR"
    tax_bps_by_country: dict[str, int] = {"SA": 1500, "AE": 500, "KW": 0, "BH": 1000, "OM": 500, "QA": 0}
    shipping_by_method: dict[str, int] = {"standard": 2500, "express": 5500}  # the default zone's charges
    # Shipping zones, as data: per country, the cities of each zone and its charge per method. A city not listed is
    # in the default zone (shipping_by_method). Cities are matched by their letters alone ("Al-Ula" = "al ula").
    shipping_zones: dict[str, dict[str, ShippingZone]] = Field(default_factory=lambda: {
        "SA": {"remote": ShippingZone(
            cities=("Najran", "Jazan", "Sharurah", "Tabuk", "AlUla", "Arar", "Al Qurayyat",
                    "نجران", "جازان", "شرورة", "تبوك", "العلا", "عرعر", "القريات"),
            charge_by_method={"standard": 4000, "express": 7500})},
        "AE": {"remote": ShippingZone(cities=("Ruwais", "Liwa", "Ghayathi", "الرويس", "ليوا", "غياثي"),
                                      charge_by_method={"standard": 4000, "express": 7500})},
    })
    shipping_taxable: bool = True
    # Gift wrap: one fee per order however many items or parcels (minor units, before tax), taxed at the
    # destination's rate like shipping (a service supplied with the goods) unless gift_wrap_taxable is off.
    gift_wrap_fee: int = Field(default=1500, ge=0)
    gift_wrap_taxable: bool = True


DEFAULT_POLICY = PricingPolicy()


def shipping_zone(country: str, city: str, policy: PricingPolicy = DEFAULT_POLICY) -> str:
    """The zone an address in `city`, `country` ships in (DEFAULT_ZONE unless the merchant's data lists the city)."""
    key = city_key(city)
    for name, zone in policy.shipping_zones.get(country, {}).items():
        if any(city_key(listed) == key for listed in zone.cities):
            return name
    return DEFAULT_ZONE


def shipping_charge(country: str, zone: str, shipping_method: str, policy: PricingPolicy = DEFAULT_POLICY) -> int:
    """What shipping by `shipping_method` costs in `zone` of `country` (before tax), in minor units. Collected at a
    store (store pickup, dawra.domain.pickup): nothing."""
    if shipping_method == "pickup":
        return 0
    if shipping_method not in policy.shipping_by_method:
        raise PricingError("shipping_method", f"unknown shipping method {shipping_method}")
    if zone == DEFAULT_ZONE:
        return policy.shipping_by_method[shipping_method]
    return policy.shipping_zones[country][zone].charge_by_method[shipping_method]


def reprice_shipping(totals: Totals, country: str, from_zone: str, to_zone: str, shipping_method: str,
                     policy: PricingPolicy = DEFAULT_POLICY) -> Totals:
    """An order's totals once its parcels go to `to_zone` instead of `from_zone` (same country, so the same tax
    rate): its shipping charge scales by the two zones' charges (exactly the new zone's, unless part of the order was
    cancelled and took its share of shipping with it), and the tax on shipping follows."""
    before, after = (shipping_charge(country, zone, shipping_method, policy) for zone in (from_zone, to_zone))
    charged = totals.shipping.amount
    shipping = after if before in (charged, 0) else (charged * after + before // 2) // before
    bps = policy.tax_bps_by_country[country] if policy.shipping_taxable else 0
    tax = max(0, totals.tax.amount - tax_on(charged, bps) + tax_on(shipping, bps))
    total = totals.total.amount + (shipping - charged) + (tax - totals.tax.amount)
    currency = totals.total.currency
    return totals.model_copy(update={"shipping": Money(amount=shipping, currency=currency),
                                     "tax": Money(amount=tax, currency=currency),
                                     "total": Money(amount=total, currency=currency)})


def tax_on(amount: int, bps: int) -> int:
    """Tax in minor units, rounded half up (integers only: no float ever touches money)."""
    return (amount * bps + 5000) // 10000


def price_order(
    lines: list[RequestedLine],
    catalog: dict[str, CatalogItem],
    country: str,
    shipping_method: str,
    policy: PricingPolicy = DEFAULT_POLICY,
    *,
    city: str = "",
    gift_wrap: bool = False,
) -> tuple[list[OrderLine], Totals]:
    if country not in policy.tax_bps_by_country:
        raise PricingError("shipping_address.country", f"we do not ship to {country}")
    if shipping_method not in policy.shipping_by_method and shipping_method != "pickup":
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
                titles=dict(item.titles),
                quantity=line.quantity,
                unit_price=item.unit_price,
                line_total=Money(amount=line_total, currency=currency),
                tax=Money(amount=line_tax, currency=currency),
                work=item.work,
            )
        )
    subtotal = sum(line.line_total.amount for line in priced)
    shipping = shipping_charge(country, shipping_zone(country, city, policy), shipping_method, policy)
    tax = sum(line.tax.amount for line in priced) + (tax_on(shipping, bps) if policy.shipping_taxable else 0)
    wrap = policy.gift_wrap_fee if gift_wrap else 0
    tax += tax_on(wrap, bps) if policy.gift_wrap_taxable else 0
    totals = Totals(
        subtotal=Money(amount=subtotal, currency=currency),
        shipping=Money(amount=shipping, currency=currency),
        tax=Money(amount=tax, currency=currency),
        total=Money(amount=subtotal + shipping + wrap + tax, currency=currency),
        gift_wrap=Money(amount=wrap, currency=currency) if gift_wrap else None,
    )
    return priced, totals


def delivery_deadline(promised_by: date, grace: timedelta) -> datetime:
    """When a parcel that has not arrived is handed to a person: the end of the promised day (UTC) plus grace."""
    return datetime.combine(promised_by + timedelta(days=1), time(0), tzinfo=UTC) + grace
