"""A storefront asks for a return over the local HTTP gateway (POST /orders/{order_id}/returns), as the order page's
form does: the documented example succeeds on the README's order once delivered, a replayed Idempotency-Key answers
the same return and starts one return workflow, lines that cannot go back are a 409 naming each and why, a request
that does not hold together a 422, and the return reads back (GET .../returns/{return_id})."""

import json

from parcels import place_order
from return_trips import delivered_order, parked, return_when

from dawra.contracts.api import EXAMPLE_ORDER
from dawra.contracts.problems import PROBLEM_JSON
from dawra.contracts.return_api import EXAMPLE_RETURN
from dawra.local.actors import http


def post_return(stack, order_id: str, body: dict, key: str | None) -> object:
    headers = {"Content-Type": "application/json", **({"Idempotency-Key": key} if key else {})}
    return http("POST", f"{stack.gateway.url}/orders/{order_id}/returns", json.dumps(body).encode(), headers)


def executions_of(stack, return_id: str) -> list[dict]:
    arn = stack.cloud.resolve_ref("state_machine", "return-lifecycle", "arn")
    executions = stack.cloud.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]
    return [e for e in executions if e["name"] == return_id]


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
