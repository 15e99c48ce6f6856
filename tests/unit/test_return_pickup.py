"""A courier pickup for a return (issue 12: "schedule a courier pickup"), with the in-memory fakes: the sandbox
carrier's documented days (the next five that are not a Friday, morning or afternoon); a request names one of the
slots offered (any other is refused, saying which are), a replay on a later day finds its return; the booking carries
the day, or the carrier's next one in that window when the day passed while an agent decided; the label, the "label
ready" message in both languages, the order page and its return timeline say when the courier comes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from returning import AGENT, Returns, asking, delivered
from test_customer_page import get, post
from test_customer_returns_page import a_delivered_order, choose, hidden, site  # noqa: F401 - the page fixture

from dawra.adapters.carriers.sandbox import PICKUP_DAYS, SandboxCarrier
from dawra.app.returns import ReturnableLines, request_fingerprint
from dawra.contracts.problems import from_domain_error
from dawra.domain.customer import Address
from dawra.domain.errors import InvalidCustomerDetails
from dawra.domain.returns import (
    PickupNotOffered,
    PickupSlot,
    PickupWindow,
    ReturnMethod,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)
from dawra.domain.timeline import TimelineKind
from dawra.rendering import Letterhead, render
from dawra.web.return_label import LabelLine, ReturnLabel, label_text, party_of

WEDNESDAY = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
SARA = Address(name="Sara Al-Otaibi", line1="12 Olaya St", city="Riyadh", postal_code="12211", country="SA",
               phone="+966501234567")
LETTERHEAD = Letterhead(shop_name="Dawra Test Shop", support="help@shop.example",
                        page_url="https://shop.example/my-order/TOKEN")
# The fake carrier (tests/fakes.py) offers the three days after today (the shop's clock: Monday 2026-11-23).
TUESDAY_MORNING = PickupSlot(day=date(2026, 11, 24), window=PickupWindow.MORNING)
THURSDAY_AFTERNOON = PickupSlot(day=date(2026, 11, 26), window=PickupWindow.AFTERNOON)


def collected(lines: dict[str, tuple[int, ReturnReason]], slot: PickupSlot | None) -> ReturnRequest:
    asked = asking(lines, method=ReturnMethod.PICKUP)
    return ReturnRequest(lines=asked.lines, method=asked.method, refund_method=asked.refund_method,
                         location_id=asked.location_id, pickup=slot)


# --- the sandbox carrier's rule -----------------------------------------------------------------------------------
def test_the_sandbox_offers_the_next_five_days_but_friday_morning_and_afternoon():
    offered = SandboxCarrier().pickup_days("SA", date(2026, 11, 25))  # a Wednesday
    days = sorted({slot.day for slot in offered})
    assert PICKUP_DAYS == 5 and [d.isoformat() for d in days] == [
        "2026-11-26", "2026-11-28", "2026-11-29", "2026-11-30", "2026-12-01"]  # Friday the 27th skipped
    assert all(d.weekday() != 4 for d in days)
    assert offered[:2] == [PickupSlot(day=date(2026, 11, 26), window=PickupWindow.MORNING),
                           PickupSlot(day=date(2026, 11, 26), window=PickupWindow.AFTERNOON)]
    assert len(offered) == 10


def test_the_sandbox_books_the_slot_asked_or_its_next_one_in_that_window_and_books_once():
    carrier = SandboxCarrier(now=lambda: WEDNESDAY)
    sunday = PickupSlot(day=date(2026, 11, 29), window=PickupWindow.AFTERNOON)
    booked = carrier.book_return("ret_0123456789abcdef0123", SARA, "riyadh-dc", 800, pickup=sunday)
    assert (booked.pickup_on, booked.pickup_window, booked.pickup) == ("2026-11-29", PickupWindow.AFTERNOON, sunday)
    assert carrier.book_return("ret_0123456789abcdef0123", SARA, "riyadh-dc", 800, pickup=sunday) == booked
    # Asked on Monday for Tuesday morning, booked on Wednesday (an agent approved late): Thursday morning.
    late = SandboxCarrier(now=lambda: WEDNESDAY).book_return(
        "ret_aaaaaaaaaaaaaaaaaaaa", SARA, "riyadh-dc", 800, pickup=TUESDAY_MORNING)
    assert (late.pickup_on, late.pickup_window) == ("2026-11-26", PickupWindow.MORNING)
    # A label with no courier says no day.
    plain = SandboxCarrier(now=lambda: WEDNESDAY).book_return("ret_bbbbbbbbbbbbbbbbbbbb", SARA, "riyadh-dc", 800)
    assert plain.pickup is None


# --- the request ----------------------------------------------------------------------------------------------------
def test_the_choices_offer_a_pickup_only_on_the_carriers_days(shop):
    uses = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    choices = uses.choices(order_id)
    assert ReturnMethod.PICKUP in choices.return_methods
    assert choices.pickup_days[0] == TUESDAY_MORNING and len(choices.pickup_days) == 6
    without = ReturnableLines(shop.orders, shop.clock, inventory=shop.inventory)(order_id)  # no carrier: no courier
    assert ReturnMethod.PICKUP not in without.return_methods and without.pickup_days == ()


def test_a_pickup_on_an_offered_day_is_kept_and_a_replay_on_a_later_day_finds_its_return(shop):
    uses = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    asked = collected({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)}, THURSDAY_AFTERNOON)
    ret = uses.request(order_id, "pickup-key-01", asked)
    assert (ret.pickup_on, ret.pickup_window, ret.status) == ("2026-11-26", PickupWindow.AFTERNOON,
                                                               ReturnStatus.APPROVED)
    [requested] = [e for e in shop.orders.timeline(order_id) if e.kind == TimelineKind.RETURN_REQUESTED]
    assert (requested.detail["pickup_on"], requested.detail["pickup_window"]) == ("2026-11-26", "afternoon")
    shop.clock.advance(days=5)  # Thursday has passed: no longer offered, yet the replay is the same return
    assert uses.request(order_id, "pickup-key-01", asked).return_id == ret.return_id
    assert len(shop.orders.get(order_id).returns) == 1
    # The slot is part of what was asked: the same key with another day is another request.
    other = collected({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)}, TUESDAY_MORNING)
    assert request_fingerprint(other) != request_fingerprint(asked)


@pytest.mark.parametrize(("method", "slot", "says"), [
    (ReturnMethod.PICKUP, PickupSlot(day=date(2026, 11, 30), window=PickupWindow.MORNING),
     "no courier pickup on 2026-11-30 morning: choose one of 2026-11-24 morning, 2026-11-24 afternoon"),
    (ReturnMethod.PICKUP, None, "a courier pickup needs a day and window: choose one of 2026-11-24 morning"),
    (ReturnMethod.LABEL, TUESDAY_MORNING, "a pickup day goes with a courier pickup only"),
])
def test_a_pickup_not_offered_is_refused_saying_which_are_and_nothing_is_written(shop, method, slot, says):
    uses = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    asked = asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)}, method=method)
    asked = ReturnRequest(lines=asked.lines, method=method, refund_method=asked.refund_method,
                          location_id=asked.location_id, pickup=slot)
    with pytest.raises(InvalidCustomerDetails) as refused:
        uses.estimate(order_id, asked)
    with pytest.raises(InvalidCustomerDetails):
        uses.request(order_id, "pickup-key-02", asked)
    assert refused.value.message.startswith(says) and refused.value.field == "pickup"
    assert shop.orders.get(order_id).returns == []
    if method == ReturnMethod.PICKUP:  # the problem document lists the slots for a program to choose from
        assert isinstance(refused.value, PickupNotOffered)
        kind, document = from_domain_error(refused.value)
        assert kind.status == 422 and document["pickup_days"][0] == {"day": "2026-11-24", "window": "morning"}
        assert len(document["pickup_days"]) == 6


def test_the_label_books_the_courier_once_for_the_day_chosen_and_the_timeline_says_so(shop):
    uses = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    ret = uses.request(order_id, "pickup-key-03", collected({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)},
                                                            THURSDAY_AFTERNOON))
    uses.issue_label(order_id, ret.return_id)
    uses.issue_label(order_id, ret.return_id)  # a retried task: booked before, nothing more
    assert uses.carrier.pickups == [(ret.return_id, THURSDAY_AFTERNOON)]
    labelled = uses.get(order_id, ret.return_id)
    assert (labelled.status, labelled.pickup) == (ReturnStatus.LABEL_ISSUED, THURSDAY_AFTERNOON)
    [issued] = [e for e in shop.orders.timeline(order_id) if e.kind == TimelineKind.RETURN_LABEL_ISSUED]
    assert (issued.detail["pickup_on"], issued.detail["pickup_window"], issued.detail["method"]) == (
        "2026-11-26", "afternoon", "pickup")


def test_a_day_passed_while_an_agent_decided_is_booked_on_the_carriers_next_one_in_that_window(shop):
    uses = Returns(shop)
    order_id = delivered(shop, {"MUG-CLASSIC": 1})  # homeware: a person approves first
    ret = uses.request(order_id, "pickup-key-04", collected({"MUG-CLASSIC": (1, ReturnReason.DAMAGED)},
                                                            TUESDAY_MORNING))
    assert ret.status == ReturnStatus.REQUESTED
    shop.clock.advance(days=2)  # Wednesday: Tuesday has gone
    uses.decide.approve(AGENT, order_id, ret.return_id, "approve-pickup-04")
    uses.issue_label(order_id, ret.return_id)
    labelled = uses.get(order_id, ret.return_id)
    assert (labelled.pickup_on, labelled.pickup_window) == ("2026-11-26", PickupWindow.MORNING)  # Thursday


# --- what the customer reads ------------------------------------------------------------------------------------------
def labelled_pickup(shop: Any, language: str) -> tuple[Any, Any]:
    uses = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1}, key=f"key-pickup-{language}")
    order = shop.orders.get(order_id)
    order.contact = order.contact.model_copy(update={"language": language, "preferred_channel": "both",
                                                     "phone": "+966501234567"})
    order._header_changed = True
    shop.uow.commit(order=order)
    ret = uses.request(order_id, f"pickup-key-{language}", collected(
        {"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)}, THURSDAY_AFTERNOON))
    uses.issue_label(order_id, ret.return_id)
    [event] = [e for e in shop.orders.timeline(order_id) if e.kind == TimelineKind.RETURN_LABEL_ISSUED]
    return shop.orders.get(order_id), event


def test_the_label_ready_message_says_when_the_courier_comes_in_both_languages(shop):
    order, event = labelled_pickup(shop, "en")
    email = render(order, event, LETTERHEAD)
    assert "A courier will collect it on <strong>Thursday 26 November, afternoon (13:00\u201317:00)</strong>" in email.html
    assert "A courier will collect it on Thursday 26 November, afternoon (13:00\u201317:00)" in email.text
    from dawra.domain.notifications import Recipient

    sms = render(order, event, LETTERHEAD, Recipient(channel="sms", address="+966501234567"))
    assert "A courier will collect it on Thursday 26 November, afternoon" in sms.text
    order, event = labelled_pickup(shop, "ar")
    email = render(order, event, LETTERHEAD)
    assert "سيأتي مندوب لاستلامه يوم <strong>الخميس، 26 نوفمبر، بعد الظهر (من 13:00 إلى 17:00)</strong>" in email.html
    sms = render(order, event, LETTERHEAD, Recipient(channel="sms", address="+966501234567"))
    assert "سيأتي مندوب لاستلامه يوم الخميس، 26 نوفمبر، بعد الظهر" in sms.text


def test_the_label_tells_the_customer_and_the_courier_the_day():
    booking = SandboxCarrier(now=lambda: WEDNESDAY).book_return(
        "ret_0123456789abcdef0123", SARA, "riyadh-dc", 800,
        pickup=PickupSlot(day=date(2026, 11, 29), window=PickupWindow.MORNING))
    label = ReturnLabel(return_id="ret_0123456789abcdef0123", order_id="ord_7f3a9c2e41", booking=booking,
                        sender=party_of(SARA), destination=party_of(SARA), destination_code="riyadh-dc",
                        lines=(LabelLine(sku="MUG-CLASSIC", title="كوب", quantity=1),), language="ar")
    text = label_text(label)
    assert ("Pickup", "2026-11-29 morning") in text.refs  # the courier's, Latin script
    assert text.steps.startswith("سيأتي مندوب لاستلامه يوم الأحد، 29 نوفمبر، صباحاً (من 9:00 إلى 13:00)")


# --- the order page ---------------------------------------------------------------------------------------------------
def test_the_form_offers_the_days_in_arabic_and_a_confirmed_pickup_shows_on_the_order_page(site, shop):  # noqa: F811
    order_id, token = a_delivered_order(shop, language="ar")
    form = get(site, f"/my-order/{token}/return")
    assert 'name="pickup"' in form.body
    assert '<option value="2026-11-24.morning">الثلاثاء، 24 نوفمبر، صباحاً (من 9:00 إلى 13:00)</option>' in form.body
    fields = hidden(form.body, "return-form")
    review = post(site, f"/my-order/{token}/return", choose(fields, method="pickup", pickup="2026-11-26.afternoon"))
    assert review.status == 200 and "الخميس، 26 نوفمبر، بعد الظهر" in review.body
    confirm = hidden(review.body, "return-confirm-form")
    assert confirm["pickup"] == "2026-11-26.afternoon"
    assert post(site, f"/my-order/{token}/return", confirm).status == 303
    [ret] = shop.orders.get(order_id).returns
    assert (ret.method, ret.pickup) == (ReturnMethod.PICKUP, THURSDAY_AFTERNOON)
    site.uses.issue_label(order_id, ret.return_id)
    page = get(site, f"/my-order/{token}")
    assert "سيأتي مندوب لاستلامه يوم الخميس، 26 نوفمبر، بعد الظهر" in page.body  # beside the label
    assert 'data-testid="return-pickup"' in page.body and 'data-testid="timeline-pickup"' in page.body
    assert site.order_json(token)["returns"][0]["pickup_on"] == "2026-11-26"


@pytest.mark.parametrize("pickup", ["", "2026-11-30.morning", "2026-11-24.evening", "<script>"])
def test_a_pickup_day_not_offered_shows_the_form_again_and_creates_nothing(site, shop, pickup):  # noqa: F811
    order_id, token = a_delivered_order(shop)
    fields = hidden(get(site, f"/my-order/{token}/return").body, "return-form")
    page = post(site, f"/my-order/{token}/return", choose(fields, method="pickup", pickup=pickup))
    assert page.status == 422 and "choose one of the days and times offered for the courier" in page.body
    assert shop.orders.get(order_id).returns == []
