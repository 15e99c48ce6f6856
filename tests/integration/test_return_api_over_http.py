"""A storefront asks for a return over the local HTTP gateway (POST /orders/{order_id}/returns), as the order page's
form does: the documented example succeeds on the README's order once delivered, a replayed Idempotency-Key answers
the same return and starts one return workflow, lines that cannot go back are a 409 naming each and why, a request
that does not hold together a 422, and the return reads back (GET .../returns/{return_id})."""

import json

from parcels import place_order
from return_trips import delivered_order, executions_of, parked, post_json, return_when

from dawra.contracts.api import EXAMPLE_ORDER
from dawra.contracts.problems import PROBLEM_JSON
from dawra.contracts.return_api import EXAMPLE_RETURN
from dawra.local.actors import http


def post_return(stack, order_id: str, body: dict, key: str | None) -> object:
    return post_json(stack, f"/orders/{order_id}/returns", body, key)


def test_a_storefront_asks_for_a_return_over_http_as_the_order_page_does(local_stack, unique):
    assert [line["sku"] for line in EXAMPLE_ORDER["lines"]] == ["MUG-CLASSIC"]  # the README's order, 2 mugs
    order_id = delivered_order(local_stack, f"{unique('sara')}@example.com", {"MUG-CLASSIC": 2})
    key = unique("return-key")

    asked = post_return(local_stack, order_id, EXAMPLE_RETURN, key)
    assert asked.status == 201, asked.body
    ret = asked.body
    assert asked.headers["Location"] == f"/orders/{order_id}/returns/{ret['return_id']}"
    assert (ret["order_id"], ret["status"], ret["approval_required"]) == (order_id, "requested", True)  # homeware
    assert [(line["sku"], line["quantity"], line["reason"]) for line in ret["lines"]] == [("MUG-CLASSIC", 1,
                                                                                          "damaged")]
    assert ret["estimate"]["total"]["currency"] == "SAR" and ret["estimate"]["total"]["amount"] > 0
    assert ret["method"] == "label" and ret["location_id"] == "riyadh-dc"  # back where it left from

    # The workflow started once and waits for an agent; replaying the key answers the same return, starts nothing.
    return_when(local_stack, order_id, ret["return_id"], parked("requested"), "not waiting for an agent")
    replay = post_return(local_stack, order_id, EXAMPLE_RETURN, key)
    assert replay.status == 201 and replay.body["return_id"] == ret["return_id"]
    assert len(executions_of(local_stack, ret["return_id"])) == 1
    read = http("GET", f"{local_stack.gateway.url}/orders/{order_id}/returns/{ret['return_id']}")
    assert read.status == 200 and read.body["return_id"] == ret["return_id"] and read.body["status"] == "requested"

    # One mug is in that return: two more cannot go back, and the order has no prayer mat. Nothing is written.
    refused = post_return(local_stack, order_id, {**EXAMPLE_RETURN, "lines": [
        {"sku": "MUG-CLASSIC", "quantity": 2, "reason": "changed_mind"},
        {"sku": "PRAYER-MAT", "quantity": 1, "reason": "other"}]}, unique("return-key"))
    assert refused.status == 409 and refused.headers["Content-Type"] == PROBLEM_JSON
    assert refused.body["code"] == "not_returnable"
    assert [(line["sku"], line["why"], line["returnable"]) for line in refused.body["lines"]] == [
        ("MUG-CLASSIC", "too_many", 1), ("PRAYER-MAT", "not_in_order", 0)]
    order = http("GET", f"{local_stack.gateway.url}/orders/{order_id}").body
    assert [e["kind"] for e in order["timeline"]].count("return_requested") == 1


def test_a_request_that_does_not_hold_together_is_a_422_and_an_unknown_return_a_404(local_stack, unique):
    order_id = place_order(local_stack, f"{unique('sara')}@example.com", {"MUG-CLASSIC": 1})
    no_key = post_return(local_stack, order_id, EXAMPLE_RETURN, None)
    assert no_key.status == 422 and [e["path"] for e in no_key.body["errors"]] == ["headers.Idempotency-Key"]
    no_store = post_return(local_stack, order_id, {**EXAMPLE_RETURN, "method": "store"}, unique("return-key"))
    assert no_store.status == 422 and "store_location_id goes with method store" in json.dumps(no_store.body)
    not_yet = post_return(local_stack, order_id, EXAMPLE_RETURN, unique("return-key"))
    assert not_yet.status == 409 and [line["why"] for line in not_yet.body["lines"]] == ["not_delivered"]
    missing = http("GET", f"{local_stack.gateway.url}/orders/{order_id}/returns/ret_{'0' * 20}")
    assert missing.status == 404 and missing.body["code"] == "return_not_found"


def test_a_storefront_asks_for_an_exchange_collected_by_a_courier_on_a_day_the_carrier_offers(local_stack, unique):
    """The mat's large size instead of money, the parcel collected by a courier: a day the carrier does not offer is
    a 422 listing those it does; a size the catalog does not list is a 409; then the exchange, on an offered day,
    is held at once (the policy approves), booked with the courier for that day, and the label-ready message says
    when the courier comes."""
    from parcels import messages_to, stock

    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.domain.money import Money
    from dawra.domain.pricing import CatalogItem
    from dawra.local.seed import CATALOG

    inventory = DynamoInventory(local_stack.cloud.resolve_ref("table", "inventory", "name"))
    [mat] = [item for item in CATALOG if item.sku == "PRAYER-MAT"]
    inventory.put_catalog_item(mat.model_copy(update={"exchangeable_for": ("PRAYER-MAT-L",)}))
    inventory.put_catalog_item(CatalogItem(sku="PRAYER-MAT-L", title="Prayer mat, large", unit_price=mat.unit_price,
                                           weight_g=1100, category="textiles"))
    inventory.put_catalog_item(CatalogItem(sku="PRAYER-MAT-XL", title="Prayer mat, extra large",
                                           unit_price=Money(amount=15000, currency="SAR"), weight_g=1400,
                                           category="textiles"))
    inventory.set_stock("PRAYER-MAT", "riyadh-dc", 20)
    inventory.set_stock("PRAYER-MAT-L", "riyadh-dc", 2)
    email = f"{unique('exchange')}@example.com"
    order_id = delivered_order(local_stack, email, {"PRAYER-MAT": 1})
    line = {"sku": "PRAYER-MAT", "quantity": 1, "reason": "wrong_size", "exchange_for": "PRAYER-MAT-L"}
    asked = {"lines": [line], "method": "pickup", "refund_method": "exchange",
             "pickup": {"day": "2020-01-06", "window": "morning"}}

    no_day = post_return(local_stack, order_id, asked, unique("return-key"))
    assert no_day.status == 422 and [e["path"] for e in no_day.body["errors"]] == ["pickup"]
    offered = no_day.body["pickup_days"]
    assert offered and {slot["window"] for slot in offered} == {"morning", "afternoon"}
    assert "no courier pickup on 2020-01-06 morning: choose one of " + offered[0]["day"] in no_day.body["detail"]
    not_a_size = post_return(local_stack, order_id, {**asked, "pickup": offered[-1],
                                                     "lines": [{**line, "exchange_for": "PRAYER-MAT-XL"}]},
                             unique("return-key"))
    assert not_a_size.status == 409 and "choose one of its other sizes or variants (PRAYER-MAT-L)" in \
        not_a_size.body["detail"]
    half = post_return(local_stack, order_id, {**asked, "pickup": offered[-1], "lines": [
        {key: value for key, value in line.items() if key != "exchange_for"}]}, unique("return-key"))
    assert half.status == 422 and "exchange_for goes on every line with refund_method exchange" in json.dumps(
        half.body)
    assert stock(local_stack, "PRAYER-MAT-L", "riyadh-dc")[1] == 0  # nothing held by the refusals

    key = unique("return-key")
    made = post_return(local_stack, order_id, {**asked, "pickup": offered[-1]}, key)
    assert made.status == 201, made.body
    ret = made.body
    assert [(one["sku"], one["exchange_for"]) for one in ret["lines"]] == [("PRAYER-MAT", "PRAYER-MAT-L")]
    assert (ret["refund_method"], ret["estimate"]["total"]["amount"], ret["status"]) == ("exchange", 0, "approved")
    assert (ret["pickup_on"], ret["pickup_window"]) == (offered[-1]["day"], offered[-1]["window"])
    assert ret["replacement_id"] and stock(local_stack, "PRAYER-MAT-L", "riyadh-dc")[1] == 1  # held
    replay = post_return(local_stack, order_id, {**asked, "pickup": offered[-1]}, key)
    assert replay.status == 201 and replay.body["return_id"] == ret["return_id"]
    assert stock(local_stack, "PRAYER-MAT-L", "riyadh-dc")[1] == 1 and len(executions_of(
        local_stack, ret["return_id"])) == 1

    labelled = return_when(local_stack, order_id, ret["return_id"], parked("label_issued"), "no label")
    assert (labelled.pickup_on, labelled.pickup_window) == (offered[-1]["day"], offered[-1]["window"])
    read = http("GET", f"{local_stack.gateway.url}/orders/{order_id}/returns/{ret['return_id']}").body
    assert read["tracking_number"] == labelled.tracking_number and read["pickup_on"] == offered[-1]["day"]
    label_ready = [m for m in messages_to(local_stack, email, 5) if m.subject.startswith("Your return label")]
    assert len(label_ready) == 1 and "A courier will collect it on" in label_ready[0].body
