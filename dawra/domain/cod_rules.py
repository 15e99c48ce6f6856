"""Cash on delivery at checkout: where it is offered, up to what order total, and its fee. Pure; the rules are data
(cod_rules.json, versioned: the version that priced an order is the one in force when it was placed).

A country not in the rules takes no cash on delivery; an order whose total, with the fee and its tax, is above the
country's maximum is refused (couriers will not carry that much cash: pay by card or a payment link). The fee is a
line of the order's totals (`Totals.cod_fee`, before tax), taxed at the destination's rate like shipping unless the
rule says otherwise, and is part of what is due at the door. A country's rule may ask the customer to confirm the
order before anything ships (`confirm`: the order is held, kind `cod_confirmation`)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from dawra.domain.errors import DomainError
from dawra.domain.money import Money
from dawra.domain.order import Totals
from dawra.domain.pricing import DEFAULT_POLICY, PricingPolicy, tax_on

RULES_FILE = Path(__file__).with_name("cod_rules.json")


class CashOnDeliveryRefused(DomainError):
    """Cash on delivery is not offered for this order (its country, or its total): nothing was written."""

    def __init__(self, message: str, *, reason: str, limit: Money | None = None):
        super().__init__(message, field="payment_method")
        self.reason = reason  # "country" or "over_maximum"
        self.limit = limit


class CodRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    max_order: int = Field(gt=0)  # minor units, the order's total with the fee and its tax
    fee: int = Field(ge=0)  # minor units, before tax
    fee_taxable: bool = True
    # The customer confirms before anything ships (their order link, or an SMS reply): held until then, cancelled
    # when the hold's time runs out (dawra.domain.holds, kind cod_confirmation).
    confirm: bool = False


class CodRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    version: str
    currency: str
    note: str = ""
    countries: dict[str, CodRule]

    def rule_for(self, country: str) -> CodRule:
        rule = self.countries.get(country)
        if rule is None:
            raise CashOnDeliveryRefused(f"cash on delivery is not offered in {country}: pay by card",
                                        reason="country")
        return rule

    def price(self, totals: Totals, country: str, policy: PricingPolicy = DEFAULT_POLICY) -> Totals:
        """The order's totals with the country's fee (and its tax) added; refused when the country takes no cash
        on delivery or the total would be over its maximum."""
        rule = self.rule_for(country)
        currency = totals.total.currency
        if currency != self.currency:
            raise CashOnDeliveryRefused(f"cash on delivery is offered in {self.currency} only", reason="country")
        tax = tax_on(rule.fee, policy.tax_bps_by_country.get(country, 0)) if rule.fee_taxable else 0
        total = totals.total.amount + rule.fee + tax
        if total > rule.max_order:
            limit = Money(amount=rule.max_order, currency=currency)
            raise CashOnDeliveryRefused(
                f"cash on delivery is limited to {rule.max_order} minor units of {currency} in {country} (this order "
                f"comes to {total} with the fee): pay by card", reason="over_maximum", limit=limit)
        return totals.model_copy(update={
            "cod_fee": Money(amount=rule.fee, currency=currency),
            "tax": Money(amount=totals.tax.amount + tax, currency=currency),
            "total": Money(amount=total, currency=currency)})


@cache
def default_rules() -> CodRules:
    return CodRules.model_validate(json.loads(RULES_FILE.read_text(encoding="utf-8")))
