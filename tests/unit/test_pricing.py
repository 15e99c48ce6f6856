import pytest
from hypothesis import given
from hypothesis import strategies as st

from dawra.domain.money import Money, split_amount
from dawra.domain.pricing import CatalogItem, PricingError, RequestedLine, price_order, tax_on

CATALOG = {
    "MUG": CatalogItem(sku="MUG", title="Mug", unit_price=Money(amount=4500, currency="SAR"), weight_g=1),
    "DATES": CatalogItem(sku="DATES", title="Dates", unit_price=Money(amount=6500, currency="SAR"),
                         tax_class="zero", weight_g=1),
}


def test_prices_come_from_the_catalog_with_vat_on_goods_and_shipping():
    lines, totals = price_order([RequestedLine(sku="MUG", quantity=2)], CATALOG, "SA", "standard")
    assert lines[0].line_total.amount == 9000
    assert lines[0].tax.amount == 1350  # 15% of 90.00
    assert totals.shipping.amount == 2500
    assert totals.tax.amount == 1350 + 375  # shipping is taxed too
    assert totals.total.amount == 9000 + 2500 + 1725


def test_zero_rated_items_carry_no_tax():
    lines, totals = price_order([RequestedLine(sku="DATES", quantity=1)], CATALOG, "SA", "express")
    assert lines[0].tax.amount == 0
    assert totals.tax.amount == tax_on(5500, 1500)


def test_unknown_sku_and_unserved_country_name_the_field():
    with pytest.raises(PricingError) as unknown:
        price_order([RequestedLine(sku="MUG", quantity=1), RequestedLine(sku="NOPE", quantity=1)], CATALOG, "SA",
                    "standard")
    assert unknown.value.field == "lines[1].sku"
    with pytest.raises(PricingError) as country:
        price_order([RequestedLine(sku="MUG", quantity=1)], CATALOG, "US", "standard")
    assert country.value.field == "shipping_address.country"


def test_tax_rounds_half_up_in_integers():
    assert tax_on(10, 1500) == 2  # 1.5 -> 2
    assert tax_on(9, 1500) == 1  # 1.35 -> 1


@given(st.integers(min_value=0, max_value=10**9), st.lists(st.integers(min_value=0, max_value=10**6), min_size=1,
                                                            max_size=8))
def test_split_amount_always_adds_up(total, weights):
    parts = split_amount(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    assert all(part >= 0 for part in parts)
