"""The real state machine on the embedded cloud, when an order does not go right: a parcel that never arrives is
late (the customer is told), then lost in transit, and by the default policy (agent) handed to a person (nothing
shipped is released or refunded, whoever runs the shop is alerted); a parcel that arrives after all completes the
order. The other policies: tests/integration/test_delivery_exceptions.py and test_lost_and_returned_refunds.py."""

import json
import time
from datetime import UTC, datetime, timedelta

from dawra.adapters.dynamo.inventory import DynamoInventory
from dawra.adapters.dynamo.orders import DynamoOrders
from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork
from dawra.adapters.messaging import SnsOpsAlerts
from dawra.adapters.payments.sandbox import SandboxPaymentProvider
from dawra.app.checkout import Checkout
from dawra.contracts.api import PlaceOrderRequest
from dawra.domain.inventory import ReservationState
from dawra.local.actors import SandboxCarrierSimulator, Storefront
from dawra.local.cloud import ACCOUNT, REGION


class PastClock:
    def now(self) -> datetime:
        return datetime.now(UTC) - timedelta(days=40)


def place_an_order_from_forty_days_ago(stack, unique) -> str:
    """Checkout as the orders API does it, with a clock 40 days back: the promise has long passed."""
    cloud = stack.cloud
    orders, inventory = (cloud.resolve_ref("table", t, "name") for t in ("orders", "inventory"))
    checkout = Checkout(DynamoOrders(orders), DynamoInventory(inventory), DynamoUnitOfWork(orders, inventory),
                        SandboxPaymentProvider(), SnsOpsAlerts(cloud.resolve_ref("topic", "ops-alerts", "arn")),
                        PastClock())
    request = PlaceOrderRequest.model_validate({
        "customer_id": unique("c"), "contact": {"email": f"{unique('late')}@example.com"},
        "shipping_address": {"name": "N", "line1": "L", "city": "Jeddah", "country": "SA"},
        "lines": [{"sku": "DALLAH-BRASS", "quantity": 1}, {"sku": "DATES-1KG", "quantity": 1}],
        "payment_token": "tok_sandbox_approve"})
    return checkout.place_order(unique("key"), request).order_id


def ops_alerts(stack) -> list[dict]:
    from moto.sns.models import sns_backends

    topic = sns_backends[ACCOUNT][REGION].topics[stack.cloud.resolve_ref("topic", "ops-alerts", "arn")]
    return [json.loads(message) for _, message, *_ in topic.sent_notifications]


def test_an_overdue_parcel_goes_to_a_person_and_a_late_delivery_completes_the_order(local_stack, unique):
    store = Storefront(local_stack.gateway.url)
    inventory = DynamoInventory(local_stack.cloud.resolve_ref("table", "inventory", "name"))
    order_id = place_an_order_from_forty_days_ago(local_stack, unique)

    order = store.wait_for(order_id, {"NEEDS_ATTENTION"}, timeout_s=60)
    # In words, for the back office: which parcel, what happened, why a person decides (the default policy).
    assert order["attention_reason"].startswith("Parcel SBX") and " is lost in transit: " in order["attention_reason"]
    assert order["attention_reason"].endswith("a person decides whether to send it again or refund it.")
    statuses = [s["status"] for s in order["shipments"]]  # the first parcel declared lost stops the other's wait
    assert "lost" in statuses and set(statuses) <= {"lost", "label_created"}
    # Nothing that left the building was undone: captured in full, nothing refunded or voided, nothing released.
    assert order["payment"]["captured"] == order["totals"]["total"]
    assert order["payment"]["refunded"]["amount"] == 0 and order["payment"]["voided"] is False
    assert {r.state for r in inventory.reservations(order_id)} == {ReservationState.SHIPPED}
    kinds = [e["kind"] for e in order["timeline"]]
    assert {"shipment_delayed", "shipment_lost", "order_needs_attention"} <= set(kinds)

    arn = local_stack.cloud.resolve_ref("state_machine", "order-lifecycle", "arn").replace(
        ":stateMachine:", ":execution:") + f":{order_id}"
    sfn = local_stack.cloud.client("stepfunctions")
    deadline = time.monotonic() + 20
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"  # a person's job now, not an incident
    # SettleClaim flags the order; AskAPerson, after the parcel's branch ends, alerts whoever runs the shop.
    assert {"order_id": order_id, "reason": "ParcelNeedsAPerson", "status": "NEEDS_ATTENTION"} in ops_alerts(local_stack)

    secret = local_stack.cloud.carrier_secrets["carrier-sandbox-webhook"]
    carrier = SandboxCarrierSimulator(local_stack.gateway.url, secret)
    for shipment in order["shipments"]:
        carrier.deliver(shipment["tracking_number"])
    done = store.wait_for(order_id, {"COMPLETED"}, timeout_s=30)
    assert [s["status"] for s in done["shipments"]] == ["delivered", "delivered"]


def test_a_throttled_checkout_answers_503_with_retry_after_and_the_retry_places_one_order(local_stack, unique):
    """Throttling on the checkout's own commit (its idempotency record rides in it) is never a 502: the storefront
    gets 503 with Retry-After, nothing is half-applied, and the retry with the same key places the order once."""
    from dawra.local.faults import FaultPlan

    store = Storefront(local_stack.gateway.url)
    body = {"customer_id": unique("c"), "contact": {"email": f"{unique('t')}@example.com"},
            "shipping_address": {"name": "N", "line1": "L", "city": "Riyadh", "country": "SA"},
            "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "payment_token": "tok_sandbox_approve"}
    key = unique("throttled-key")
    local_stack.cloud.faults.set_plan(FaultPlan.from_dict({"dynamodb:TransactWriteItems": {"throttle": 1.0}}))
    try:
        refused = store.place_order(body, key)
    finally:
        local_stack.cloud.faults.set_plan(None)
    assert refused.status == 503 and refused.headers["Retry-After"] == "1"
    assert refused.body["code"] == "temporarily_unavailable"
    placed = store.place_order(body, key)
    again = store.place_order(body, key)
    assert placed.status == again.status == 201 and placed.body["order_id"] == again.body["order_id"]
