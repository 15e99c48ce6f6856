"""When messages go out, on the local stack through the real state machine, notifier and later-jobs function: an SMS
customer's shipped message in their quiet hours is held (the confirmation, urgent, is not) and sent once when its
schedule fires; a split order's parcels shipped together make one message with every tracking number.

The quiet hours are set around the test's own clock on the customer's (Riyadh, UTC+3), so that "now" is inside them.
Schedules never fire sooner than a minute ahead; the test moves a schedule's time to now, as time passing would, and
the embedded cloud's poller fires it."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from stacks import eventually, seeded_stack

from dawra.contracts.later import at_expression, parse_at
from dawra.local.actors import Storefront

pytestmark = pytest.mark.timeout(240)
RIYADH = timedelta(hours=3)
PHONE = "+966501230077"


def quiet_now() -> str:
    """Quiet hours from an hour ago to two hours on, on the Riyadh clock."""
    local = datetime.now(UTC) + RIYADH
    return f"{local - timedelta(hours=1):%H:%M}-{local + timedelta(hours=2):%H:%M}"


@pytest.fixture(scope="module")
def stack():
    yield from seeded_stack(**{"sms-quiet-hours": quiet_now()})


def wait(what, timeout_s: float = 60):
    return eventually(what, timeout_s)


def place(stack, lines: dict[str, int], contact: dict) -> tuple[str, dict]:
    body = {"customer_id": "c-timing", "contact": contact,
            "shipping_address": {"name": "Omar", "line1": "1 Olaya St", "city": "Riyadh", "country": "SA"},
            "lines": [{"sku": sku, "quantity": q} for sku, q in lines.items()], "payment_token": "tok_sandbox_approve"}
    store = Storefront(stack.gateway_url)
    order_id = store.place_order(body, f"key-{uuid.uuid4().hex}").body["order_id"]
    order = wait(lambda: (o := store.get_order(order_id).body)["shipments"] and all(
        s["tracking_number"] for s in o["shipments"]) and o)
    assert order, "the parcels did not ship"
    return order_id, order


def schedules_for(stack, order_id: str, kind: str) -> list[dict]:
    scheduler = stack.cloud.client("scheduler")
    group = stack.cloud.resolve_ref("schedule_group", "later", "name")
    found = []
    for summary in scheduler.list_schedules(GroupName=group)["Schedules"]:
        try:
            schedule = scheduler.get_schedule(GroupName=group, Name=summary["Name"])
        except scheduler.exceptions.ResourceNotFoundException:
            continue  # fired meanwhile
        job = json.loads(schedule["Target"]["Input"])
        if job.get("order_id") == order_id and job["kind"] == kind:
            found.append(schedule)
    return found


def fire_now(stack, schedule: dict) -> None:
    """Move the schedule's time to now (as if its time had come); the poller fires it and deletes it."""
    scheduler = stack.cloud.client("scheduler")
    group, name = schedule["GroupName"], schedule["Name"]
    scheduler.update_schedule(
        Name=name, GroupName=group, ScheduleExpression=at_expression(datetime.now(UTC)),
        ScheduleExpressionTimezone="UTC", FlexibleTimeWindow={"Mode": "OFF"}, Target=schedule["Target"],
        ActionAfterCompletion="DELETE")

    def gone():
        try:
            scheduler.get_schedule(GroupName=group, Name=name)
        except scheduler.exceptions.ResourceNotFoundException:
            return True
        return False
    assert wait(gone, timeout_s=30), "the poller did not fire it"


def test_a_shipped_sms_in_the_quiet_hours_is_held_until_they_end_then_sent_once(stack):
    order_id, order = place(stack, {"MUG-CLASSIC": 1}, {"email": "night@example.com", "phone": PHONE,
                                                        "preferred_channel": "sms"})
    [tracking] = [s["tracking_number"] for s in order["shipments"]]
    sms = lambda: [m for m in stack.outbox() if m.to == PHONE and tracking in m.body]  # noqa: E731
    # The confirmation is urgent: it went at once, quiet hours or not.
    assert wait(lambda: [m for m in stack.outbox() if m.to == PHONE and "confirmed" in m.body])

    [held] = wait(lambda: schedules_for(stack, order_id, "send_held_message"), timeout_s=30)
    assert held["Name"].startswith("held-") and len(held["Name"]) <= 64
    # Held until the quiet hours end: two hours from the fixture's start, give or take its own minutes.
    assert timedelta(minutes=90) < parse_at(held["ScheduleExpression"]) - datetime.now(UTC) <= timedelta(hours=2)
    stack.pollers.drain()
    assert not sms()

    fire_now(stack, held)
    assert len(wait(sms, timeout_s=30)) == 1
    # The job delivered again sends nothing more.
    stack.cloud.client("sqs").send_message(QueueUrl=stack.cloud.resolve_ref("queue", "later-jobs", "url"),
                                           MessageBody=held["Target"]["Input"])
    stack.pollers.drain()
    time.sleep(0.5)
    assert len(sms()) == 1


def test_a_split_orders_parcels_shipped_together_make_one_message(stack):
    email = f"split-{uuid.uuid4().hex[:8]}@example.com"
    order_id, order = place(stack, {"DALLAH-BRASS": 1, "DATES-1KG": 1}, {"email": email})
    numbers = [s["tracking_number"] for s in order["shipments"]]
    assert len(numbers) == 2
    digests = wait(lambda: len(found := schedules_for(stack, order_id, "send_shipped_digest")) == 2 and found,
                   timeout_s=30)
    assert digests, "one digest job per parcel"
    shipped = lambda: [m for m in stack.outbox() if m.to == email and "on its way" in m.subject]  # noqa: E731
    stack.pollers.drain()
    assert not shipped()

    fire_now(stack, digests[0])
    [message] = wait(shipped, timeout_s=30)
    assert all(number in message.body for number in numbers)
    fire_now(stack, digests[1])  # the other parcel's job finds both told
    stack.pollers.drain()
    time.sleep(0.5)
    assert len(shipped()) == 1
