"""Lost and returned parcels through the real state machine on the embedded cloud, for a merchant whose policy
refunds them: a parcel lost in transit is refunded (its share, once; nothing released), one returned to sender is
counted back into its location's stock when it arrives there and refunded, and a lost parcel the carrier delivers
after all changes no money. Each asserts stock, money and the exact messages the customer got."""

import pytest
from parcels import (
    carrier,
    execution_status,
    has,
    kinds,
    lifecycle_arn,
    messages_to,
    parcel_stack,
    place_order,
    post,
    reference,
    shipped_tracking,
    stock,
    wait_until,
)
from sdk_waits import entered


@pytest.fixture(scope="module")
def stack():
    yield from parcel_stack("refund")


def test_a_lost_parcel_is_refunded_once_and_nothing_is_released(stack, unique):
    email = f"{unique('lost')}@example.com"
    before = stock(stack, "MUG-CLASSIC", "riyadh-dc")
    order_id = place_order(stack, email, {"MUG-CLASSIC": 1}, days_ago=90)

    done = wait_until(stack, order_id, lambda o: o["status"] == "COMPLETED", what="not settled")
    [shipment] = done["shipments"]
    assert shipment["status"] == "lost"
    total = done["totals"]["total"]
    assert done["payment"]["captured"] == total and done["payment"]["refunded"] == total  # its share: the whole
    on_hand, reserved, available = before
    assert stock(stack, "MUG-CLASSIC", "riyadh-dc") == (on_hand - 1, reserved, available - 1)  # it left
    [claim] = [e for e in done["timeline"] if e["kind"] == "shipment_lost"]
    assert claim["detail"]["settlement"] == "refund" and claim["detail"]["amount"] == str(total["amount"])
    ref = reference(order_id)
    sent = messages_to(stack, email, 4)
    assert sorted(m.subject for m in sent) == sorted([
        f"Your order {ref} is confirmed", f"Your order {ref} is on its way",
        f"Your order {ref} is running late: we are sorry",
        f"A parcel from your order {ref} was lost: what happens now"])
    [lost] = [m for m in sent if "was lost" in m.subject]
    amount = f"{total['amount'] // 100}.{total['amount'] % 100:02d} SAR"
    assert f"We have refunded <strong>{amount}</strong>" in lost.body
    assert execution_status(stack, order_id) == "SUCCEEDED"

    # The carrier finds it and delivers it after all: recorded, and no money moves (no second refund, no charge).
    post(stack, order_id, shipment["tracking_number"], "DELIVERED", "shipment_delivered")
    after = wait_until(stack, order_id, lambda o: o["shipments"][0]["status"] == "delivered")
    [delivered] = [e for e in after["timeline"] if e["kind"] == "shipment_delivered"]
    assert delivered["detail"]["declared_lost"] == "true"
    assert after["payment"] == done["payment"] and after["status"] == "COMPLETED"
    assert stock(stack, "MUG-CLASSIC", "riyadh-dc") == (on_hand - 1, reserved, available - 1)


def test_a_parcel_returned_to_sender_is_restocked_on_arrival_and_refunded(stack, unique):
    email = f"{unique('returned')}@example.com"
    before = stock(stack, "DATES-1KG", "riyadh-dc")
    order_id = place_order(stack, email, {"DATES-1KG": 3})
    tracking = shipped_tracking(stack, order_id)
    on_hand, reserved, available = before
    assert stock(stack, "DATES-1KG", "riyadh-dc") == (on_hand - 3, reserved, available - 3)

    post(stack, order_id, tracking, "PICKED_UP", "shipment_in_transit")
    post(stack, order_id, tracking, "RETURNED_TO_SENDER", "shipment_returning")
    assert wait_until(stack, order_id, has("shipment_returning"))["status"] == "SHIPPED"  # still waiting for it
    post(stack, order_id, tracking, "RETURN_DELIVERED", "shipment_returned")
    assert carrier(stack).post(tracking, "RETURN_DELIVERED").status == 202  # the carrier repeats itself

    done = wait_until(stack, order_id, lambda o: o["status"] == "COMPLETED", what="not settled")
    assert stock(stack, "DATES-1KG", "riyadh-dc") == before  # back on hand and available, once
    [shipment] = done["shipments"]
    assert shipment["status"] == "returned"
    total = done["totals"]["total"]
    assert done["payment"]["captured"] == total and done["payment"]["refunded"] == total
    assert kinds(done).count("shipment_returned") == 1 and kinds(done).count("return_settled") == 1
    ref = reference(order_id)
    sent = messages_to(stack, email, 4)
    assert sorted(m.subject for m in sent) == sorted([
        f"Your order {ref} is confirmed", f"Your order {ref} is on its way",
        f"A parcel from your order {ref} is coming back to us",
        f"A parcel from your order {ref} came back: what happens now"])
    body = {m.subject: m.body for m in sent}
    assert "contact the carrier with the tracking number" in body[f"A parcel from your order {ref} is coming back to us"]
    amount = f"{total['amount'] // 100}.{total['amount'] % 100:02d} SAR"
    assert f"We have refunded <strong>{amount}</strong>" in body[
        f"A parcel from your order {ref} came back: what happens now"]
    assert execution_status(stack, order_id) == "SUCCEEDED"
    # Back at its location: the only parcel's wait ended with ReturnedToSender, and the Map's branch, refused a wait
    # on a parcel no longer on its way, heard it again from DeliveryReportedFirst (decision 122).
    assert entered(stack, lifecycle_arn(stack, order_id)) == [
        "ReserveAndShip", "WaitForItsDelivery", "ShipEachShipment", "ShipShipment",
        "WaitForDelivery", "DidItShip", "DeliveryReportedFirst", "SettleClaim", "HowWasItSettled", "Refunded"]
