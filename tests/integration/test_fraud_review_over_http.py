"""Fraud screening and agent review over HTTP on the embedded cloud, through the real state machine: an order the
screening sends to review waits on hold (every parcel parked) until an agent approves it (it ships) or rejects it
(the workflow's compensation: stock released, payment voided, the customer told); nobody deciding in time cancels
it with `ReviewTimedOut` (test_fraud_timeout_over_http.py, on a stack of its own); a refusal is a 403 problem that
names no rule and writes nothing but its record."""

from __future__ import annotations

import uuid

import pytest
from parcels import execution_status, messages_about
from stacks import operator

from dawra.local.actors import Storefront


def body(email: str, *, billing: str | None = None, postal_code: str | None = None, quantity: int = 1) -> dict:
    address = {"name": "Huda", "line1": "7 Tahlia St", "city": "Jeddah", "country": "SA",
               **({"postal_code": postal_code} if postal_code else {})}
    return {"customer_id": f"c-{uuid.uuid4().hex[:8]}", "contact": {"email": email},
            "shipping_address": address, "lines": [{"sku": "DATES-1KG", "quantity": quantity}],
            "payment_token": "tok_sandbox_approve",
            **({"billing_address": {"name": "Huda", "line1": "1 Sheikh Zayed Rd", "city": "Dubai",
                                    "country": billing}} if billing else {})}


def key() -> str:
    return f"req-{uuid.uuid4()}"


def orders_table_items(stack) -> list[dict]:
    table = stack.cloud.resolve_ref("table", "orders", "name")
    return stack.cloud.client("dynamodb").scan(TableName=table)["Items"]


@pytest.fixture(scope="module")
def review(local_stack):
    return {"store": Storefront(local_stack.gateway.url), "agent": operator(local_stack, "agent")}


def held_for_review(stack, store: Storefront, email: str) -> dict:
    placed = store.place_order(body(email, billing="AE"), key())
    assert placed.status == 201, placed.body
    order = store.wait_for(placed.body["order_id"], {"ON_HOLD"})
    return order


def test_an_order_held_for_review_is_in_the_queue_with_its_reasons_and_an_agents_approval_ships_it(local_stack,
                                                                                                    review):
    store, agent = review["store"], review["agent"]
    order = held_for_review(local_stack, store, f"approve-{uuid.uuid4().hex[:8]}@example.com")
    order_id = order["order_id"]
    queue = agent.get("/holds?kind=fraud_review")
    assert queue.status == 200, queue.body
    [row] = [r for r in queue.body["orders"] if r["order_id"] == order_id]
    assert row["hold_kind"] == "fraud_review"
    assert [(r["code"], r["en"]) for r in row["hold_reasons"]] == [
        ("risk.billing_country_mismatch", "Billing country differs from the shipping country")]
    detail = agent.get(f"/orders/{order_id}").body
    assert detail["hold_kind"] == "fraud_review" and detail["hold_reasons"][0]["ar"]
    on_hold = [e for e in detail["timeline"] if e["kind"] == "order_on_hold"]
    assert on_hold[0]["detail"] == {"hold_kind": "fraud_review", "reasons": "risk.billing_country_mismatch"}

    approved = agent.post(f"/orders/{order_id}/release", {"reason": "called the customer: genuine"}, key())
    assert approved.status == 200, approved.body
    assert approved.body["audit"]["action"] == "release_hold"
    shipped = store.wait_for(order_id, {"SHIPPED"})
    assert shipped["payment"]["captured"]["amount"] == shipped["totals"]["total"]["amount"]
    assert order_id not in {r["order_id"] for r in agent.get("/holds?kind=fraud_review").body["orders"]}
    # the order counted on its email in its own commit: a keyed digest, never the address
    counters = [item for item in orders_table_items(local_stack) if item["pk"]["S"].startswith("RISK#email#")]
    assert counters and all(int(c["orders"]["N"]) >= 1 and "expires_at" in c for c in counters)
    assert "example.com" not in str(counters)


def test_an_agents_rejection_cancels_through_compensation_and_tells_the_customer(local_stack, review):
    store, agent = review["store"], review["agent"]
    email = f"reject-{uuid.uuid4().hex[:8]}@example.com"
    order_id = held_for_review(local_stack, store, email)["order_id"]
    rejected = agent.post(f"/orders/{order_id}/reject", {"reason": "the card holder does not know this order"},
                          key())
    assert rejected.status == 200, rejected.body
    assert rejected.body["audit"]["action"] == "reject_hold"
    cancelled = store.wait_for(order_id, {"CANCELLED"})
    assert cancelled["cancellation_reason"] == "RejectedInReview"
    assert cancelled["payment"]["voided"] is True and cancelled["payment"]["captured"]["amount"] == 0
    assert execution_status(local_stack, order_id) == "SUCCEEDED"  # a business outcome, not an incident
    [message] = messages_about(local_stack, email, "cancel")
    assert "could not confirm its details" in message.body
    again = agent.post(f"/orders/{order_id}/release", {"reason": "too late"}, key())
    assert again.status == 409


def test_a_refused_checkout_is_a_403_that_names_no_rule_and_writes_only_its_record(local_stack, review):
    store, agent = review["store"], review["agent"]
    before = orders_table_items(local_stack)
    email = f"refused-{uuid.uuid4().hex[:8]}@example.com"
    refused = store.place_order(body(email, postal_code="99999"), key())
    assert refused.status == 403 and refused.headers["Content-Type"] == "application/problem+json"
    assert refused.body["type"] == "urn:dawra:problem:refused_by_risk_screening"
    assert refused.body["code"] == "refused_by_risk_screening"
    assert "postcode" not in str(refused.body).lower() and "99999" not in str(refused.body)
    after = orders_table_items(local_stack)
    new = [item for item in after if item not in before]
    assert [item["pk"]["S"].split("#")[0] for item in new] == ["REFUSED"]  # nothing of an order, no counter
    assert email not in str(new) and "expires_at" in new[0]
    listed = agent.get(f"/refusals?day={new[0]['at']['S'][:10]}")
    assert listed.status == 200, listed.body
    assert "risk.blocked_postcode" in [r["code"] for refusal in listed.body["refusals"] for r in refusal["reasons"]]
