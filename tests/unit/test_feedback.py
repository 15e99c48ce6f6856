"""Feedback after delivery: asked once a while after the last parcel arrived, one answer per order, and the figures
the operations view draws from the answers."""

from datetime import timedelta

import pytest
from fakes import FakeLater
from pydantic import ValidationError

from dawra.app.feedback import (
    ASK_FOR_FEEDBACK,
    AskForFeedback,
    GiveFeedback,
    ScheduleFeedback,
    feedback_job_name,
)
from dawra.domain.errors import IllegalTransition, TransientError
from dawra.domain.feedback import Feedback, feedback_figures
from dawra.domain.shipment import ShipmentStatus
from dawra.domain.tracking import TrackingEvent
from dawra.rendering import Letterhead, render

LETTERHEAD = Letterhead(shop_name="Dawra Demo", support="help@example.com",
                        page_url="https://shop.example/my-order/TOKEN")


def delivered_order(shop) -> str:
    order_id = shop.place({"MUG-CLASSIC": 1})
    for planned in shop.reserve(order_id).shipments:
        shop.ship(order_id, planned.shipment_id)
    for shipment in shop.orders.get(order_id).shipments:
        shop.tracking.apply(TrackingEvent(carrier="sandbox", event_id=f"d-{shipment.shipment_id}",
                                          tracking_number=shipment.tracking_number, status="delivered",
                                          occurred_at="2026-11-24T10:00:00.000Z", carrier_status="DELIVERED"))
    return order_id


@pytest.fixture
def feedback(shop):
    later = FakeLater()
    schedule = ScheduleFeedback(later, timedelta(days=3), shop.clock)
    return later, schedule, AskForFeedback(shop.orders, shop.uow, shop.clock), GiveFeedback(shop.orders, shop.uow,
                                                                                            shop.clock)


def test_a_completed_order_gets_one_ask_scheduled_three_days_later(shop, feedback):
    later, schedule, _, _ = feedback
    order_id = delivered_order(shop)
    assert shop.orders.get(order_id).status.value == "COMPLETED"  # with its delivery
    schedule(order_id)  # the notifier, on the order_completed record
    schedule(order_id)  # the same record retried: the job's name keeps it one
    job = {"kind": ASK_FOR_FEEDBACK, "order_id": order_id}
    assert later.pending == {feedback_job_name(order_id): (shop.clock.now() + timedelta(days=3), job)}
    assert later.take_due(shop.clock.now() + timedelta(days=3, seconds=-1)) == []
    assert later.take_due(shop.clock.now() + timedelta(days=3)) == [job]


def test_a_scheduler_that_fails_leaves_the_order_complete_and_the_record_to_retry(shop, feedback):
    later, schedule, _, _ = feedback
    later.failures.append(TransientError("Scheduler CreateSchedule: ThrottlingException"))
    order_id = delivered_order(shop)
    with pytest.raises(TransientError):  # the stream record fails, and is retried from there
        schedule(order_id)
    assert later.pending == {}  # nothing arranged (the order stays as its delivery left it: scheduling writes none)
    schedule(order_id)  # the retry arranges it
    assert list(later.pending) == [feedback_job_name(order_id)]


def test_the_ask_is_recorded_once_and_only_for_a_complete_order(shop, feedback):
    _, _, ask, _ = feedback
    open_order = shop.place({"MUG-CLASSIC": 1})
    assert ask(open_order) == "not asked: the order is CONFIRMED"
    assert ask("ord_" + "0" * 32) == "not asked: no such order"
    order_id = delivered_order(shop)
    assert ask(order_id) == "asked"
    assert ask(order_id) == "asked already"  # the job delivered twice
    kinds = shop.world.timeline_kinds(order_id)
    assert kinds.count("feedback_requested") == 1 and shop.orders.get(order_id).feedback_asked_at


def test_one_answer_per_order_on_its_timeline(shop, feedback):
    _, _, ask, give = feedback
    on_its_way = shop.place({"MUG-CLASSIC": 1})
    for planned in shop.reserve(on_its_way).shipments:
        shop.ship(on_its_way, planned.shipment_id)
    with pytest.raises(IllegalTransition):
        give(on_its_way, Feedback(rating=5, recommend=10))  # not complete yet
    order_id = delivered_order(shop)
    ask(order_id)
    give(order_id, Feedback(rating=4, recommend=9, comment="  Fast, and the dallah is <b>lovely</b>  "))
    with pytest.raises(IllegalTransition, match="already given"):
        give(order_id, Feedback(rating=1, recommend=0))
    [event] = [e for e in shop.orders.timeline(order_id) if e.kind.value == "feedback_received"]
    assert event.detail == {"rating": "4", "recommend": "9", "comment": "Fast, and the dallah is <b>lovely</b>"}
    assert Feedback.from_detail(event.detail).rating == 4


@pytest.mark.parametrize("bad", [{"rating": 0, "recommend": 5}, {"rating": 6, "recommend": 5},
                                 {"rating": 3, "recommend": 11}, {"rating": 3, "recommend": -1},
                                 {"rating": 3, "recommend": 5, "comment": "x" * 1001},
                                 {"rating": 3, "recommend": 5, "comment": "line\x00break"},
                                 {"rating": 3, "recommend": 5, "extra": "no"}])
def test_an_answer_out_of_range_is_refused(bad):
    with pytest.raises(ValidationError):
        Feedback.model_validate(bad)


def test_nps_and_ratings():
    answers = [Feedback(rating=r, recommend=n) for r, n in [(5, 10), (5, 9), (4, 8), (3, 7), (2, 6), (1, 0)]]
    figures = feedback_figures(answers)
    assert (figures.responses, figures.promoters, figures.passives, figures.detractors) == (6, 2, 2, 2)
    assert figures.nps == 0 and figures.average_rating == 3.33
    assert figures.ratings == {1: 1, 2: 1, 3: 1, 4: 1, 5: 2}
    assert feedback_figures([Feedback(rating=5, recommend=10)] * 2 + [Feedback(rating=1, recommend=3)]).nps == 33
    assert feedback_figures([Feedback(rating=1, recommend=3)] * 2 + [Feedback(rating=5, recommend=10)]).nps == -33
    assert feedback_figures([Feedback(rating=1, recommend=0)] * 1 + [Feedback(rating=5, recommend=7)]).nps == -50
    empty = feedback_figures([])
    assert (empty.responses, empty.nps, empty.average_rating) == (0, None, None)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_ask_links_to_the_feedback_form_in_the_customers_language(shop, feedback, language):
    _, _, ask, _ = feedback
    order_id = delivered_order(shop)
    ask(order_id)
    order = shop.orders.get(order_id).model_copy(update={"contact": shop.orders.get(order_id).contact.model_copy(
        update={"language": language})})
    [event] = [e for e in shop.orders.timeline(order_id) if e.kind.value == "feedback_requested"]
    message = render(order, event, LETTERHEAD)
    assert f"{LETTERHEAD.page_url}#feedback" in message.html and f"{LETTERHEAD.page_url}#feedback" in message.text
    assert ("How did your order" if language == "en" else "كيف كانت تجربتك") in message.subject


def test_an_order_that_completed_with_nothing_delivered_is_not_asked(shop, feedback):
    _, _, ask, _ = feedback
    order_id = delivered_order(shop)
    # Its only parcel, as a lost parcel settled by a refund leaves it (the order complete, nothing delivered).
    for shipment_id, shipment in shop.world.shipments[order_id].items():
        shop.world.shipments[order_id][shipment_id] = shipment.model_copy(update={"status": ShipmentStatus.LOST})
    assert ask(order_id) == "not asked: nothing reached the customer"
    assert "feedback_requested" not in shop.world.timeline_kinds(order_id)
