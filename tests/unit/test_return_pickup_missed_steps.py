"""A courier who did not come for a return's pickup, and the customer choosing another day (issue 12; decision 80),
with the in-memory fakes: the sandbox carrier's PICKUP_MISSED status and its rebooking; the report on the return's
timeline once per day booked (a duplicate, a repeat, a report after the parcel was picked up or arrived, or one about a
day since moved: recorded only); the customer's change once per form key through the return's transition table
(refused, saying why, once picked up); the label kept valid for the new day and the parcel wait following it; the two
messages in both languages; the order page's "Choose another pickup day"."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fakes import LINK_KEY, FakeOrderSearch, FakeRateLimits
from returning import Returns, asking, delivered
from test_customer_page import Log, RecordingActions, get, post
from test_customer_returns_page import PageReturns

from dawra.adapters.carriers.sandbox import SandboxCarrier
from dawra.app.order_page import OpenOrderLink, SendOrderLink
from dawra.app.return_workflow import ParcelWaits, ReturnTimings, seconds
from dawra.app.returns import ChangePickupDay
from dawra.domain.customer import Address
from dawra.domain.errors import IdempotencyKeyReused, InvalidCustomerDetails
from dawra.domain.notifications import Recipient, deserves_message
from dawra.domain.returns import (
    PickupNotOffered,
    PickupSlot,
    PickupWindow,
    ReturnMethod,
    ReturnReason,
    ReturnRefused,
    ReturnRequest,
    ReturnStatus,
)
from dawra.domain.time import iso
from dawra.domain.timeline import TimelineKind
from dawra.domain.tracking import TrackingEvent, TrackingStatus
from dawra.rendering import Letterhead, render
from dawra.web.customer import CustomerSite

LETTERHEAD = Letterhead(shop_name="Dawra Test Shop", support="help@shop.example",
                        page_url="https://shop.example/my-order/TOKEN")
SARA = Address(name="Sara Al-Otaibi", line1="12 Olaya St", city="Riyadh", postal_code="12211", country="SA",
               phone="+966501234567")
# The fake carrier offers the three days after today (the shop's clock: Monday 2026-11-23), morning and afternoon.
TUESDAY_MORNING = PickupSlot(day=date(2026, 11, 24), window=PickupWindow.MORNING)
WEDNESDAY_AFTERNOON = PickupSlot(day=date(2026, 11, 25), window=PickupWindow.AFTERNOON)
THURSDAY_MORNING = PickupSlot(day=date(2026, 11, 26), window=PickupWindow.MORNING)


def a_pickup(shop: Any, uses: Returns, slot: PickupSlot = TUESDAY_MORNING, key: str = "pickup-missed-01",
             language: str = "en") -> tuple[str, str, str]:
    """A delivered order whose return a courier collects on `slot`, its label issued: (order, return, tracking)."""
    order_id = delivered(shop, {"PRAYER-MAT": 1}, key=f"order-{key}")
    if language != "en":
        order = shop.orders.get(order_id)
        order.contact = order.contact.model_copy(update={"language": language, "preferred_channel": "both",
                                                         "phone": "+966501234567"})
        order._header_changed = True
        shop.uow.commit(order=order)
    asked = asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)}, method=ReturnMethod.PICKUP)
    ret = uses.request(order_id, key, ReturnRequest(lines=asked.lines, method=asked.method,
                                                    refund_method=asked.refund_method,
                                                    location_id=asked.location_id, pickup=slot))
    uses.issue_label(order_id, ret.return_id)
    return order_id, ret.return_id, uses.get(order_id, ret.return_id).tracking_number


def carrier_says(shop: Any, tracking: str, status: TrackingStatus, event_id: str, at: str | None = None) -> str:
    received = iso(shop.clock.now())
    return shop.tracking.apply(TrackingEvent(carrier="sandbox", event_id=event_id, tracking_number=tracking,
                                             status=status, occurred_at=at or received, carrier_status=status.value,
                                             received_at=received))


def events(shop: Any, order_id: str, kind: TimelineKind) -> list[Any]:
    return [e for e in shop.orders.timeline(order_id) if e.kind == kind]


def mover(shop: Any, uses: Returns) -> ChangePickupDay:
    return ChangePickupDay(shop.orders, shop.uow, uses.audit, uses.carrier, shop.clock)


# --- the sandbox carrier ------------------------------------------------------------------------------------------
def test_the_sandbox_reports_a_missed_pickup_and_moves_its_courier_once_per_reference():
    carrier = SandboxCarrier(now=lambda: datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    body = json.dumps({"event_id": "ret-0", "tracking_number": "SBX0123456789AB", "status": "PICKUP_MISSED",
                       "occurred_at": "2026-11-26T14:30:00Z"}).encode()
    [report] = carrier.parse(body)
    assert (report.status, report.carrier_status) == (TrackingStatus.PICKUP_MISSED, "PICKUP_MISSED")
    first = carrier.book_return("ret_0123456789abcdef0123", SARA, "riyadh-dc", 800,
                                pickup=PickupSlot(day=date(2026, 11, 26), window=PickupWindow.AFTERNOON))
    sunday = PickupSlot(day=date(2026, 11, 29), window=PickupWindow.MORNING)
    moved = carrier.rebook_pickup("ret_0123456789abcdef0123", "SA", sunday, "ref-1")
    assert moved.tracking_number == first.tracking_number and moved.pickup == sunday
    assert moved.expires_at == first.expires_at  # already valid well past Sunday: not shortened
    assert carrier.rebook_pickup("ret_0123456789abcdef0123", "SA", THURSDAY_MORNING, "ref-1") == moved  # replay
    # Another process (no memory of the booking): the label covers the day after the new day.
    fresh = SandboxCarrier(now=carrier._now).rebook_pickup("ret_0123456789abcdef0123", "SA", sunday, "ref-2")
    assert fresh.expires_at == "2026-12-01T00:00:00.000Z"
    with pytest.raises(PickupNotOffered):  # a Friday: never offered
        carrier.rebook_pickup("ret_0123456789abcdef0123", "SA",
                              PickupSlot(day=date(2026, 11, 27), window=PickupWindow.MORNING), "ref-3")


# --- the carrier's report -----------------------------------------------------------------------------------------
def test_a_missed_pickup_is_on_the_timeline_once_and_a_repeat_or_duplicate_changes_nothing(shop):
    uses = Returns(shop)
    order_id, return_id, tracking = a_pickup(shop, uses)
    shop.clock.advance(days=1)  # Tuesday afternoon: nobody came
    assert carrier_says(shop, tracking, TrackingStatus.PICKUP_MISSED, "miss-1") == "pickup missed"
    assert carrier_says(shop, tracking, TrackingStatus.PICKUP_MISSED, "miss-1") == "duplicate"
    assert carrier_says(shop, tracking, TrackingStatus.PICKUP_MISSED, "miss-2") == "recorded"  # the same day again
    ret = uses.get(order_id, return_id)
    assert ret.status == ReturnStatus.LABEL_ISSUED and ret.pickup_missed_on == "2026-11-24"
    [missed] = events(shop, order_id, TimelineKind.RETURN_PICKUP_MISSED)
    assert (missed.detail["pickup_on"], missed.detail["pickup_window"], missed.detail["return_id"]) == (
        "2026-11-24", "morning", return_id)
    assert deserves_message(missed)


@pytest.mark.parametrize("then", ["PICKED_UP", "DELIVERED"])
def test_a_missed_pickup_reported_after_the_parcel_left_or_arrived_changes_nothing(shop, then):
    uses = Returns(shop)
    order_id, return_id, tracking = a_pickup(shop, uses)
    carrier_says(shop, tracking, TrackingStatus.IN_TRANSIT if then == "PICKED_UP" else TrackingStatus.DELIVERED,
                 "moved-1")
    before = uses.get(order_id, return_id)
    assert carrier_says(shop, tracking, TrackingStatus.PICKUP_MISSED, "late-miss") == "recorded"
    after = uses.get(order_id, return_id)
    assert after.status == before.status and after.status in (ReturnStatus.IN_TRANSIT, ReturnStatus.RECEIVED)
    assert after.pickup_missed_on is None and events(shop, order_id, TimelineKind.RETURN_PICKUP_MISSED) == []


def test_a_missed_report_on_a_label_return_is_recorded_only(shop):
    uses = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    ret = uses.request(order_id, "label-key-01", asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)}))
    uses.issue_label(order_id, ret.return_id)
    assert carrier_says(shop, uses.get(order_id, ret.return_id).tracking_number, TrackingStatus.PICKUP_MISSED,
                        "odd-1") == "recorded"
    assert events(shop, order_id, TimelineKind.RETURN_PICKUP_MISSED) == []


# --- the customer's new day -----------------------------------------------------------------------------------------
def test_the_customer_moves_the_courier_once_per_key_and_a_late_report_of_the_old_day_is_not_news(shop):
    uses = Returns(shop)
    order_id, return_id, tracking = a_pickup(shop, uses)
    shop.clock.advance(hours=8)
    carrier_says(shop, tracking, TrackingStatus.PICKUP_MISSED, "miss-1")
    change = mover(shop, uses)
    assert THURSDAY_MORNING in change.offered(order_id, return_id)
    done = change(order_id, return_id, "move-key-0001", THURSDAY_MORNING)
    assert not done.replayed and done.audit.action == "change_pickup" and done.audit.actor_id == "customer"
    again = change(order_id, return_id, "move-key-0001", THURSDAY_MORNING)  # a double submit
    assert again.replayed and len(uses.carrier.rebooked) == 1
    with pytest.raises(IdempotencyKeyReused):
        change(order_id, return_id, "move-key-0001", WEDNESDAY_AFTERNOON)
    ret = uses.get(order_id, return_id)
    assert (ret.status, ret.pickup, ret.pickup_missed_on) == (ReturnStatus.LABEL_ISSUED, THURSDAY_MORNING,
                                                               "2026-11-24")
    [changed] = events(shop, order_id, TimelineKind.RETURN_PICKUP_CHANGED)
    assert (changed.detail["pickup_on"], changed.detail["was_on"], changed.detail["after_missed"]) == (
        "2026-11-26", "2026-11-24", "true")
    # The old day's miss reported again, late, under a new id and dated before the change: not the new day's.
    assert carrier_says(shop, tracking, TrackingStatus.PICKUP_MISSED, "miss-late",
                        at=iso(shop.clock.now() - timedelta(hours=1))) == "recorded"
    assert len(events(shop, order_id, TimelineKind.RETURN_PICKUP_MISSED)) == 1
    # The new day missed too: that is news again.
    shop.clock.advance(days=3)
    assert carrier_says(shop, tracking, TrackingStatus.PICKUP_MISSED, "miss-3") == "pickup missed"
    assert [e.detail["pickup_on"] for e in events(shop, order_id, TimelineKind.RETURN_PICKUP_MISSED)] == [
        "2026-11-24", "2026-11-26"]


def test_the_same_day_a_day_not_offered_and_a_parcel_picked_up_are_refused_saying_why(shop):
    uses = Returns(shop)
    order_id, return_id, tracking = a_pickup(shop, uses)
    change = mover(shop, uses)
    with pytest.raises(InvalidCustomerDetails, match="booked for that day and window already"):
        change(order_id, return_id, "move-key-same", TUESDAY_MORNING)
    with pytest.raises(PickupNotOffered):
        change(order_id, return_id, "move-key-late", PickupSlot(day=date(2026, 12, 9), window=PickupWindow.MORNING))
    carrier_says(shop, tracking, TrackingStatus.IN_TRANSIT, "picked-1")
    with pytest.raises(ReturnRefused, match="the parcel has been picked up already"):
        change(order_id, return_id, "move-key-gone", THURSDAY_MORNING)
    with pytest.raises(ReturnRefused, match="picked up already"):
        change.offered(order_id, return_id)
    assert uses.carrier.rebooked == [] and events(shop, order_id, TimelineKind.RETURN_PICKUP_CHANGED) == []
    assert uses.get(order_id, return_id).pickup == TUESDAY_MORNING


def test_a_label_that_would_lapse_first_is_kept_valid_and_the_parcel_wait_follows_it(shop):
    uses = Returns(shop)
    uses.carrier.label_days = 1  # the carrier's label lapses on Tuesday, before any other day it offers
    order_id, return_id, _ = a_pickup(shop, uses)
    lapses = uses.get(order_id, return_id).label_expires_at
    mover(shop, uses)(order_id, return_id, "move-key-keep", THURSDAY_MORNING)
    ret = uses.get(order_id, return_id)
    assert lapses < ret.label_expires_at == "2026-11-28T00:00:00.000Z"  # the end of Friday, the day after Thursday
    [changed] = events(shop, order_id, TimelineKind.RETURN_PICKUP_CHANGED)
    assert (changed.detail["label_extended"], changed.detail["expires_at"]) == ("true", ret.label_expires_at)
    # WaitForParcel timed out at the old date: LabelExpired expires nothing and waits again until the new one.
    waits = ParcelWaits(uses.issue_label, uses.expire_label, shop.orders, ReturnTimings(), shop.clock)
    shop.clock.advance(days=1, hours=1)
    again = waits.expire(order_id, return_id)
    assert again.status == "label_issued" and uses.get(order_id, return_id).status == ReturnStatus.LABEL_ISSUED
    assert again.wait_s == seconds(datetime.fromisoformat(ret.label_expires_at) - shop.clock.now())


# --- what the customer reads ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_customer_is_told_the_courier_missed_with_the_link_and_the_new_day_in_their_language(shop, language):
    uses = Returns(shop)
    order_id, return_id, tracking = a_pickup(shop, uses, key=f"pickup-msg-{language}", language=language)
    shop.clock.advance(hours=8)
    carrier_says(shop, tracking, TrackingStatus.PICKUP_MISSED, "miss-1")
    mover(shop, uses)(order_id, return_id, "move-key-msgs", THURSDAY_MORNING)
    order = shop.orders.get(order_id)
    [missed] = events(shop, order_id, TimelineKind.RETURN_PICKUP_MISSED)
    [changed] = events(shop, order_id, TimelineKind.RETURN_PICKUP_CHANGED)
    link = f"https://shop.example/my-order/TOKEN/returns/{return_id}/pickup"
    email, sms = render(order, missed, LETTERHEAD), render(order, missed, LETTERHEAD, Recipient("sms", "+966501234567"))
    new_email = render(order, changed, LETTERHEAD)
    new_sms = render(order, changed, LETTERHEAD, Recipient("sms", "+966501234567"))
    assert f'href="{link}"' in email.html and link in email.text
    if language == "en":
        assert email.subject.startswith("The courier did not collect your return")
        assert "the courier did not come to collect your return" in email.html
        assert "on <strong>Tuesday 24 November, morning (9:00\u201313:00)</strong>" in email.html
        assert sms.text.startswith("Order #") and "sorry, the courier did not collect your return on Tuesday 24 " \
                                                   "November. Choose another day on your order page:" in sms.text
        assert "will now collect your return for your order" in new_email.html
        assert "Thursday 26 November, morning" in new_email.text and "valid until 2026-12-07." in new_email.text
        assert "a courier will now collect your return on Thursday 26 November, morning" in new_sms.text
    else:
        assert 'dir="rtl"' in email.html and "لم يأتِ المندوب لاستلام المرتجع" in email.html
        assert "الثلاثاء، 24 نوفمبر، صباحاً (من 9:00 إلى 13:00)" in email.html
        assert "نعتذر، لم يستلم المندوب المرتجع يوم الثلاثاء، 24 نوفمبر" in sms.text
        assert "سيأتي مندوب لاستلام المرتجع من طلبك" in new_email.html and "الخميس، 26 نوفمبر" in new_email.html
        assert "سيأتي مندوب لاستلام المرتجع يوم الخميس، 26 نوفمبر، صباحاً" in new_sms.text


# --- the order page -------------------------------------------------------------------------------------------------
@dataclass
class MovingReturns(PageReturns):
    """The page's returns with the courier's change (as dawra.bootstrap.Returns has it)."""

    change_pickup: Any = None


@pytest.fixture
def moving_site(shop: Any) -> CustomerSite:
    uses = Returns(shop)
    send = SendOrderLink(FakeOrderSearch(shop.world), shop.orders, shop.uow, FakeRateLimits(), lambda: LINK_KEY,
                         shop.clock, ["SA"])
    made = CustomerSite(OpenOrderLink(shop.orders, lambda: LINK_KEY, shop.clock), send, shop.links,
                        RecordingActions(shop, offered=frozenset({"change_contact"})), Log(),
                        returns=MovingReturns(uses, [], mover(shop, uses)),
                        locations=lambda: list(shop.world.locations))
    made.uses = uses  # type: ignore[attr-defined]
    return made


def pickup_form(body: str) -> dict[str, str]:
    form = re.search(r'<form[^>]*data-testid="pickup-form".*?</form>', body, re.S)[0]
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))


def test_the_page_offers_another_day_after_a_miss_and_the_change_shows_in_the_returns_section(moving_site, shop):
    uses = moving_site.uses
    order_id, return_id, tracking = a_pickup(shop, uses)
    token = shop.links.token(shop.orders.get(order_id))
    shop.clock.advance(hours=8)
    carrier_says(shop, tracking, TrackingStatus.PICKUP_MISSED, "miss-1")
    page = get(moving_site, f"/my-order/{token}")
    path = f"/my-order/{token}/returns/{return_id}/pickup"
    assert 'data-testid="return-pickup-missed"' in page.body and "The courier did not come on Tuesday" in page.body
    assert 'data-testid="return-change-pickup"' in page.body and path in page.body
    assert moving_site.order_json(token)["returns"][0]["pickup_missed"] is True
    form = get(moving_site, path)
    assert form.status == 200 and 'data-testid="pickup-missed"' in form.body
    assert '<option value="2026-11-26.morning">Thursday 26 November, morning (9:00\u201313:00)</option>' in form.body
    fields = pickup_form(form.body)
    assert post(moving_site, path, {**fields, "csrf": "forged", "pickup": "2026-11-26.morning"}).status == 403
    bad = post(moving_site, path, {**fields, "pickup": "2026-12-30.morning"})
    assert bad.status == 422 and "choose one of the days and times offered for the courier" in bad.body
    done = post(moving_site, path, {**fields, "pickup": "2026-11-26.morning"})
    assert done.status == 303 and "done=pickup_changed" in done.headers["Location"]
    assert done.headers["Location"].endswith(f"#return-{return_id}")
    assert post(moving_site, path, {**fields, "pickup": "2026-11-26.morning"}).status == 303  # a double submit
    assert len(uses.carrier.rebooked) == 1
    assert uses.get(order_id, return_id).pickup == THURSDAY_MORNING
    after = get(moving_site, f"/my-order/{token}")
    assert "return-pickup-missed" not in after.body and "Thursday 26 November" in after.body
    assert 'data-kind="return_pickup_changed"' in after.body and 'data-kind="return_pickup_missed"' in after.body
    # Picked up: the page says why nothing can be moved, and a late post is refused.
    carrier_says(shop, tracking, TrackingStatus.IN_TRANSIT, "picked-1")
    assert 'data-testid="return-change-pickup"' not in get(moving_site, f"/my-order/{token}").body
    late = post(moving_site, path, {**fields, "key": "another-key-0002", "pickup": "2026-11-25.morning"})
    assert late.status == 409 and "The parcel has been picked up already" in late.body
    assert len(uses.carrier.rebooked) == 1


def test_another_orders_link_or_a_return_it_does_not_have_finds_nothing(moving_site, shop):
    uses = moving_site.uses
    _, return_id, _ = a_pickup(shop, uses)
    other = delivered(shop, {"PRAYER-MAT": 1}, key="order-other-1")
    token = shop.links.token(shop.orders.get(other))
    assert get(moving_site, f"/my-order/{token}/returns/{return_id}/pickup").status == 404
