"""One message per (order, event, channel): at most once, and never lost to an ambiguous write or a crash."""

from datetime import timedelta

import pytest

from dawra.domain.errors import TransientError
from dawra.domain.timeline import TimelineKind


def confirmed(shop, **overrides):
    order_id = shop.place({"MUG-CLASSIC": 1}, **overrides)
    [event] = [e for e in shop.orders.timeline(order_id) if e.kind == TimelineKind.ORDER_CONFIRMED]
    return order_id, event


def test_a_confirmation_is_sent_once_in_the_customers_language_and_channel(shop):
    _, event = confirmed(shop, contact={"email": "omar@example.com", "phone": "+966501234567",
                                        "preferred_channel": "sms", "language": "ar"})
    assert shop.notify(event, sender="record-1") == "sent by sms"
    assert shop.notify(event, sender="record-2") == "already sent"  # the stream delivered it twice
    [sms] = shop.messenger.sent
    assert sms["to"] == "+966501234567" and "تأكيد" in sms["text"]


def test_events_nobody_hears_about_send_nothing(shop):
    order_id = shop.place({"MUG-CLASSIC": 1})
    shop.reserve(order_id)
    [reserved] = [e for e in shop.orders.timeline(order_id) if e.kind == TimelineKind.STOCK_RESERVED]
    assert shop.notify(reserved, sender="r") == "not notified" and not shop.messenger.sent


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
