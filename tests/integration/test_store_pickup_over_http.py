"""Store pickup on the embedded cloud (decision 98), through the real state machine: an order placed for collection
at the Jeddah store (no shipping charge) waits for the store; marked ready in the console, the customer gets the
code; a wrong code is refused, the right one hands it over and the order completes (captured, stock consumed). On
this stack (deploy parameter pickup-hours) a ready order waits a few seconds only: one nobody collects is reminded once, then cancelled,
its units back at the store and its authorisation voided."""

from __future__ import annotations

import re
import uuid

import pytest
from pages import console, hidden
from parcels import execution_status, messages_about, stock
from stacks import eventually

from dawra.local.actors import Storefront
from dawra.local.scenario import sign_in
from dawra.local.seed import create_operator

CODE = re.compile(r"\b([2-9A-Z]{4}-[2-9A-Z]{4})\b")


@pytest.fixture(scope="module")
def impatient():
    """A stack of its own where a ready pickup waits 14 seconds, with a reminder after 5 (`pickup-hours`)."""
    from stacks import seeded_stack

    yield from seeded_stack(**{"pickup-hours": f"remind={5 / 3600:.6f},collect={14 / 3600:.6f}"})


@pytest.fixture(scope="module")
def desk(impatient):
    local_stack = impatient
    username = f"store-{uuid.uuid4().hex[:8]}"
    person = create_operator(local_stack.cloud, username, f"{username}@dawra.example", ("store",))
    return {"token": sign_in(local_stack, person), "store": Storefront(local_stack.gateway_url)}


def place(store: Storefront, email: str, **extra: object):
    return store.place_order({
        "customer_id": "cust-pickup", "contact": {"email": email},
        "shipping_address": {"name": "Huda", "line1": "7 Tahlia St", "city": "Jeddah", "country": "SA"},
        "lines": [{"sku": "MUG-CLASSIC", "quantity": 2}], "payment_token": "tok_sandbox_approve",
        "delivery": {"method": "pickup", "location_id": "jeddah-store"}, **extra}, f"pickup-{uuid.uuid4()}")


def mark_ready(base: str, token: str, order_id: str) -> str:
    """Waits for the order on the desk's "to put out" list, marks it ready; returns its shipment id."""
    def listed() -> str | None:
        page = console(base, token, "GET", "/admin/pickups?location=jeddah-store").text
        return page if f'data-order="{order_id}" data-status="allocated"' in page else None

    page = eventually(listed, timeout_s=60, every_s=0.5)
    assert page, "the order never reached the store's desk"
    shipment_id = re.search(rf'data-shipment="(shp_[0-9a-f]+)" data-order="{order_id}"', page).group(1)
    done = console(base, token, "POST", "/admin/pickups/ready", {
        "csrf": hidden(page, "csrf"), "key": f"k-{uuid.uuid4()}", "location": "jeddah-store",
        "order_id": order_id, "shipment_id": shipment_id})
    assert done.status == 303, done.text[:500]
    return shipment_id


def test_a_pickup_order_is_marked_ready_handed_over_for_its_code_and_completes(impatient, desk):
    local_stack = impatient
    base, token, store = local_stack.gateway_url, desk["token"], desk["store"]
    refused = place(store, "nope@example.com", delivery={"method": "pickup", "location_id": "riyadh-dc"})
    assert refused.status == 422 and refused.body["type"].endswith("pickup_not_offered")
    email = f"pickup-{uuid.uuid4().hex[:8]}@example.com"
    before = stock(local_stack, "MUG-CLASSIC", "jeddah-store")
    placed = place(store, email)
    assert placed.status == 201, placed.body
    order_id = placed.body["order_id"]
    assert placed.body["totals"]["shipping"]["amount"] == 0

    shipment_id = mark_ready(base, token, order_id)
    [ready] = messages_about(local_stack, email, "ready to collect")
    code = CODE.search(ready.body).group(1)
    assert "Jeddah store" in ready.body and "10:00-22:00" in ready.body
    view = store.get_order(order_id).body
    assert view["status"] == "ALLOCATED" and view["shipments"][0]["status"] == "ready_for_pickup"
    assert view["payment"]["captured"]["amount"] == 0 and not view["shipments"][0].get("tracking_number")

    page = console(base, token, "GET", "/admin/pickups?location=jeddah-store").text
    assert code not in page  # the console never shows the customer's code
    form = {"csrf": hidden(page, "csrf"), "location": "jeddah-store", "order_id": order_id,
            "shipment_id": shipment_id}
    wrong = console(base, token, "POST", "/admin/pickups/hand-over", {**form, "key": f"k-{uuid.uuid4()}",
                                                                      "code": "ZZZZ-ZZZZ"})
    assert wrong.status == 422 and "Wrong pickup code" in wrong.text
    right = console(base, token, "POST", "/admin/pickups/hand-over", {**form, "key": f"k-{uuid.uuid4()}",
                                                                      "code": code})
    assert right.status == 303, right.text[:500]

    done = store.wait_for(order_id, {"COMPLETED"}, timeout_s=60)
    assert done["shipments"][0]["status"] == "collected"
    assert done["payment"]["captured"]["amount"] == done["totals"]["total"]["amount"]
    assert execution_status(local_stack, order_id) == "SUCCEEDED"
    on_hand, reserved, _ = stock(local_stack, "MUG-CLASSIC", "jeddah-store")
    assert (on_hand, reserved) == (before[0] - 2, before[1])  # held at the store, then consumed: gone with it
    kinds = [e["kind"] for e in done["timeline"]]
    assert kinds.index("pickup_ready") < kinds.index("pickup_collected") < kinds.index("order_completed")


def test_a_pickup_nobody_collects_is_reminded_once_then_cancelled_with_its_stock_back(impatient, desk):
    local_stack = impatient
    base, token, store = local_stack.gateway_url, desk["token"], desk["store"]
    email = f"unclaimed-{uuid.uuid4().hex[:8]}@example.com"
    before = stock(local_stack, "MUG-CLASSIC", "jeddah-store")
    placed = place(store, email)
    assert placed.status == 201, placed.body
    order_id = placed.body["order_id"]
    mark_ready(base, token, order_id)
    assert messages_about(local_stack, email, "Reminder", timeout_s=40)
    cancelled = store.wait_for(order_id, {"CANCELLED"}, timeout_s=60)
    assert cancelled["cancellation_reason"] == "NotCollected"
    assert cancelled["payment"]["voided"] is True and cancelled["payment"]["captured"]["amount"] == 0
    assert execution_status(local_stack, order_id) == "SUCCEEDED"
    assert stock(local_stack, "MUG-CLASSIC", "jeddah-store") == before  # released at the store, nothing consumed
    [message] = messages_about(local_stack, email, "cancel")
    assert "not collected at the store in time" in message.body
    assert len(messages_about(local_stack, email, "Reminder")) == 1
    assert eventually(lambda: [e for e in store.get_order(order_id).body["timeline"]
                               if e["kind"] == "pickup_reminder"])
