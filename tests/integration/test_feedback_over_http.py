"""Feedback after delivery on the local stack, through the real state machine: the order completed by its last
delivery has its feedback ask scheduled by the notifier (EventBridge Scheduler, fired by the embedded cloud's
scheduler poller), the ask sends one message whose link opens the order page's feedback form, the customer answers
once over HTTP, and the operations view counts the answer.

The merchant's delay is set to zero here; the scheduler never fires sooner than a minute ahead (decisions), so the
test moves the schedule's time to now, as a minute passing would, and the poller fires it."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from pages import call
from stacks import eventually, seeded_stack

from dawra.contracts.later import at_expression, parse_at
from dawra.local.actors import SandboxCarrierSimulator, Storefront

pytestmark = pytest.mark.timeout(240)
LINK = re.compile(r"http://127\.0\.0\.1:\d+/my-order/[A-Za-z0-9_-]{52}")


@pytest.fixture(scope="module")
def stack():
    yield from seeded_stack(**{"feedback-after-hours": "0"})


def wait(what, timeout_s: float = 60):
    return eventually(what, timeout_s)


def delivered_order(stack, language: str) -> tuple[str, str]:
    email = f"fb-{uuid.uuid4().hex[:10]}@example.com"
    body = {"customer_id": "c-fb", "contact": {"email": email, "language": language},
            "shipping_address": {"name": "Sara <b>Ali</b>", "line1": "1 Olaya St", "city": "Riyadh", "country": "SA"},
            "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "payment_token": "tok_sandbox_approve"}
    store = Storefront(stack.gateway_url)
    order_id = store.place_order(body, f"key-{uuid.uuid4().hex}").body["order_id"]
    carrier = SandboxCarrierSimulator(stack.gateway_url, stack.cloud.carrier_secrets["carrier-sandbox-webhook"])
    order = wait(lambda: (o := store.get_order(order_id).body)["shipments"] and all(
        s["tracking_number"] for s in o["shipments"]) and o)
    for shipment in order["shipments"]:
        carrier.deliver(shipment["tracking_number"])
    store.wait_for(order_id, {"COMPLETED"}, timeout_s=60)
    return order_id, email


def fire_now(stack, name: str) -> dict:
    """Move the schedule's time to now (as if the minute had passed); the poller fires it and deletes it."""
    scheduler = stack.cloud.client("scheduler")
    group = stack.cloud.resolve_ref("schedule_group", "later", "name")
    schedule = wait(lambda: _get(scheduler, group, name), timeout_s=30)
    assert schedule, f"no schedule {name}"
    scheduler.update_schedule(
        Name=name, GroupName=group, ScheduleExpression=at_expression(datetime.now(UTC)),
        ScheduleExpressionTimezone="UTC", FlexibleTimeWindow={"Mode": "OFF"}, Target=schedule["Target"],
        ActionAfterCompletion="DELETE")
    assert wait(lambda: _get(scheduler, group, name) is None, timeout_s=30), "the poller did not fire it"
    return schedule


def _get(scheduler, group: str, name: str):
    try:
        return scheduler.get_schedule(GroupName=group, Name=name)
    except scheduler.exceptions.ResourceNotFoundException:
        return None


def form_fields(page: str, testid: str) -> dict[str, str]:
    form = re.search(rf'<form[^>]*data-testid="{testid}".*?</form>', page, re.S)
    assert form, f"no {testid} on the page"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form[0]))


def post(url: str, fields: dict[str, str]):
    return call("POST", url, urlencode(fields).encode(),
                {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"})


def test_a_delivered_order_asks_once_and_takes_one_answer(stack):
    order_id, email = delivered_order(stack, "ar")
    completed_at = datetime.now(UTC)

    schedule = fire_now(stack, f"feedback-{order_id}")
    # Scheduled at completion plus the merchant's delay (zero here), never sooner than a minute ahead.
    assert timedelta(0) <= parse_at(schedule["ScheduleExpression"]) - completed_at <= timedelta(seconds=70)
    assert '"kind":"ask_for_feedback"' in schedule["Target"]["Input"] and order_id in schedule["Target"]["Input"]

    asks = wait(lambda: [m for m in stack.outbox() if m.to == email and "كيف كانت تجربتك" in m.subject])
    assert len(asks) == 1
    link = LINK.search(asks[0].body)
    assert link and f"{link[0]}#feedback" in asks[0].body

    opened = call("GET", link[0], headers={"Accept": "text/html"})
    assert opened.status == 200 and 'id="feedback"' in opened.text and 'dir="rtl"' in opened.text
    fields = form_fields(opened.text, "feedback-form")

    bad = post(f"{link[0]}/feedback", {**fields, "rating": "9", "recommend": "9"})
    assert bad.status == 422  # a rating is 1 to 5: refused, nothing recorded
    answer = {**fields, "rating": "4", "recommend": "9", "comment": "سريع <script>alert(1)</script>"}
    first = post(f"{link[0]}/feedback", answer)
    again = post(f"{link[0]}/feedback", {**answer, "rating": "1"})  # a double submit: the first stands
    assert first.status == again.status == 303

    shown = call("GET", link[0], headers={"Accept": "text/html"})
    assert 'data-testid="feedback-given"' in shown.text and "feedback-form" not in shown.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.text and "<script>alert" not in shown.text

    order = Storefront(stack.gateway_url).get_order(order_id).body
    answers = [e for e in order["timeline"] if e["kind"] == "feedback_received"]
    asked = [e for e in order["timeline"] if e["kind"] == "feedback_requested"]
    assert len(answers) == 1 and len(asked) == 1

    # The job delivered again (at least once delivery) asks nothing more.
    stack.cloud.client("sqs").send_message(QueueUrl=stack.cloud.resolve_ref("queue", "later-jobs", "url"),
                                           MessageBody=schedule["Target"]["Input"])
    stack.pollers.drain()
    time.sleep(0.5)
    assert len([m for m in stack.outbox() if m.to == email and "كيف كانت تجربتك" in m.subject]) == 1


def test_the_operations_view_counts_the_answers(stack):
    from dawra.adapters.dynamo.operations import DynamoOrderHistory
    from dawra.app.operations import OperationsView
    from dawra.domain.access import Actor, Role

    view = OperationsView(DynamoOrderHistory(stack.cloud.resolve_ref("table", "orders", "name")), timedelta(hours=48))
    manager = Actor(user_id="u-m", username="m", roles=frozenset({Role.MANAGER}))
    feedback = view(manager, datetime.now(UTC), days=1).feedback
    assert feedback.responses == 1 and feedback.average_rating == 4.0 and feedback.nps == 100
