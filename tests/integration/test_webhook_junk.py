"""Junk on the carrier webhook, over HTTP through the whole local pipeline: nothing pages anyone (no DLQ message, no
function error, no 5xx), every junk request is recorded with its reason and dropped, and the genuine reports sent in
between are all applied: the order they belong to completes.

The embedded cloud is one Python process; it carries about 50 webhooks a second into SQS and 13 a second through the
consumer (measured on 2 cores), so this sends 20 a second for 15 seconds. The same mix at 100 a second for a minute
(6,000 junk requests) goes through the tracking use case in tests/unit/test_tracking.py."""

import json
import threading
import time
from collections import Counter

import pytest

from dawra.local.actors import SandboxCarrierSimulator, Storefront, http
from dawra.local.seed import seed
from dawra.local.stack import LocalStack

RATE, SECONDS = 20, 15
JUNK = [
    ("sandbox", b"not json at all", "t=1,v1=00"),  # bad signature
    ("sandbox", json.dumps({"event_id": "x", "tracking_number": "SBX000000000000", "status": "DELIVERED",
                            "occurred_at": "2026-11-23T10:00:00Z"}).encode(), None),  # unsigned
    ("acme-express", b"{}", "t=1,v1=00"),  # a carrier nobody configured
    ("sandbox", b"\xff\xfe\x00 binary junk \x00", "garbage"),  # not UTF-8, malformed signature
]


@pytest.fixture(scope="module")
def stack():
    from dawra.adapters.dynamo.inventory import DynamoInventory

    with LocalStack(background_pollers=True) as running:
        seed(DynamoInventory(running.cloud.resolve_ref("table", "inventory", "name")))
        yield running


@pytest.mark.timeout(240)
def test_a_minute_of_junk_pages_nobody_and_loses_no_genuine_report(stack):
    cloud, store = stack.cloud, Storefront(stack.gateway.url)
    carrier = SandboxCarrierSimulator(stack.gateway.url, cloud.carrier_secrets["carrier-sandbox-webhook"])
    body = {"customer_id": "junk-test", "contact": {"email": "junk-test@example.com"},
            "shipping_address": {"name": "N", "line1": "L", "city": "Riyadh", "country": "SA"},
            "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "payment_token": "tok_sandbox_approve"}
    order_id = store.place_order(body, "junk-test-order-1").body["order_id"]
    order = store.wait_for(order_id, {"SHIPPED"})
    while not order["shipments"][0]["tracking_number"]:
        order = store.get_order(order_id).body
    tracking = order["shipments"][0]["tracking_number"]
    errors_before = sum(cloud.lambdas.errors.values())

    statuses: Counter = Counter()
    lock = threading.Lock()
    started = time.monotonic()
    genuine = {3: "PICKED_UP", 7: "OUT_FOR_DELIVERY", 11: "DELIVERED"}

    def junk_sender(offset: int) -> None:
        for n in range(offset, RATE * SECONDS, 4):
            due = started + n / RATE
            time.sleep(max(0.0, due - time.monotonic()))
            name, raw, signature = JUNK[n % len(JUNK)]
            headers = {"Content-Type": "application/json", **({"X-Carrier-Signature": signature} if signature else {})}
            result = http("POST", f"{stack.gateway.url}/webhooks/carriers/{name}", raw, headers)
            with lock:
                statuses[result.status] += 1

    senders = [threading.Thread(target=junk_sender, args=(k,)) for k in range(4)]
    for sender in senders:
        sender.start()
    for second, status in genuine.items():
        time.sleep(max(0.0, started + second - time.monotonic()))
        assert carrier.post(tracking, status).status == 202
    for sender in senders:
        sender.join()
    elapsed = time.monotonic() - started

    done = store.wait_for(order_id, {"COMPLETED"}, timeout_s=60)
    deadline = time.monotonic() + 60
    while cloud.client("sqs").get_queue_attributes(
            QueueUrl=cloud.resolve_ref("queue", "carrier-tracking", "url"),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"] != {
            "ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}:
        assert time.monotonic() < deadline, "the tracking queue did not drain"
        time.sleep(0.5)

    sent = sum(statuses.values())
    assert statuses == {202: sent}, statuses  # stored first, every one: no 5xx to page anyone
    dlq = cloud.client("sqs").get_queue_attributes(
        QueueUrl=cloud.resolve_ref("queue", "carrier-tracking-dlq", "url"),
        AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"]
    assert dlq == "0"
    day = time.strftime("%Y-%m-%d", time.gmtime())
    pages = cloud.client("dynamodb").get_paginator("query").paginate(
        TableName="dawra-orders", KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {
            "S": f"REJECTED#{day}"}})
    reasons = Counter(item["reason"]["S"] for page in pages for item in page["Items"])
    assert sum(reasons.values()) >= sent, (reasons, sent)
    assert {"signature", "carrier"} <= set(reasons)
    assert done["shipments"][0]["status"] == "delivered"
    assert sum(cloud.lambdas.errors.values()) == errors_before  # no function error: the Errors alarms stay quiet
    print(f"\njunk: {sent} requests in {elapsed:.1f} s ({sent / elapsed:.0f}/s), rejected by reason {dict(reasons)}; "
          f"the order completed; DLQ empty")
