"""When messages go out: SMS quiet hours on the customer's clock (non-urgent messages held until the morning, sent
once), and parcels of one order shipped close together told about in one message."""

from datetime import UTC, datetime, timedelta

import pytest
from fakes import FakeLater

from dawra.app.notify import SEND_HELD_MESSAGE, SEND_SHIPPED_DIGEST, Notify
from dawra.domain.errors import TransientError
from dawra.domain.message_timing import URGENT, QuietHours, held_until
from dawra.domain.timeline import TimelineKind as K

QUIET = QuietHours.parse("21:00-08:00")
SMS = {"email": "omar@example.com", "phone": "+966501234567", "preferred_channel": "sms", "language": "ar"}
BOTH = {**SMS, "preferred_channel": "both", "language": "en"}


@pytest.fixture
def timed(shop):
    """The shop's notifier with jobs for later and quiet hours 21:00-08:00; returns (notify, later)."""
    later = FakeLater()
    return Notify(shop.orders, shop.orders, shop.messenger, shop.clock, shop.links, later, QUIET), later


def at(shop, utc: str) -> None:
    shop.clock.moment = datetime.fromisoformat(utc).replace(tzinfo=UTC)


def events(shop, order_id, kind):
    return [e for e in shop.orders.timeline(order_id) if e.kind == kind]


def shipped_single(shop, contact) -> tuple[str, object]:
    order_id = shop.place({"MUG-CLASSIC": 1}, contact=contact)
    [planned] = shop.reserve(order_id).shipments
    shop.ship(order_id, planned.shipment_id)
    [event] = events(shop, order_id, K.SHIPMENT_SHIPPED)
    return order_id, event


def run(later, notify, now, sender="job-1"):
    """Deliver the jobs due at `now` to what the later-jobs function runs for them."""
    outcomes = []
    for number, job in enumerate(later.take_due(now, queue="later-jobs")):
        message = f"{sender}-{number}"  # each job delivered is a queue message of its own
        if job["kind"] == SEND_HELD_MESSAGE:
            outcomes.append(notify.send_held(job["order_id"], job["event_id"], job["channel"], message))
        else:
            assert job["kind"] == SEND_SHIPPED_DIGEST
            outcomes.append(notify.send_shipped_digest(job["order_id"], message, job.get("channel")))
    return outcomes


# --- quiet hours: the rule ----------------------------------------------------------------------------------------


def test_quiet_hours_are_read_as_a_span_of_local_time_across_midnight_or_not():
    assert QuietHours.parse("") is None and QuietHours.parse("  ") is None
    for bad in ("21-08", "25:00-08:00", "21:00-21:00", "21:00 to 08:00"):
        with pytest.raises(ValueError):
            QuietHours.parse(bad)
    night, siesta = QuietHours.parse("21:00-08:00"), QuietHours.parse("13:00-16:00")
    assert [night.contains(datetime(2026, 1, 1, h, m).time()) for h, m in ((20, 59), (21, 0), (0, 30), (7, 59), (8, 0))] \
        == [False, True, True, True, False]
    assert [siesta.contains(datetime(2026, 1, 1, h).time()) for h in (12, 13, 15, 16)] == [False, True, True, False]


def test_an_sms_is_held_until_the_end_of_the_quiet_hours_on_the_customers_clock(shop):
    order_id, _ = shipped_single(shop, SMS)
    order = shop.orders.get(order_id)
    # 17:30 UTC is 20:30 in Riyadh: not yet quiet
    assert held_until(order, K.SHIPMENT_SHIPPED, "sms", QUIET, datetime(2026, 11, 23, 17, 30, tzinfo=UTC)) is None
    # 19:30 UTC is 22:30 in Riyadh, and 00:30 the next day is past midnight: both end at 08:00 Riyadh, 05:00 UTC
    morning = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
    assert held_until(order, K.SHIPMENT_SHIPPED, "sms", QUIET, datetime(2026, 11, 23, 19, 30, tzinfo=UTC)) == morning
    assert held_until(order, K.SHIPMENT_SHIPPED, "sms", QUIET, datetime(2026, 11, 23, 21, 30, tzinfo=UTC)) == morning
    assert held_until(order, K.SHIPMENT_SHIPPED, "sms", QUIET, morning) is None
    # email is never held, urgent kinds never, and without quiet hours nothing
    night = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)
    assert held_until(order, K.SHIPMENT_SHIPPED, "email", QUIET, night) is None
    assert all(held_until(order, kind, "sms", QUIET, night) is None for kind in URGENT)
    assert held_until(order, K.SHIPMENT_SHIPPED, "sms", None, night) is None


def test_the_customers_clock_is_their_phones_country_then_the_shipping_address(shop):
    """A UAE phone (+04:00) is in its quiet hours at 17:30 UTC (21:30 Dubai) while Riyadh is not (20:30)."""
    uae = {**SMS, "phone": "+971501234567"}
    order_id, _ = shipped_single(shop, uae)
    evening = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)
    assert held_until(shop.orders.get(order_id), K.SHIPMENT_SHIPPED, "sms", QUIET, evening) == \
        datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # 08:00 in Dubai


# --- quiet hours: the notifier and the job ------------------------------------------------------------------------


def test_a_shipped_sms_at_night_is_held_then_sent_once_in_the_morning(shop, timed):
    notify, later = timed
    at(shop, "2026-11-23T19:30:00")
    order_id, event = shipped_single(shop, SMS)
    assert notify(event, sender="record-1") == "held by sms until 2026-11-24T05:00:00+00:00"
    assert notify(event, sender="record-2") == "held by sms until 2026-11-24T05:00:00+00:00"  # the record again
    assert not shop.messenger.sent and len(later.pending) == 1  # one job however often the record comes
    [(when, job)] = later.pending.values()
    assert job == {"kind": SEND_HELD_MESSAGE, "order_id": order_id, "event_id": event.event_id, "channel": "sms"}
    assert run(later, notify, when - timedelta(seconds=1)) == []

    at(shop, "2026-11-24T05:00:00")
    later.pending["again"] = (when, job)  # the scheduler delivers the job twice
    assert run(later, notify, when) == ["sent by sms", "already sent"]
    assert run(later, notify, when) == []
    assert notify.send_held(order_id, event.event_id, "sms", "msg-c") == "already sent"
    assert notify(event, sender="record-3") == "already sent"  # the stream record, retried after the morning
    [sms] = shop.messenger.sent
    assert sms["to"] == SMS["phone"] and "تم شحن الطلب" in sms["text"]


def test_urgent_messages_go_at_night_and_a_both_customers_email_is_not_held(shop, timed):
    notify, later = timed
    at(shop, "2026-11-23T21:30:00")  # 00:30 in Riyadh
    order_id = shop.place({"MUG-CLASSIC": 1}, contact=BOTH)
    [planned] = shop.reserve(order_id).shipments
    [reserved] = events(shop, order_id, K.STOCK_RESERVED)
    assert notify(reserved, sender="r1") == "sent by email; sent by sms"  # the confirmation: urgent
    shop.ship(order_id, planned.shipment_id)
    [shipped] = events(shop, order_id, K.SHIPMENT_SHIPPED)
    assert notify(shipped, sender="r2") == "sent by email; held by sms until 2026-11-24T05:00:00+00:00"
    assert [m["channel"] for m in shop.messenger.sent] == ["email", "sms", "email"]
    assert run(later, notify, datetime(2026, 11, 24, 5, tzinfo=UTC)) == ["sent by sms"]
    assert [m["channel"] for m in shop.messenger.sent] == ["email", "sms", "email", "sms"]


def test_a_held_sms_is_not_sent_to_a_customer_who_moved_to_email_overnight(shop, timed):
    notify, later = timed
    at(shop, "2026-11-23T21:30:00")
    order_id, event = shipped_single(shop, SMS)
    notify(event, sender="r")
    header = shop.world.headers[order_id]
    shop.world.headers[order_id] = header.model_copy(update={"contact": header.contact.model_copy(
        update={"preferred_channel": "email"})})
    assert run(later, notify, datetime(2026, 11, 24, 5, tzinfo=UTC)) == [
        "not sent: the customer is no longer reached by sms"]
    assert not shop.messenger.sent


# --- parcels shipped together -------------------------------------------------------------------------------------


def split_order(shop, contact=None) -> tuple[str, list[str]]:
    order_id = shop.place({"DALLAH-BRASS": 1, "DATES-1KG": 2}, **({"contact": contact} if contact else {}))
    return order_id, sorted(s.shipment_id for s in shop.reserve(order_id).shipments)


def test_two_parcels_shipped_close_together_make_one_message_with_both_tracking_numbers(shop, timed):
    notify, later = timed
    order_id, (first, second) = split_order(shop)
    shop.ship(order_id, first)
    [one] = events(shop, order_id, K.SHIPMENT_SHIPPED)
    assert notify(one, sender="r1") == "to be told with the parcels shipped with it"  # the other has yet to ship
    shop.clock.advance(minutes=3)
    shop.ship(order_id, second)
    two = next(e for e in events(shop, order_id, K.SHIPMENT_SHIPPED) if e.event_id != one.event_id)
    assert notify(two, sender="r2") == "to be told with the parcels shipped with it"  # shipped 3 minutes after
    assert notify(one, sender="r1") == notify(two, sender="r3")  # records again: still nothing sent
    assert not shop.messenger.sent and len(later.pending) == 2

    assert run(later, notify, shop.clock.now() + timedelta(minutes=10)) == ["sent by email (2 parcels)",
                                                                            "already told by email"]
    [email] = shop.messenger.sent
    tracking = [s.tracking_number for s in shop.orders.get(order_id).shipments]
    assert all(number in email["text"] and number in email["html"] for number in tracking)
    assert email["text"].count("left our warehouse") == 1
    # Duplicates afterwards, from the stream or the scheduler, send nothing more.
    assert notify(one, sender="r4") == notify(two, sender="r5") == "to be told with the parcels shipped with it"
    assert run(later, notify, shop.clock.now() + timedelta(minutes=20)) == ["already told by email"] * 2
    assert notify.send_shipped_digest(order_id, "dup") == "already told by email"
    assert len(shop.messenger.sent) == 1


def test_a_parcel_shipped_after_the_digest_went_gets_its_own_message(shop, timed):
    notify, later = timed
    order_id, (first, last) = split_order(shop)
    shop.ship(order_id, first)
    [early] = events(shop, order_id, K.SHIPMENT_SHIPPED)
    assert notify(early, sender="r1") == "to be told with the parcels shipped with it"  # the other may follow
    assert run(later, notify, shop.clock.now() + timedelta(minutes=10)) == ["sent by email (1 parcel)"]

    shop.clock.advance(hours=5)  # the last parcel leaves long after the other: told at once, on its own
    shop.ship(order_id, last)
    [late] = [e for e in events(shop, order_id, K.SHIPMENT_SHIPPED) if e.shipment_id == last]
    assert notify(late, sender="r2") == "sent by email" and not later.pending
    assert len(shop.messenger.sent) == 2
    assert shop.orders.get(order_id).shipment(last).tracking_number in shop.messenger.sent[1]["text"]
    assert shop.orders.get(order_id).shipment(first).tracking_number not in shop.messenger.sent[1]["text"]


def test_a_single_parcel_is_told_at_once(shop, timed):
    notify, later = timed
    _, event = shipped_single(shop, {"email": "sara@example.com"})
    assert notify(event, sender="r") == "sent by email" and not later.pending


def test_a_digest_at_night_sends_the_email_and_holds_the_sms_as_one_digest_until_morning(shop, timed):
    notify, later = timed
    at(shop, "2026-11-23T20:00:00")  # 23:00 in Riyadh
    order_id, (first, second) = split_order(shop, BOTH)
    shop.ship(order_id, first)
    shop.ship(order_id, second)
    for event in events(shop, order_id, K.SHIPMENT_SHIPPED):
        notify(event, sender=event.event_id)
    outcomes = run(later, notify, shop.clock.now() + timedelta(minutes=10))
    assert outcomes[0] == "sent by email (2 parcels); held by sms until 2026-11-24T05:00:00+00:00"
    assert outcomes[1] == "already told by email; held by sms until 2026-11-24T05:00:00+00:00"
    assert [job for _, job in later.pending.values()] == [
        {"kind": SEND_SHIPPED_DIGEST, "order_id": order_id, "channel": "sms"}]  # one held digest, not two
    at(shop, "2026-11-24T05:00:00")
    assert run(later, notify, shop.clock.now()) == ["sent by sms (2 parcels)"]
    sms = [m for m in shop.messenger.sent if m["channel"] == "sms"]
    assert len(sms) == 1 and all(s.tracking_number in sms[0]["text"] for s in shop.orders.get(order_id).shipments)


def test_two_digests_racing_tell_each_parcel_once(shop, timed):
    """Another job's live claim on the first parcel makes this one retry (nothing sent, nothing kept); then it finds
    them told."""
    notify, _ = timed
    order_id, (first, second) = split_order(shop)
    shop.ship(order_id, first)
    shop.ship(order_id, second)
    shipped = sorted(events(shop, order_id, K.SHIPMENT_SHIPPED), key=lambda e: e.event_id)
    now = shop.clock.now()
    shop.orders.claim(order_id, f"{shipped[1].event_id}#email", "other-job", now, now + timedelta(minutes=2))
    with pytest.raises(TransientError):
        notify.send_shipped_digest(order_id, "this-job")
    assert (order_id, f"{shipped[0].event_id}#email") not in shop.world.claims  # given back
    shop.orders.mark_sent(order_id, f"{shipped[1].event_id}#email", "other-job", "m-1")
    assert notify.send_shipped_digest(order_id, "this-job") == "sent by email (1 parcel)"


def test_a_failed_digest_send_gives_every_claim_back(shop, timed):
    notify, _ = timed
    order_id, (first, second) = split_order(shop, SMS)
    shop.ship(order_id, first)
    shop.ship(order_id, second)
    shop.messenger.failures = [TransientError("SNS throttled")]
    with pytest.raises(TransientError):
        notify.send_shipped_digest(order_id, "job-1")
    assert not shop.world.claims
    assert notify.send_shipped_digest(order_id, "job-1") == "sent by sms (2 parcels)"
    [sms] = shop.messenger.sent
    assert "أرقام تتبع الشحنات" in sms["text"]


def test_a_replacement_for_a_lost_parcel_is_told_at_once_not_with_the_parcel_it_replaces(shop, timed):
    from dawra.app.claims import SettleClaim
    from dawra.domain.shipment import Settlement

    notify, later = timed
    order_id, lost = shipped_single(shop, {"email": "sara@example.com"})
    settled = SettleClaim(shop.orders, shop.inventory, shop.uow, shop.payments, shop.clock, Settlement("reship"))(
        order_id, lost.shipment_id)
    shop.ship(order_id, settled.shipment_id)  # minutes after the first: the test's clock does not move
    [again] = [e for e in events(shop, order_id, K.SHIPMENT_SHIPPED) if e.shipment_id == settled.shipment_id]
    assert notify(again, sender="r") == "sent by email" and not later.pending
