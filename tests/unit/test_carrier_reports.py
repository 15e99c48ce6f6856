"""What carriers report besides progress (an attempted delivery, an exception, a pickup point, a return), each on
the timeline with a message saying what the customer can do; the shipment's table, never backwards where that
matters; and carrier clocks that are not believed (a time in the future or before the label)."""

import json
from datetime import timedelta

import pytest
from fakes import SECRET

from dawra.adapters.carriers.sandbox import sign
from dawra.domain.money import Money
from dawra.domain.order import Order
from dawra.domain.shipment import MOVING, SHIPMENT_TRANSITIONS, Shipment, ShipmentEvent, ShipmentStatus
from dawra.domain.time import iso
from dawra.domain.timeline import TimelineEvent, TimelineKind
from dawra.domain.tracking import TrackingEvent, TrackingStatus
from dawra.rendering import SUBJECTS, Letterhead, render

CARRIER_NEWS = [TimelineKind.SHIPMENT_DELAYED, TimelineKind.SHIPMENT_LOST, TimelineKind.DELIVERY_ATTEMPTED,
                TimelineKind.DELIVERY_EXCEPTION, TimelineKind.AVAILABLE_FOR_PICKUP, TimelineKind.SHIPMENT_RETURNING,
                TimelineKind.RETURN_SETTLED]


def shipped(shop, **overrides):
    order_id = shop.place({"MUG-CLASSIC": 1}, **overrides)
    [planned] = shop.reserve(order_id).shipments
    return order_id, planned.shipment_id, shop.ship(order_id, planned.shipment_id).tracking_number


def report(shop, number, status, event_id=None, occurred_at=None, location=None):
    now = shop.clock.now()
    body = {"event_id": event_id or f"{status}-{number}", "tracking_number": number, "status": status,
            "occurred_at": occurred_at or iso(now), **({"location": location} if location else {})}
    raw = json.dumps(body).encode()
    seconds = int(now.timestamp())
    return shop.tracking.handle_webhook("sandbox", raw, sign(raw, SECRET.encode(), seconds), seconds * 1000)


def sent_for(shop, order_id, kind):
    [event] = [e for e in shop.orders.timeline(order_id) if e.kind == kind]
    before = len(shop.messenger.sent)
    shop.notify(event, sender="the-stream")
    return shop.messenger.sent[before:]


@pytest.mark.parametrize(("status", "kind", "what_to_do"), [
    ("DELIVERY_ATTEMPTED", "delivery_attempted", "contact the carrier with the tracking number to arrange another"),
    ("EXCEPTION", "delivery_exception", "check your address and phone number on your order's page"),
    ("READY_FOR_PICKUP", "available_for_pickup", "Bring an ID and the tracking number"),
])
def test_carrier_troubles_go_on_the_timeline_with_what_the_customer_can_do(shop, status, kind, what_to_do):
    order_id, shipment_id, number = shipped(shop)
    assert report(shop, number, status, location="Olaya pickup point, Riyadh") == ["recorded"]
    assert shop.orders.get(order_id).shipment(shipment_id).status == "label_created"  # side reports move nothing
    [email] = sent_for(shop, order_id, kind)
    assert what_to_do in email["text"] and number in email["text"]
    if kind != "delivery_attempted":
        assert "Olaya pickup point, Riyadh" in email["text"]


def test_each_attempt_is_its_own_event_and_a_repeated_report_is_one(shop):
    order_id, _, number = shipped(shop)
    report(shop, number, "DELIVERY_ATTEMPTED", event_id="try-1")
    assert report(shop, number, "DELIVERY_ATTEMPTED", event_id="try-1") == ["duplicate"]
    shop.clock.advance(days=1)
    report(shop, number, "DELIVERY_ATTEMPTED", event_id="try-2")
    assert shop.world.timeline_kinds(order_id).count("delivery_attempted") == 2


def test_the_same_trouble_scanned_again_the_same_day_is_told_once(shop):
    """Carriers repeat an exception scan at each depot: recorded each time, told to the customer once a day."""
    order_id, _, number = shipped(shop)
    for scan in ("depot-1", "depot-2", "depot-3"):
        assert report(shop, number, "EXCEPTION", event_id=scan) == ["recorded"]
        shop.clock.advance(hours=2)
    assert shop.world.timeline_kinds(order_id).count("delivery_exception") == 1
    report(shop, number, "DELIVERY_ATTEMPTED", event_id="try-1")  # another kind of news: told
    assert shop.world.timeline_kinds(order_id).count("delivery_attempted") == 1


def test_an_exception_after_delivery_does_not_undo_it_nor_tell_the_customer_anything(shop):
    order_id, shipment_id, number = shipped(shop)
    report(shop, number, "DELIVERED")
    for status in ("EXCEPTION", "DELIVERY_ATTEMPTED", "RETURNED_TO_SENDER", "RETURN_DELIVERED", "IN_TRANSIT"):
        assert report(shop, number, status) == ["recorded"]
    assert shop.orders.get(order_id).shipment(shipment_id).status == "delivered"
    kinds = shop.world.timeline_kinds(order_id)
    assert not {"delivery_exception", "delivery_attempted", "shipment_returning", "shipment_returned"} & set(kinds)


def test_the_customer_hears_in_arabic_by_sms(shop):
    order_id, _, number = shipped(shop, contact={"email": "omar@example.com", "phone": "+966501234567",
                                                 "preferred_channel": "sms", "language": "ar"})
    report(shop, number, "READY_FOR_PICKUP", location="نقطة استلام العليا")
    [sms] = sent_for(shop, order_id, "available_for_pickup")
    assert sms["to"] == "+966501234567"
    assert "جاهز للاستلام في نقطة استلام العليا" in sms["text"] and f"رقم التتبع {number}" in sms["text"]


# --- the shipment's table --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", list(ShipmentStatus))
def test_a_delivered_or_returned_parcel_never_moves_again_and_progress_never_goes_back(status):
    shipment = Shipment(shipment_id="shp_1", order_id="ord_1", location_id="l", lines=[],
                        amount=Money(amount=0, currency="SAR"), status=status)
    allowed = {event for event in ShipmentEvent if shipment.can(event)}
    if status in (ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED):
        assert allowed == set()
    if status == ShipmentStatus.LOST:  # the carrier's word about a real delivery (or return) beats our declaration
        assert allowed == {ShipmentEvent.DELIVER, ShipmentEvent.RETURN_ARRIVED}
    order = list(ShipmentStatus)
    for event in allowed:
        target = SHIPMENT_TRANSITIONS[event][1]
        if status in MOVING and target in MOVING:
            assert order.index(target) > order.index(status), (status, event)


# --- carrier clocks ----------------------------------------------------------------------------------------------------
def test_carrier_times_in_the_future_or_before_the_label_are_kept_as_received_and_flagged(shop):
    order_id, shipment_id, number = shipped(shop)  # labelled at the shop's clock
    shop.clock.advance(hours=2)
    received = iso(shop.clock.now())
    report(shop, number, "PICKED_UP", occurred_at="2031-01-01T00:00:00Z")  # the future
    shop.clock.advance(hours=1)
    report(shop, number, "OUT_FOR_DELIVERY", occurred_at="1970-01-01T00:00:00Z")  # before the label
    within_skew = iso(shop.clock.now() + timedelta(minutes=2))
    report(shop, number, "DELIVERED", occurred_at=within_skew)  # a carrier clock a little ahead is believed
    timeline = {e.kind.value: e for e in shop.orders.timeline(order_id)}
    picked = timeline["shipment_in_transit"]
    assert picked.at == received
    assert picked.detail["time_untrusted"] == "true" and picked.detail["carrier_time"] == "2031-01-01T00:00:00.000Z"
    out = timeline["shipment_out_for_delivery"]
    assert out.at == iso(shop.clock.now()) and out.detail["time_untrusted"] == "true"
    delivered = timeline["shipment_delivered"]
    assert delivered.at == within_skew and "time_untrusted" not in delivered.detail
    # The timeline is in effective time: shipped, picked up, out for delivery, delivered.
    kinds = [e.kind.value for e in shop.orders.timeline(order_id) if e.kind.value.startswith("shipment_")]
    assert kinds == [
        "shipment_shipped", "shipment_in_transit", "shipment_out_for_delivery", "shipment_delivered"]
    assert shop.orders.get(order_id).shipment(shipment_id).delivered_at == within_skew


def test_an_untrusted_time_never_reorders_what_a_believed_one_said():
    report = TrackingEvent(carrier="sandbox", event_id="e", tracking_number="T", status=TrackingStatus.DELIVERED,
                           occurred_at="2026-11-23T08:00:00.000Z", carrier_status="DELIVERED",
                           received_at="2026-11-23T10:00:00.000Z")
    assert report.believable_time(not_before="2026-11-23T09:00:00.000Z") == ("2026-11-23T10:00:00.000Z", False)
    assert report.believable_time(not_before="2026-11-23T08:04:00.000Z") == ("2026-11-23T08:00:00.000Z", True)
    assert report.believable_time(not_before=None) == ("2026-11-23T08:00:00.000Z", True)


# --- the messages ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("channel", ["email", "sms"])
@pytest.mark.parametrize("kind", CARRIER_NEWS)
@pytest.mark.parametrize("settlement", ["reship", "refund", "agent"])
def test_every_parcel_message_renders_in_both_languages_on_both_channels(shop, language, channel, kind, settlement):
    order_id, shipment_id, number = shipped(shop, contact={"email": "sara@example.com", "phone": "+966501234567",
                                                           "preferred_channel": channel, "language": language})
    order: Order = shop.orders.get(order_id)
    event = TimelineEvent(event_id=f"{kind.value}:x", order_id=order_id, kind=kind, at=iso(shop.clock.now()),
                          shipment_id=shipment_id,
                          detail={"tracking_number": number, "settlement": settlement, "amount": "5175",
                                  "currency": "SAR", "new_estimate": "2026-12-09", "promised_by": "2026-11-30",
                                  "location": "<b>Olaya</b>"})
    rendered = render(order, event, Letterhead(shop_name="Dawra", support="help@example.com",
                                               page_url="https://shop.example/o/t"))
    assert rendered.subject == SUBJECTS[language][kind].format(ref="#" + order_id[4:12].upper())
    assert "#" + order_id[4:12].upper() in rendered.text and "https://shop.example/o/t" in rendered.text
    if channel == "email":  # an SMS names the parcel only where the customer needs the number to act
        assert number in rendered.html and number in rendered.text
    if channel == "email":
        assert "<b>Olaya</b>" not in rendered.html  # what a carrier says is escaped like anything else
    if kind in (TimelineKind.SHIPMENT_LOST, TimelineKind.RETURN_SETTLED) and settlement == "refund":
        assert "51.75 SAR" in rendered.text
    if kind in (TimelineKind.SHIPMENT_LOST, TimelineKind.RETURN_SETTLED) and settlement == "reship":
        assert "2026-12-09" in rendered.text
    if language == "ar":
        assert any("\u0600" <= char <= "\u06ff" for char in rendered.text)
