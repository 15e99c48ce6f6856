"""Cash on delivery at checkout: offered per country up to a maximum total, with a fee that is a line of the
totals (taxed), nothing authorised; refused with a clear problem otherwise, nothing written."""

import pytest
from fakes import request

from dawra.adapters.payments.cod import CashOnDelivery
from dawra.app.checkout import Checkout
from dawra.contracts import problems
from dawra.domain.cod_rules import CashOnDeliveryRefused, CodRule, CodRules, default_rules


def checkout(shop, rules: CodRules | None = None) -> Checkout:
    placed = Checkout(shop.orders, shop.inventory, shop.uow, shop.payments, shop.alerts, shop.clock,
                      cod=CashOnDelivery())
    placed.cod_rules = rules
    return placed


def cod_request(lines, **address):
    return request(lines, payment_method="cash_on_delivery", payment_token=None,
                   shipping_address={"name": "Sara", "line1": "12 Olaya St", "city": "Riyadh", "country": "SA",
                                     **address})


def test_the_fee_is_a_taxed_line_of_the_totals_and_nothing_is_authorised(shop):
    order = checkout(shop).place_order("cod-key-0001", cod_request({"MUG-CLASSIC": 1}))

    t = order.totals
    assert (t.subtotal.amount, t.shipping.amount, t.cod_fee.amount) == (4500, 2500, 1500)
    assert t.tax.amount == 1050 + 225  # 15% of the goods and shipping, and of the fee
    assert t.total.amount == 4500 + 2500 + 1500 + 1275
    assert order.payment.provider == "cash_on_delivery" and order.payment.authorized == t.total
    assert shop.payments.ledger == []  # no card provider was asked anything
    assert shop.world.headers[order.order_id].totals.cod_fee.amount == 1500
    assert shop.world.timeline_kinds(order.order_id) == ["order_confirmed"]  # what starts its lifecycle


def test_a_country_without_cash_on_delivery_is_refused_and_nothing_is_written(shop):
    with pytest.raises(CashOnDeliveryRefused) as refused:
        checkout(shop).place_order("cod-key-0002", cod_request({"MUG-CLASSIC": 1}, city="Doha", country="QA"))
    assert refused.value.reason == "country" and refused.value.field == "payment_method"
    assert "QA" in refused.value.message and shop.world.headers == {}
    kind = problems.kind_of(refused.value)
    assert (kind.status, kind.code) == (422, "cash_on_delivery_refused")


def test_an_order_over_the_countrys_maximum_is_refused_with_the_limit(shop):
    rules = default_rules().model_copy(update={"countries": {"SA": CodRule(max_order=9774, fee=1500)}})
    with pytest.raises(CashOnDeliveryRefused) as refused:
        checkout(shop, rules).place_order("cod-key-0003", cod_request({"MUG-CLASSIC": 1}))
    assert refused.value.reason == "over_maximum" and refused.value.limit.amount == 9774
    assert "9775" in refused.value.message and shop.world.headers == {}

    at_the_limit = default_rules().model_copy(update={"countries": {"SA": CodRule(max_order=9775, fee=1500)}})
    assert checkout(shop, at_the_limit).place_order("cod-key-0004", cod_request({"MUG-CLASSIC": 1})).totals.total \
        .amount == 9775


def test_an_untaxed_fee_adds_no_tax_and_a_card_order_has_no_fee(shop):
    rules = default_rules().model_copy(update={"countries": {"SA": CodRule(max_order=10**6, fee=1000,
                                                                           fee_taxable=False)}})
    order = checkout(shop, rules).place_order("cod-key-0005", cod_request({"MUG-CLASSIC": 1}))
    assert order.totals.tax.amount == 1050 and order.totals.cod_fee.amount == 1000
    card = checkout(shop).place_order("card-key-0006", request({"MUG-CLASSIC": 1}))
    assert card.totals.cod_fee is None and card.totals.total.amount == 8050


def test_the_rules_are_versioned_data():
    rules = default_rules()
    assert rules.version and rules.currency == "SAR" and "QA" not in rules.countries
    assert all(rule.max_order > 0 for rule in rules.countries.values())
