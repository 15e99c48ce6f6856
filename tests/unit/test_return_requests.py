"""A return asked for by a storefront (the storefront API's POST /orders/{order_id}/returns), with in-memory fakes:
the very request the order page makes (one key, one return, one workflow), every line that cannot go back refused
with its own reason and nothing stored, a store that takes no returns refused, a replay answered with the same
return; the request's shape, generated from the domain's words; reading a return back."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from returning import Returns, delivered

from dawra.app.return_requests import AskForReturn, ViewReturn
from dawra.app.return_workflow import StartReturn
from dawra.contracts import problems
from dawra.contracts.return_api import EXAMPLE_RETURN, ReturnAsked, ReturnView, return_view
from dawra.domain.errors import IdempotencyKeyReused, InvalidCustomerDetails
from dawra.domain.return_lines import LinesNotReturnable, ReturnNotFound
from dawra.domain.returns import RefundMethod, ReturnMethod, ReturnReason, ReturnStatus, return_id_for


@pytest.fixture
def ask(shop) -> AskForReturn:
    returns = Returns(shop)
    return AskForReturn(shop.orders, returns.choices, StartReturn(returns.request, shop.workflow),
                        lambda: shop.world.locations)


def asked(lines: dict[str, tuple[int, str]], **rest) -> ReturnAsked:
    return ReturnAsked.model_validate({
        "lines": [{"sku": sku, "quantity": quantity, "reason": reason} for sku, (quantity, reason) in lines.items()],
        "method": "label", "refund_method": "original_payment", **rest})


def test_a_storefront_asks_and_the_return_is_stored_once_with_its_workflow_started(shop, ask):
    order_id = delivered(shop, {"PRAYER-MAT": 2})
    ret = ask(order_id, "ret-key-0001", asked({"PRAYER-MAT": (1, "changed_mind")}))
    assert ret.return_id == return_id_for(order_id, "ret-key-0001")
    assert (ret.status, ret.location_id, ret.method) == (ReturnStatus.APPROVED, "riyadh-dc", ReturnMethod.LABEL)
    assert ret.estimate.total.amount == 11900  # 120.00 + 18.00 VAT - 19.00 return shipping
    assert shop.world.returns[order_id].keys() == {ret.return_id}
    assert shop.workflow.started_returns == [(order_id, ret.return_id)]

    # Replayed (the answer was lost), even though its units are now held by the return itself: the same return.
    again = ask(order_id, "ret-key-0001", asked({"PRAYER-MAT": (1, "changed_mind")}))
    assert again.return_id == ret.return_id and len(shop.world.returns[order_id]) == 1
    assert shop.workflow.started_returns == [(order_id, ret.return_id)]
    with pytest.raises(IdempotencyKeyReused):
        ask(order_id, "ret-key-0001", asked({"PRAYER-MAT": (1, "wrong_size")}))


def test_every_line_that_cannot_go_back_is_refused_with_its_reason_and_nothing_is_stored(shop, ask):
    order_id = delivered(shop, {"PRAYER-MAT": 1, "DATES-1KG": 1})
    with pytest.raises(LinesNotReturnable) as refused:
        ask(order_id, "ret-key-0001", asked({"PRAYER-MAT": (3, "wrong_size"), "DATES-1KG": (1, "damaged"),
                                             "MUG-CLASSIC": (1, "other")}))
    assert [(line.sku, line.requested, line.returnable, line.why) for line in refused.value.lines] == [
        ("PRAYER-MAT", 3, 1, "too_many"), ("DATES-1KG", 1, 0, "final_sale"), ("MUG-CLASSIC", 1, 0, "not_in_order")]
    assert shop.world.returns[order_id] == {} and shop.workflow.started_returns == []

    kind, body = problems.from_domain_error(refused.value)
    assert (kind.status, body["code"]) == (409, "not_returnable")
    assert body["lines"][1] == {"sku": "DATES-1KG", "requested": 1, "returnable": 0, "why": "final_sale",
                                "detail": "final sale: it cannot be returned"}
    assert "PRAYER-MAT: at most 1 can be returned" in body["detail"]


def test_nothing_delivered_yet_means_nothing_can_go_back(shop, ask):
    order_id = shop.place({"PRAYER-MAT": 1})
    shop.reserve(order_id)
    with pytest.raises(LinesNotReturnable) as refused:
        ask(order_id, "ret-key-0001", asked({"PRAYER-MAT": (1, "changed_mind")}))
    assert [line.why for line in refused.value.lines] == ["not_delivered"]


def test_a_store_drop_off_goes_to_a_store_and_only_a_store(shop, ask):
    order_id = delivered(shop, {"PRAYER-MAT": 2})
    with pytest.raises(InvalidCustomerDetails) as wrong:
        ask(order_id, "ret-key-0001", asked({"PRAYER-MAT": (1, "changed_mind")}, method="store",
                                            store_location_id="riyadh-dc"))  # a warehouse
    assert wrong.value.field == "store_location_id" and shop.world.returns[order_id] == {}
    ret = ask(order_id, "ret-key-0002", asked({"PRAYER-MAT": (1, "changed_mind")}, method="store",
                                              store_location_id="jeddah-store", refund_method="store_credit"))
    assert (ret.method, ret.location_id, ret.refund_method) == (ReturnMethod.STORE, "jeddah-store",
                                                                RefundMethod.STORE_CREDIT)
    assert ret.estimate.return_shipping.amount == 0  # none for a store drop-off


def test_a_refund_method_the_policy_does_not_offer_is_refused_by_the_same_request_as_the_page(shop, ask):
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    with pytest.raises(problems.errors.IllegalTransition, match="bank_transfer is not offered") as refused:
        ask(order_id, "ret-key-0002", asked({"PRAYER-MAT": (1, "changed_mind")}, refund_method="bank_transfer",
                                            iban="SA03 8000 0000 6080 1016 7519"))  # a card order: no transfers
    assert problems.from_domain_error(refused.value)[0].status == 409 and shop.world.returns[order_id] == {}


def test_the_request_shape_follows_the_domain_and_refuses_what_does_not_go_together():
    schema = ReturnAsked.model_json_schema()
    defs = schema["$defs"]
    assert defs["ReturnReason"]["enum"] == [reason.value for reason in ReturnReason]
    assert defs["RefundMethod"]["enum"] == [method.value for method in RefundMethod]
    assert defs["ReturnMethod"]["enum"] == [method.value for method in ReturnMethod]
    assert ReturnAsked.model_validate(EXAMPLE_RETURN).lines[0].sku == "MUG-CLASSIC"
    for body, says in [
        ({**EXAMPLE_RETURN, "method": "store"}, "store_location_id goes with method store"),
        ({**EXAMPLE_RETURN, "store_location_id": "jeddah-store"}, "store_location_id goes with method store"),
        ({**EXAMPLE_RETURN, "refund_method": "bank_transfer"}, "iban goes with refund_method bank_transfer"),
        ({**EXAMPLE_RETURN, "iban": "SA0380000000608010167519"}, "iban goes with refund_method bank_transfer"),
        ({**EXAMPLE_RETURN, "lines": [EXAMPLE_RETURN["lines"][0]] * 2}, "a sku appears twice"),
        ({**EXAMPLE_RETURN, "lines": []}, "at least 1 item"),
        ({**EXAMPLE_RETURN, "lines": [{"sku": "MUG-CLASSIC", "quantity": 1, "reason": "bored"}]}, "reason"),
        ({**EXAMPLE_RETURN, "price": 1}, "Extra inputs are not permitted"),
    ]:
        with pytest.raises(ValidationError, match=says):
            ReturnAsked.model_validate(body)


def test_a_return_reads_back_without_the_account_and_an_unknown_one_is_not_found(shop, ask):
    order_id = delivered(shop, {"PRAYER-MAT": 2})
    ret = ask(order_id, "ret-key-0001", asked({"PRAYER-MAT": (1, "damaged")}))
    view = ViewReturn(shop.orders)
    assert view(order_id, ret.return_id) == ret
    shown = return_view(ret.model_copy(update={"bank_account": "SA0380000000608010167519"}))
    assert shown["account_ending"] == "7519" and "SA0380000000608010167519" not in json.dumps(shown)
    assert ReturnView.model_validate(shown).lines[0].reason == ReturnReason.DAMAGED
    for order, return_id in ((order_id, "ret_" + "0" * 20), ("ord_" + "0" * 32, ret.return_id)):
        with pytest.raises(ReturnNotFound) as missing:
            view(order, return_id)
        kind, _ = problems.from_domain_error(missing.value)
        assert (kind.status, kind.code) == (404, "return_not_found")
