"""A fraud review nobody decides in time, through the real state machine on a stack whose reviews last about four
seconds (the `hold-hours` deploy parameter): WaitWhileOnHold times out, HoldExpired records the cancellation, the
Map's Catch compensates (stock released, payment voided) and the customer is told; the execution succeeds."""

from __future__ import annotations

import uuid

import pytest
from parcels import execution_status, messages_about

from dawra.local.actors import Storefront


@pytest.fixture(scope="module")
def impatient():
    """A stack of its own whose fraud reviews last about four seconds."""
    from stacks import seeded_stack

    yield from seeded_stack(**{"hold-hours": "fraud_review=0.001"})


def test_a_review_nobody_decides_in_time_is_cancelled_and_the_customer_told(impatient):
    store = Storefront(impatient.gateway.url)
    email = f"timeout-{uuid.uuid4().hex[:8]}@example.com"
    placed = store.place_order({
        "customer_id": "c-timeout", "contact": {"email": email},
        "shipping_address": {"name": "Huda", "line1": "7 Tahlia St", "city": "Jeddah", "country": "SA"},
        "lines": [{"sku": "DATES-1KG", "quantity": 2}], "payment_token": "tok_sandbox_approve",
        "billing_address": {"name": "Huda", "line1": "1 Sheikh Zayed Rd", "city": "Dubai", "country": "AE"},
    }, f"req-{uuid.uuid4()}")
    assert placed.status == 201, placed.body
    order_id = placed.body["order_id"]
    cancelled = store.wait_for(order_id, {"CANCELLED"}, timeout_s=60)
    assert cancelled["cancellation_reason"] == "ReviewTimedOut"
    assert cancelled["payment"]["voided"] is True
    kinds = [e["kind"] for e in cancelled["timeline"]]
    assert "order_on_hold" in kinds and "cancellation_requested" in kinds and kinds[-1] == "order_cancelled"
    assert execution_status(impatient, order_id) == "SUCCEEDED"
    [message] = messages_about(impatient, email, "cancel")
    assert "could not confirm its details" in message.body
    inventory = impatient.cloud.client("dynamodb")
    stock = inventory.get_item(TableName=impatient.cloud.resolve_ref("table", "inventory", "name"),
                               Key={"pk": {"S": "SKU#DATES-1KG"}, "sk": {"S": "STOCK#riyadh-dc"}})["Item"]
    assert stock["reserved"]["N"] == "0"  # released
