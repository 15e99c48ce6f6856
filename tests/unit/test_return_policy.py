"""Return policies as data: the book is validated when loaded (naming what is wrong), each new order line is stamped
with the policy it is sold under (SKU, else category, else default; the latest version), an order keeps that version
forever, and what a line may return is said in words a customer reads (final sale, not delivered, window ended,
already returned). Also the IBAN check used for cash-on-delivery refunds by bank transfer."""

import json
import re
from datetime import timedelta

import pytest
from returning import Returns, asking, delivered

from dawra.domain.errors import InvalidCustomerDetails
from dawra.domain.returns import (
    POLICIES_FILE,
    NotReturnable,
    RefundMethod,
    ReturnMethod,
    ReturnReason,
    default_policies,
    load_policies,
    valid_iban,
)

BOOK = json.loads(POLICIES_FILE.read_text(encoding="utf-8"))


def book(**changes):
    return json.dumps({**BOOK, **changes})


def test_the_shipped_book_picks_by_sku_then_category_then_default_at_the_latest_version():
    policies = default_policies()
    assert policies.ref_for("DATES-1KG", "food") == "final-sale@1"
    assert policies.ref_for("MUG-CLASSIC", "homeware") == "inspect-first@1"
    assert policies.ref_for("PRAYER-MAT", "textiles") == "standard@2"  # no rule for textiles: the default
    assert policies.ref_for("ANYTHING", None) == "standard@2"
    assert policies.resolve(None).ref == "standard@1"  # a line sold before policies: version 1 of the default
    assert policies.resolve("standard@1").customer_return_shipping == 1500
    assert policies.resolve("standard@2").customer_return_shipping == 1900
    inspect_first = policies.resolve("inspect-first@1")
    assert inspect_first.approval_required and inspect_first.restocking_fee_bps == 1000
    assert [c.value for c in inspect_first.conditions] == ["unopened"]
    assert policies.resolve("final-sale@1").final_sale
    sku_rule = load_policies(book(skus={"DATES-1KG": "standard"}))
    assert sku_rule.ref_for("DATES-1KG", "food") == "standard@2"  # the SKU's own rule beats its category's
    with pytest.raises(ValueError, match="no return policy 'standard@3'"):
        policies.resolve("standard@3")


@pytest.mark.parametrize(("changes", "complaint"), [
    ({"categories": {"food": "perishable"}}, re.escape("categories['food'] names policy 'perishable'")),
    ({"default": "lenient"}, "default names policy 'lenient'"),
    ({"skus": {"MUG-CLASSIC": "nope"}}, re.escape("skus['MUG-CLASSIC'] names policy 'nope'")),
    ({"policies": [p for p in BOOK["policies"] if (p["id"], p["version"]) != ("standard", 1)]},
     r"policy 'standard': its versions must be 1, 2, ... each once \(found \[2\]\)"),
    ({"policies": [*BOOK["policies"], {**BOOK["policies"][0], "restocking_fee_bps": 6000, "version": 3}]},
     "restocking_fee_bps"),
    ({"policies": [*BOOK["policies"], {**BOOK["policies"][0], "refund_options": [], "version": 3}]},
     "refund_options"),
    ({"policies": [*BOOK["policies"], {**BOOK["policies"][0], "refund_options": ["bank_transfer"],
                                       "version": 3}]}, "bank_transfer is how cash-on-delivery orders"),
    ({"policies": [*BOOK["policies"], {**BOOK["policies"][0], "window_days": 0, "version": 3}]},
     "a returnable policy needs a window"),
    ({"policies": [*BOOK["policies"], {**BOOK["policies"][0], "refund": "always", "version": 3}]},
     "Extra inputs are not permitted"),
])
def test_a_book_with_a_mistake_is_refused_when_loaded_naming_it(changes, complaint):
    with pytest.raises(ValueError, match=complaint):
        load_policies(book(**changes))


def test_checkout_stamps_each_line_with_its_policy_and_the_order_keeps_that_version(shop):
    order = shop.orders.get(shop.place({"MUG-CLASSIC": 1, "DATES-1KG": 1, "PRAYER-MAT": 1}))
    assert {line.sku: line.return_policy for line in order.lines} == {
        "MUG-CLASSIC": "inspect-first@1", "DATES-1KG": "final-sale@1", "PRAYER-MAT": "standard@2"}

    # Two delivered orders of the same mat: one sold under version 1 (the customer paid 15.00 for a label then),
    # one under version 2 (19.00). Each is judged by its own version.
    returns = Returns(shop)
    old = delivered(shop, {"PRAYER-MAT": 1}, key="key-old-policy")
    stored = shop.world.headers[old]
    shop.world.headers[old] = stored.model_copy(update={"lines": [
        line.model_copy(update={"return_policy": "standard@1"}) for line in stored.lines]})
    new = delivered(shop, {"PRAYER-MAT": 1}, key="key-new-policy")
    ask = asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)})
    assert returns.estimate(old, ask).return_shipping.amount == 1500
    assert returns.estimate(new, ask).return_shipping.amount == 1900
    # A line stamped with nothing (sold before policies existed) is judged by version 1 of the default.
    shop.world.headers[old] = stored.model_copy(update={"lines": [
        line.model_copy(update={"return_policy": None}) for line in stored.lines]})
    assert returns.estimate(old, ask).return_shipping.amount == 1500


def test_each_line_says_how_many_may_go_back_or_why_not(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 2, "DATES-1KG": 1})
    choices = returns.choices(order_id)
    by_sku = {line.sku: line for line in choices.lines}
    mat, dates = by_sku["PRAYER-MAT"], by_sku["DATES-1KG"]
    assert (mat.quantity, mat.why_not, mat.window_ends.isoformat()) == (2, None, "2026-12-07")  # 14 days after
    assert (dates.quantity, dates.why_not, dates.explain()) == (0, NotReturnable.FINAL_SALE,
                                                                "final sale: it cannot be returned")
    assert choices.refund_methods == (RefundMethod.ORIGINAL_PAYMENT, RefundMethod.STORE_CREDIT)
    assert set(choices.return_methods) == set(ReturnMethod)

    returns.request(order_id, "ret-key-1", asking({"PRAYER-MAT": (2, ReturnReason.WRONG_SIZE)}))
    mat = next(line for line in returns.choices(order_id).lines if line.sku == "PRAYER-MAT")
    assert (mat.quantity, mat.returned, mat.why_not, mat.explain()) == (0, 2, NotReturnable.ALREADY_RETURNED,
                                                                       "already returned")


def test_the_window_ends_on_the_last_day_and_undelivered_lines_wait(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    shop.clock.advance(days=14)  # the last day: still possible
    assert returns.choices(order_id).lines[0].quantity == 1
    shop.clock.advance(days=1)
    [line] = returns.choices(order_id).lines
    assert (line.quantity, line.why_not, line.explain()) == (0, NotReturnable.WINDOW_ENDED,
                                                             "the return window ended on 2026-12-07")
    shop.clock.moment -= timedelta(days=15)
    shipped = shop.place({"PRAYER-MAT": 1}, key="key-not-yet")
    for planned in shop.reserve(shipped).shipments:
        shop.ship(shipped, planned.shipment_id)
    [line] = returns.choices(shipped).lines
    assert (line.quantity, line.why_not, line.window_ends) == (0, NotReturnable.NOT_DELIVERED, None)
    assert returns.choices(shipped).refund_methods == ()


@pytest.mark.parametrize("iban", ["SA03 8000 0000 6080 1016 7519", "sa0380000000608010167519",
                                  "GB82WEST12345698765432", "AE070331234567890123456"])
def test_a_real_iban_passes_in_its_electronic_form(iban):
    assert valid_iban(iban) == iban.replace(" ", "").upper()


@pytest.mark.parametrize(("iban", "complaint"), [
    ("SA0480000000608010167519", "check digits do not match"),
    ("SA038000000060801016751", "an IBAN of SA has 24 characters, not 23"),
    ("XX0380000000608010167519", "we cannot transfer to IBANs of XX"),
    ("SA03-8000", "letters and digits"),
    ("", "letters and digits"),
])
def test_a_wrong_iban_is_refused_saying_what_is_wrong(iban, complaint):
    with pytest.raises(InvalidCustomerDetails, match=complaint) as refused:
        valid_iban(iban)
    assert refused.value.field == "iban"
