"""Payments over HTTP on the embedded cloud: the sandbox provider's signed webhooks through the gateway's queue route
(forged and replayed ones rejected, a paid payment link releasing its order, duplicates applied once, events out of
order each recorded), and a lapsed card authorisation renewed at shipping or handed to a person."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from stacks import eventually, operator

from dawra.adapters.dynamo.codec import fields, from_item
from dawra.adapters.payments.sandbox import SIGNATURE_HEADER, event, sign
from dawra.domain.money import Money
from dawra.domain.payment_events import PaymentEventKind as K
from dawra.domain.payment_events import checkout_reference
from dawra.domain.time import iso
from dawra.local.actors import Storefront, http

ADDRESS = {"name": "Sara", "line1": "12 Olaya St", "city": "Riyadh", "country": "SA"}


@pytest.fixture(scope="module")
def shop(local_stack):
    return {"agent": operator(local_stack, "agent"), "store": Storefront(local_stack.gateway.url),
            "secret": local_stack.cloud.carrier_secrets["payments-sandbox-webhook"].encode()}


def send(stack, raw: bytes, signature: str | None) -> int:
    headers = {"Content-Type": "application/json", **({SIGNATURE_HEADER: signature} if signature else {})}
    return http("POST", f"{stack.gateway.url}/payments/webhooks/sandbox", raw, headers).status


def signed(shop, raw: bytes, at: int | None = None) -> str:
    return sign(raw, shop["secret"], at or int(time.time()))


def reference_of(stack, order_id: str) -> str:
    """The checkout's merchant reference of the order (as the provider echoes it): its idempotency record's key."""
    table = stack.cloud.resolve_ref("table", "orders", "name")
    items = stack.cloud.client("dynamodb").scan(
        TableName=table, FilterExpression="begins_with(pk, :p) AND order_id = :o",
        ExpressionAttributeValues={":p": {"S": "IDEMPOTENCY#"}, ":o": {"S": order_id}})["Items"]
    (item,) = items
    return checkout_reference(item["pk"]["S"].removeprefix("IDEMPOTENCY#"))


def authorization_of(stack, order_id: str) -> str:
    table = stack.cloud.resolve_ref("table", "orders", "name")
    item = stack.cloud.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}}, ConsistentRead=True)["Item"]
    return fields(from_item(item))["payment"]["authorization_id"]  # the header's body is packed


def rejections(stack) -> list[dict]:
    table = stack.cloud.resolve_ref("table", "orders", "name")
    day = datetime.now(UTC).date().isoformat()
    items = stack.cloud.client("dynamodb").query(
        TableName=table, KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"REJECTED#{day}"}}, ConsistentRead=True)["Items"]
    return [item for item in items if item.get("carrier", {}).get("S") == "payments:sandbox"]


def timeline(shop, order_id: str) -> list[dict]:
    return shop["agent"].get(f"/orders/{order_id}").body["timeline"]


def payment_events(shop, order_id: str) -> list[dict]:
    return [e for e in timeline(shop, order_id) if e["kind"] == "payment_event"]


def test_a_paid_payment_link_releases_its_order_once_and_forgeries_do_not(local_stack, shop):
    placed = shop["agent"].post("/orders", {
        "customer_id": "cust-link", "contact": {"email": "link@example.com"}, "shipping_address": ADDRESS,
        "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "payment": "payment_link"}, f"req-{uuid.uuid4()}")
    assert placed.status == 201, placed.body
    order_id = placed.body["order"]["order_id"]
    authorization = placed.body["payment_link"].rsplit("/", 1)[1]
    shop["store"].wait_for(order_id, {"ON_HOLD"})
    raw = event(f"evt_{uuid.uuid4().hex}", K.LINK_PAID, authorization, reference_of(local_stack, order_id),
                occurred_at=iso(datetime.now(UTC)), amount=Money(amount=1, currency="SAR"))
    before = len(rejections(local_stack))
    # Stored (202) whatever they are, then judged: a forged signature, another key, a replay from an hour ago.
    assert send(local_stack, raw, None) == 202
    assert send(local_stack, raw, sign(raw, b"not-the-secret", int(time.time()))) == 202
    assert send(local_stack, raw, signed(shop, raw, int(time.time()) - 3600)) == 202
    reasons = eventually(lambda: sorted(r["reason"]["S"] for r in rejections(local_stack)[before:])
                         if len(rejections(local_stack)) >= before + 3 else None)
    assert reasons == ["replay", "signature", "signature"]
    assert shop["store"].get_order(order_id).body["status"] == "ON_HOLD"
    # The provider's own signed event: the hold ends and the workflow ships the order.
    assert send(local_stack, raw, signed(shop, raw)) == 202
    assert shop["store"].wait_for(order_id, {"SHIPPED"})["status"] == "SHIPPED"
    assert send(local_stack, raw, signed(shop, raw)) == 202  # the provider sends it again
    time.sleep(1)
    assert eventually(lambda: len(payment_events(shop, order_id)) == 1)
    assert len(payment_events(shop, order_id)) == 1  # applied once
    assert [e["kind"] for e in timeline(shop, order_id)].count("order_released") == 1


def test_events_out_of_order_are_each_recorded_once_at_the_providers_time(local_stack, shop):
    order_id = shop["store"].place_order({
        "customer_id": "cust-card", "contact": {"email": "card@example.com"}, "shipping_address": ADDRESS,
        "shipping_method": "standard", "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}],
        "payment_token": "tok_sandbox_approve"}, f"ord-{uuid.uuid4()}").body["order_id"]
    shop["store"].wait_for(order_id, {"SHIPPED"})
    authorization, reference = authorization_of(local_stack, order_id), reference_of(local_stack, order_id)
    now = datetime.now(UTC)
    failed = event(f"evt_{uuid.uuid4().hex}", K.REFUND_FAILED, authorization, reference,
                   occurred_at=iso(now - timedelta(minutes=1)), reason="card closed")
    settled = event(f"evt_{uuid.uuid4().hex}", K.CAPTURE_SETTLED, authorization, reference,
                    occurred_at=iso(now - timedelta(minutes=5)))
    assert send(local_stack, failed, signed(shop, failed)) == 202
    assert send(local_stack, settled, signed(shop, settled)) == 202
    recorded = eventually(lambda: len(payment_events(shop, order_id)) == 2 and payment_events(shop, order_id))
    assert [e["detail"]["event"] for e in recorded] == ["capture.settled", "refund.failed"]  # by the provider's time
    assert shop["store"].get_order(order_id).body["status"] == "SHIPPED"


@pytest.mark.parametrize(("token", "status", "kind"), [
    ("tok_sandbox_expired", "SHIPPED", "payment_reauthorized"),
    ("tok_sandbox_expired_no_reauth", "ON_HOLD", "payment_reauthorization_failed"),
])
def test_a_lapsed_authorisation_is_renewed_at_shipping_or_handed_to_a_person(local_stack, shop, token, status, kind):
    placed = shop["store"].place_order({
        "customer_id": "cust-lapse", "contact": {"email": "lapse@example.com"}, "shipping_address": ADDRESS,
        "shipping_method": "standard", "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "payment_token": token},
        f"ord-{uuid.uuid4()}")
    assert placed.status == 201, placed.body
    order_id = placed.body["order_id"]
    assert shop["store"].wait_for(order_id, {status})["status"] == status
    assert kind in [e["kind"] for e in timeline(shop, order_id)]
