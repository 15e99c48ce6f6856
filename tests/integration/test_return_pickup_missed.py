"""A courier who did not come, through the real return state machine and the order page over HTTP (decision 80): a
courier pickup is booked with the label; the sandbox carrier reports PICKUP_MISSED twice (the same report delivered
again, and a second report of the same miss) and the customer is told once, with a link; the customer follows it,
chooses another day on the page, and the carrier moves its courier; the courier then collects the parcel, it is
delivered to the warehouse and received. Asserts the return, the timeline and every message the customer got."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from pages import call
from parcels import carrier
from return_trips import (
    asking,
    delivered_order,
    execution,
    parked,
    report_return,
    return_when,
    returns_of,
    status_is,
    told_about_returns,
    what_told,
)
from stacks import seeded_stack

from dawra.domain.returns import PickupSlot, ReturnMethod, ReturnReason, ReturnRequest

pytestmark = pytest.mark.timeout(240)
PICKUP_LINK = r"(http://127\.0\.0\.1:\d+/my-order/[A-Za-z0-9_-]{52}/returns/%s/pickup)"


@pytest.fixture(scope="module")
def stack():
    yield from seeded_stack()


def timeline_kinds(stack, order_id: str, return_id: str) -> list[str]:
    from dawra.adapters.dynamo.orders import DynamoOrders

    events = DynamoOrders(stack.cloud.resolve_ref("table", "orders", "name")).timeline(order_id)
    return [e.kind.value for e in events if e.detail.get("return_id") == return_id]


def test_a_missed_pickup_is_told_once_rebooked_on_the_page_then_collected_and_received(stack, unique):
    returns = returns_of(stack)
    email = f"{unique('missed')}@example.com"
    order_id = delivered_order(stack, email, {"PRAYER-MAT": 1})
    offered = returns.returnable_lines(order_id).pickup_days
    first = offered[0]
    asked = asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)}, method=ReturnMethod.PICKUP)
    ret = returns.start(order_id, "ret-key-missed", ReturnRequest(
        lines=asked.lines, method=asked.method, refund_method=asked.refund_method, location_id=asked.location_id,
        pickup=first))
    labelled = return_when(stack, order_id, ret.return_id, parked("label_issued"), "no label")
    assert labelled.pickup == first and labelled.tracking_number

    # The courier did not come: the report delivered twice, and the carrier saying it once more under another id.
    report_return(stack, labelled.tracking_number, "PICKUP_MISSED")
    report_return(stack, labelled.tracking_number, "PICKUP_MISSED")
    assert carrier(stack).post(labelled.tracking_number, "PICKUP_MISSED",
                               event_id=f"ret-{labelled.tracking_number}-again").status == 202
    missed = return_when(stack, order_id, ret.return_id, lambda r: r.pickup_missed_on is not None, "not missed")
    assert missed.status.value == "label_issued" and missed.pickup_missed_on == first.day.isoformat()
    told = told_about_returns(stack, order_id, (email,), 3)
    assert what_told(told) == [("return_requested", "email", "en"), ("return_label_issued", "email", "en"),
                               ("return_pickup_missed", "email", "en")]
    assert "the courier did not come to collect your return" in told[-1].body

    # The customer follows the message's link and chooses another day the carrier offers.
    link = re.search(PICKUP_LINK % re.escape(ret.return_id), told[-1].body)
    assert link, told[-1].body
    page = call("GET", link[1], headers={"Accept": "text/html"})
    assert page.status == 200 and 'data-testid="pickup-missed"' in page.text
    form = re.search(r'<form[^>]*data-testid="pickup-form".*?</form>', page.text, re.S)[0]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    days = [PickupSlot.parse(value) for value in re.findall(r'<option value="([^"]+)"', form)]
    other = next(slot for slot in days if slot is not None and slot != first)
    body = urlencode({**fields, "pickup": other.key}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"}
    moved = call("POST", link[1], body, headers)
    assert moved.status == 303 and moved.headers["Location"].endswith(f"#return-{ret.return_id}")
    assert call("POST", link[1], body, headers).status == 303  # a double submit changes nothing more
    rebooked = return_when(stack, order_id, ret.return_id, lambda r: r.pickup == other, "not moved")
    assert rebooked.status.value == "label_issued" and rebooked.label_expires_at >= labelled.label_expires_at

    # The courier comes on the new day; the parcel reaches the warehouse.
    report_return(stack, labelled.tracking_number, "PICKED_UP")
    return_when(stack, order_id, ret.return_id, status_is("in_transit"), "not in transit")
    late = carrier(stack).post(labelled.tracking_number, "PICKUP_MISSED", event_id=f"ret-{ret.return_id}-late")
    assert late.status == 202  # a miss reported after the pickup: a marker only, nothing told
    report_return(stack, labelled.tracking_number, "DELIVERED")
    received = return_when(stack, order_id, ret.return_id, parked("received"), "not waiting for inspection")
    assert (received.status.value, received.pickup, received.pickup_missed_on) == (
        "received", other, first.day.isoformat())

    told = told_about_returns(stack, order_id, (email,), 5)
    assert what_told(told) == [("return_requested", "email", "en"), ("return_label_issued", "email", "en"),
                               ("return_pickup_missed", "email", "en"), ("return_pickup_changed", "email", "en"),
                               ("return_received", "email", "en")]
    assert "will now collect your return for your order" in told[3].body
    kinds = timeline_kinds(stack, order_id, ret.return_id)
    assert kinds.count("return_pickup_missed") == 1 and kinds.count("return_pickup_changed") == 1
    assert kinds.index("return_pickup_missed") < kinds.index("return_pickup_changed") < kinds.index(
        "return_in_transit") < kinds.index("return_received")
    states = execution(stack, ret.return_id, timeout_s=0)["states"]
    assert states.count("WaitForParcel") == 1 and "LabelExpired" not in states and "WaitForInspection" in states
