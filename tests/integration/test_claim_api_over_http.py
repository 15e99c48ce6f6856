"""A storefront reports a parcel that arrived damaged over the local HTTP gateway (POST /orders/{order_id}/claims), as
the order page's claim form does: the documented example settles by itself on the README's order once delivered
(a refund paid out by the claim's workflow), a replayed Idempotency-Key answers the same claim and starts one
workflow, lines that cannot be claimed for are a 409 naming each and why, a request that does not hold together a
422, and the claim reads back as a return of kind claim (GET .../returns/{return_id})."""

import json

from parcels import place_order, shipped_tracking
from return_trips import delivered_order, executions_of, post_json, return_when, status_is

from dawra.contracts.claim_api import EXAMPLE_CLAIM
from dawra.contracts.problems import PROBLEM_JSON
from dawra.local.actors import http

MUG = 5175  # 45.00 + 15% VAT: under homeware's threshold (100.00), settled by itself


def post_claim(stack, order_id: str, body: dict, key: str | None) -> object:
    return post_json(stack, f"/orders/{order_id}/claims", body, key)


def test_a_storefront_reports_a_damaged_parcel_over_http_as_the_order_page_does(local_stack, unique):
    order_id = delivered_order(local_stack, f"{unique('sara')}@example.com", {"MUG-CLASSIC": 2})
    key = unique("claim-key")

    reported = post_claim(local_stack, order_id, EXAMPLE_CLAIM, key)
    assert reported.status == 201, reported.body
    claim = reported.body
    assert reported.headers["Location"] == f"/orders/{order_id}/returns/{claim['return_id']}"
    assert (claim["kind"], claim["method"], claim["claim_reason"], claim["claim_remedy"]) == (
        "claim", None, "arrived_damaged", "refund")
    assert (claim["status"], claim["settled_by_itself"], claim["refunded"]["amount"]) == ("refunded", True, MUG)
    assert [(line["sku"], line["quantity"], line["comment"]) for line in claim["lines"]] == [
        ("MUG-CLASSIC", 1, "The handle arrived cracked")]

    # Its workflow pays the refund out and closes it; replaying the key answers the same claim, starts nothing.
    return_when(local_stack, order_id, claim["return_id"], status_is("closed"), "not closed")
    replay = post_claim(local_stack, order_id, EXAMPLE_CLAIM, key)
    assert replay.status == 201 and replay.body["return_id"] == claim["return_id"]
    assert len(executions_of(local_stack, claim["return_id"])) == 1
    read = http("GET", f"{local_stack.gateway.url}/orders/{order_id}/returns/{claim['return_id']}")
    assert read.status == 200 and (read.body["kind"], read.body["status"]) == ("claim", "closed")
    order = http("GET", f"{local_stack.gateway.url}/orders/{order_id}").body
    assert order["payment"]["refunded"]["amount"] == MUG

    # One mug is claimed: two more cannot be, and the order has no prayer mat. Nothing is written.
    refused = post_claim(local_stack, order_id, {**EXAMPLE_CLAIM, "lines": [
        {"sku": "MUG-CLASSIC", "quantity": 2}, {"sku": "PRAYER-MAT", "quantity": 1}]}, unique("claim-key"))
    assert refused.status == 409 and refused.headers["Content-Type"] == PROBLEM_JSON
    assert refused.body["code"] == "not_claimable"
    assert [(line["sku"], line["why"], line["claimable"]) for line in refused.body["lines"]] == [
        ("MUG-CLASSIC", "too_many", 1), ("PRAYER-MAT", "not_in_order", 0)]
    order = http("GET", f"{local_stack.gateway.url}/orders/{order_id}").body
    assert [e["kind"] for e in order["timeline"]].count("claim_opened") == 1


def test_a_claim_that_does_not_hold_together_is_a_422_and_one_not_delivered_a_409(local_stack, unique):
    order_id = place_order(local_stack, f"{unique('sara')}@example.com", {"MUG-CLASSIC": 1})
    no_key = post_claim(local_stack, order_id, EXAMPLE_CLAIM, None)
    assert no_key.status == 422 and [e["path"] for e in no_key.body["errors"]] == ["headers.Idempotency-Key"]
    exchange = post_claim(local_stack, order_id, {**EXAMPLE_CLAIM, "refund_method": "exchange"}, unique("claim-key"))
    assert exchange.status == 422 and "ask for remedy reship" in json.dumps(exchange.body)
    # Shipped, not delivered yet (waited for: the workflow ships on its own, so "before it shipped" would be a race
    # with it): the mug cannot be claimed for, and the 409 says why for the line.
    shipped_tracking(local_stack, order_id)
    not_yet = post_claim(local_stack, order_id, EXAMPLE_CLAIM, unique("claim-key"))
    assert not_yet.status == 409 and not_yet.headers["Content-Type"] == PROBLEM_JSON
    assert not_yet.body["code"] == "not_claimable"
    assert [(line["sku"], line["why"], line["claimable"]) for line in not_yet.body["lines"]] == [
        ("MUG-CLASSIC", "not_delivered", 0)]
    order = http("GET", f"{local_stack.gateway.url}/orders/{order_id}").body
    assert "claim_opened" not in [e["kind"] for e in order["timeline"]]
