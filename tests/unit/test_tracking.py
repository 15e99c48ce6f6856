"""Carrier reports: verified, applied once per (carrier, tracking number, event id), never backwards; delivery
resumes the waiting workflow whichever comes last."""

import json
import time

import pytest
from fakes import SECRET

from dawra.adapters.carriers.sandbox import sign
from dawra.domain.errors import TransientError, WebhookRejected
from dawra.domain.tracking import REPORTS_KEPT


def webhook(shop, tracking, status, event_id="evt-1", secret=SECRET):
    body = json.dumps({"event_id": event_id, "tracking_number": tracking, "status": status,
                       "occurred_at": "2026-11-24T10:00:00Z"}).encode()
    now = int(time.time())
    return shop.tracking.handle_webhook("sandbox", body, sign(body, secret.encode(), now), now * 1000)


def shipped(shop, lines):
    order_id = shop.place(lines)
    shipments = shop.reserve(order_id).shipments
    tracking = {s.shipment_id: shop.ship(order_id, s.shipment_id).tracking_number for s in shipments}
    return order_id, tracking


def test_reports_move_the_shipment_forward_once_and_never_back(shop):
    order_id, tracking = shipped(shop, {"MUG-CLASSIC": 1})
    [(shipment_id, number)] = tracking.items()
    assert webhook(shop, number, "PICKED_UP", "e1") == ["moved to in_transit"]
    assert webhook(shop, number, "PICKED_UP", "e1") == ["duplicate"]
    assert webhook(shop, number, "OUT_FOR_DELIVERY", "e2") == ["moved to out_for_delivery"]
    assert webhook(shop, number, "IN_TRANSIT", "e3") == ["recorded"]  # late: recorded, nothing moves
    assert webhook(shop, number, "DELIVERY_ATTEMPTED", "e4") == ["recorded"]
    assert shop.orders.get(order_id).shipment(shipment_id).status == "out_for_delivery"


def test_a_copy_applied_by_another_consumer_meanwhile_is_a_duplicate_and_a_parcel_keeps_its_latest_digests(shop):
    """The digests live on the shipment, committed over its version: a copy applied between this consumer's read
    and its commit makes the commit a race, and the retry finds the report applied."""
    order_id, tracking = shipped(shop, {"MUG-CLASSIC": 1})
    [(shipment_id, number)] = tracking.items()
    load, raced = shop.orders.get, []

    def read_then_race(wanted):
        order = load(wanted)
        if not raced:  # another consumer applies the same report now, after this read
            raced.append("racing")
            raced.append(webhook(shop, number, "PICKED_UP", "e1"))
        return order
    shop.orders.get = read_then_race
    assert webhook(shop, number, "PICKED_UP", "e1") == ["duplicate"]
    assert raced == ["racing", ["moved to in_transit"]]
    del shop.orders.get
    for i in range(REPORTS_KEPT + 3):  # scans that move nothing: each is kept, the oldest drop off
        assert webhook(shop, number, "IN_TRANSIT", f"scan-{i}") == ["recorded"]
    assert len(shop.orders.get(order_id).shipment(shipment_id).reports) == REPORTS_KEPT
    assert webhook(shop, number, "IN_TRANSIT", f"scan-{REPORTS_KEPT + 2}") == ["duplicate"]


def test_the_same_carrier_event_id_on_two_parcels_delivers_both(shop):
    """Regression: the dedup marker once ignored the tracking number, and the second parcel stayed shipped."""
    order_id, tracking = shipped(shop, {"DALLAH-BRASS": 1, "DATES-1KG": 2})
    for shipment_id, number in tracking.items():
        shop.await_delivery(order_id, shipment_id, f"token-{shipment_id}")
        assert webhook(shop, number, "DELIVERED", event_id="delivered") == ["moved to delivered"]
    assert set(shop.workflow.resumed) == {f"token-{s}" for s in tracking}
    assert shop.orders.get(order_id).status == "COMPLETED"
    assert all(not s.resume_token for s in shop.orders.get(order_id).shipments)


def test_a_delivery_reported_before_the_wait_began_is_returned_by_the_wait(shop):
    order_id, tracking = shipped(shop, {"MUG-CLASSIC": 1})
    [(shipment_id, number)] = tracking.items()
    webhook(shop, number, "DELIVERED")
    assert not shop.workflow.resumed
    assert shop.await_delivery(order_id, shipment_id, "late-token") == {"waiting": False}
    assert shop.workflow.resumed["late-token"]["shipment_id"] == shipment_id


def test_a_repeated_delivery_resumes_a_workflow_the_first_report_did_not(shop):
    order_id, tracking = shipped(shop, {"MUG-CLASSIC": 1})
    [(shipment_id, number)] = tracking.items()
    shop.await_delivery(order_id, shipment_id, "token")
    shop.workflow.resume = lambda token, output: (_ for _ in ()).throw(TransientError("throttled"))
    with pytest.raises(TransientError):
        webhook(shop, number, "DELIVERED")
    del shop.workflow.resume  # the instance attribute goes: the class method answers again
    assert webhook(shop, number, "DELIVERED") == ["duplicate"]
    assert "token" in shop.workflow.resumed


def test_a_parcel_that_arrives_after_the_order_went_to_a_person_completes_it(shop):
    order_id, tracking = shipped(shop, {"MUG-CLASSIC": 1})
    [(shipment_id, number)] = tracking.items()
    shop.await_delivery(order_id, shipment_id, "token")
    shop.workflow.dead_tokens.add("token")  # the wait timed out: DeliveryOverdue
    shop.ask_a_person(order_id, "DeliveryOverdue")
    webhook(shop, number, "DELIVERED")
    assert shop.orders.get(order_id).status == "COMPLETED"


def test_unknown_numbers_are_retried_and_forgeries_rejected(shop):
    with pytest.raises(TransientError):
        webhook(shop, "SBX000000000000", "IN_TRANSIT")
    with pytest.raises(WebhookRejected):
        webhook(shop, "SBX000000000000", "IN_TRANSIT", secret="not-the-secret")
    with pytest.raises(WebhookRejected, match="unknown carrier"):
        shop.tracking.handle_webhook("x" * 1000, b"{}", None, 0)


def stored(body: bytes, carrier="sandbox", signature=None, secret=SECRET) -> str:
    from dawra.contracts.webhook import CarrierWebhookEnvelope

    now = int(time.time())
    return CarrierWebhookEnvelope.wrap(carrier, body, signature or sign(body, secret.encode(), now),
                                       now * 1000).model_dump_json()


@pytest.mark.parametrize(("message", "reason"), [
    ("not an envelope", "shape"),
    (stored(b'{"event_id": "e"}'), "shape"),
    (stored(b"{}", secret="forged"), "signature"),
    (stored(b"{}", carrier="no-such-carrier"), "carrier"),
    (stored(b"x" * 70_000), "size"),
])
def test_webhooks_that_can_never_be_applied_are_recorded_and_dropped(shop, message, reason):
    assert shop.tracking.handle_stored(message, "m-1") == [f"rejected: {reason}"]  # no exception: no retry, no DLQ
    [record] = shop.rejections.recorded
    assert record["reason"] == reason and record["message_id"] == "m-1"


def test_a_stored_genuine_webhook_is_applied_and_an_unknown_parcel_is_retried(shop):
    _, tracking = shipped(shop, {"MUG-CLASSIC": 1})
    [number] = tracking.values()
    body = json.dumps({"event_id": "e1", "tracking_number": number, "status": "PICKED_UP",
                       "occurred_at": "2026-11-24T10:00:00Z"}).encode()
    assert shop.tracking.handle_stored(stored(body), "m-2") == ["moved to in_transit"]
    unknown = body.replace(number.encode(), b"SBX0000000000FF")
    with pytest.raises(TransientError):
        shop.tracking.handle_stored(stored(unknown), "m-3")
    assert not shop.rejections.recorded


def test_a_minute_of_junk_at_100_a_second_raises_nothing_and_loses_no_genuine_report(shop):
    """6,000 stored junk webhooks (forged, unsigned, unknown carrier, not JSON, not an envelope) with the genuine
    reports of a parcel among them: not one raises (so none is retried into the DLQ), each is recorded with its
    reason, and the parcel is delivered."""
    order_id, tracking = shipped(shop, {"MUG-CLASSIC": 1})
    [(shipment_id, number)] = tracking.items()
    shop.await_delivery(order_id, shipment_id, "token")
    junk = [stored(b"{}", secret="forged"), stored(b"not json"), stored(b"{}", carrier="acme-express"),
            "not an envelope", stored(b'{"event_id": "e"}')]
    genuine = {1000: "PICKED_UP", 3000: "OUT_FOR_DELIVERY", 5000: "DELIVERED"}
    outcomes = []
    for n in range(6000):
        if n in genuine:
            body = json.dumps({"event_id": f"g{n}", "tracking_number": number, "status": genuine[n],
                               "occurred_at": "2026-11-24T10:00:00Z"}).encode()
            outcomes += shop.tracking.handle_stored(stored(body), f"genuine-{n}")
        outcomes += shop.tracking.handle_stored(junk[n % len(junk)], f"junk-{n}")
    assert len(shop.rejections.recorded) == 6000
    assert {r["reason"] for r in shop.rejections.recorded} == {"signature", "shape", "carrier"}
    assert [o for o in outcomes if not o.startswith("rejected")] == [
        "moved to in_transit", "moved to out_for_delivery", "moved to delivered"]
    assert shop.workflow.resumed == {"token": {"shipment_id": shipment_id, "delivered_at": "2026-11-24T10:00:00.000Z"}}
