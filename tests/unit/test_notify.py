"""One message per (order, event, channel): at most once, and never lost to an ambiguous write or a crash."""

from datetime import timedelta

import pytest

from dawra.domain.errors import OutOfStock, TransientError
from dawra.domain.timeline import TimelineKind


def confirmed(shop, **overrides):
    """An order whose stock is reserved, and the event its confirmation is sent for (the reservation's)."""
    order_id = shop.place({"MUG-CLASSIC": 1}, **overrides)
    shop.reserve(order_id)
    [event] = [e for e in shop.orders.timeline(order_id) if e.kind == TimelineKind.STOCK_RESERVED]
    return order_id, event


def test_a_confirmation_is_sent_once_in_the_customers_language_and_channel(shop):
    _, event = confirmed(shop, contact={"email": "omar@example.com", "phone": "+966501234567",
                                        "preferred_channel": "sms", "language": "ar"})
    assert shop.notify(event, sender="record-1") == "sent by sms"
    assert shop.notify(event, sender="record-2") == "already sent"  # the stream delivered it twice
    [sms] = shop.messenger.sent
    assert sms["to"] == "+966501234567" and "تأكيد" in sms["text"]


def test_events_nobody_hears_about_send_nothing(shop):
    """Placing an order sends nothing: the confirmation waits for the stock (an order that finds none hears only the
    apology)."""
    order_id = shop.place({"MUG-CLASSIC": 1})
    [placed] = [e for e in shop.orders.timeline(order_id) if e.kind == TimelineKind.ORDER_CONFIRMED]
    assert shop.notify(placed, sender="r") == "not notified" and not shop.messenger.sent


def test_the_confirmation_is_sent_for_the_reservation_with_the_promise_of_the_locations_chosen(shop):
    shop.clock.advance(hours=4)  # Monday 13:00 UTC, 16:00 in Riyadh: after the Riyadh DC's 14:00 cut-off
    order_id, event = confirmed(shop)
    assert shop.notify(event, sender="r") == "sent by email"
    [email] = shop.messenger.sent
    # starts Tuesday, handled Wednesday, four business days in transit (Friday, Saturday off): Tuesday 1 December
    assert shop.orders.get(order_id).promised_by == "2026-12-01"
    assert email["subject"].startswith("Your order") and "confirmed" in email["subject"]
    assert "2026-12-01" in email["text"] and "2026-12-01" in email["html"]


def test_a_sold_out_order_hears_only_the_apology(shop):
    order_id = shop.place({"PRAYER-MAT": 2})
    shop.world.set_stock("PRAYER-MAT", "riyadh-dc", 0)  # sold before this order's reservation
    with pytest.raises(OutOfStock):
        shop.reserve(order_id)
    shop.release(order_id)
    shop.cancel(order_id, "OutOfStock")
    for event in shop.orders.timeline(order_id):
        shop.notify(event, sender="stream")
    [apology] = shop.messenger.sent
    assert "cancelled" in apology["subject"] and "out of stock" in apology["text"]


def test_a_retry_that_finds_its_own_claim_sends(shop):
    """The claim write was applied but answered with an error: the same record's retry must still send."""
    order_id, event = confirmed(shop)
    now = shop.clock.now()
    shop.orders.claim(order_id, f"{event.event_id}#email", "record-1", now, now + timedelta(minutes=2))
    assert shop.notify(event, sender="record-1") == "sent by email"
    assert len(shop.messenger.sent) == 1


def test_a_claim_left_by_a_crashed_sender_is_retaken_after_its_lease(shop):
    order_id, event = confirmed(shop)
    now = shop.clock.now()
    shop.orders.claim(order_id, f"{event.event_id}#email", "crashed", now, now + timedelta(minutes=2))
    with pytest.raises(TransientError):
        shop.notify(event, sender="record-2")  # the other sender may still be sending: retry later
    assert not shop.messenger.sent
    shop.clock.advance(minutes=3)
    assert shop.notify(event, sender="record-2") == "sent by email"
    assert len(shop.messenger.sent) == 1


def test_a_failed_send_gives_the_claim_back_for_the_retry(shop):
    _, event = confirmed(shop)
    shop.messenger.failures = [TransientError("SES throttled")]
    with pytest.raises(TransientError):
        shop.notify(event, sender="record-1")
    assert shop.notify(event, sender="record-1") == "sent by email"
    assert len(shop.messenger.sent) == 1


def test_a_sent_message_whose_record_could_not_be_written_is_not_sent_again(shop):
    _, event = confirmed(shop)
    original = shop.orders.mark_sent
    shop.orders.mark_sent = lambda *a: (_ for _ in ()).throw(TransientError("throttled"))
    assert shop.notify(event, sender="record-1") == "sent by email (unrecorded)"
    shop.orders.mark_sent = original
    with pytest.raises(TransientError):
        shop.notify(event, sender="record-2")  # another sender waits for the lease, it does not resend
    assert len(shop.messenger.sent) == 1


def test_customer_text_is_escaped_in_html(shop):
    _, event = confirmed(shop, shipping_address={"name": "<script>x</script>", "line1": "L", "city": "Riyadh",
                                                  "country": "SA"})
    shop.notify(event, sender="r")
    [email] = shop.messenger.sent
    assert "<script>" not in email["html"] and "&lt;script&gt;" in email["html"]


def test_a_link_goes_to_the_orders_email_and_a_contact_change_is_told_there_too():
    """A link holder may set another phone and SMS; the order's email still hears of the change, and a requested link
    goes to that email alone (so a forwarded link cannot have fresh ones sent to another phone)."""
    from dawra.domain.customer import Contact
    from dawra.domain.notifications import recipients
    from dawra.domain.timeline import TimelineKind as K

    by_sms = Contact(email="owner@example.com", phone="+966501234567", preferred_channel="sms")
    assert [r.channel for r in recipients(by_sms, K.SHIPMENT_SHIPPED)] == ["sms"]
    assert [r.address for r in recipients(by_sms, K.ORDER_LINK_REQUESTED)] == ["owner@example.com"]
    assert [r.channel for r in recipients(by_sms, K.CONTACT_CHANGED)] == ["email", "sms"]
    by_email = Contact(email="owner@example.com", phone="+966501234567")
    assert [r.channel for r in recipients(by_email, K.CONTACT_CHANGED)] == ["email"]
