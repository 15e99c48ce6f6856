"""The return workflow's own steps, with in-memory fakes: the request starts one execution per return; each wait
parks its token on the return, or ends itself when what it waits for already happened; an action replayed after the
workflow moved on never ends a later wait; the parcel wait lasts until the label expires; the merchant's label
validity shortens the carrier's; the carrier's reports on a return parcel move the return once each and resume the
parcel wait; a return waiting for the warehouse alerts operations without customer data."""

from datetime import timedelta

import pytest
from returning import AGENT, WAREHOUSE, Returns, asking, delivered, report

from dawra.adapters.carriers.sandbox import SandboxCarrier
from dawra.app.return_workflow import (
    AlertOpsAboutReturn,
    MerchantLabelValidity,
    OpenReturnWorkflow,
    ParcelWaits,
    ParkReturn,
    ReturnTimings,
    StartReturn,
)
from dawra.app.returns import IssueReturnLabel
from dawra.domain.errors import TransientError
from dawra.domain.returns import InspectionOutcome, ReturnMethod, ReturnReason, ReturnRefused, ReturnStatus

TIMINGS = ReturnTimings(approval=timedelta(hours=72), inspection_alert=timedelta(hours=48),
                        parcel_wait=timedelta(days=14), label_valid=timedelta(days=3))


def parts(shop):
    returns = Returns(shop)
    park = ParkReturn(shop.orders, returns.wait, shop.workflow)
    return returns, park, StartReturn(returns.request, shop.workflow)


def test_a_request_starts_its_workflow_once_and_a_refused_one_starts_nothing(shop):
    _, _, start = parts(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1, "DATES-1KG": 1})
    ret = start(order_id, "key-a", asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)}))
    start(order_id, "key-a", asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)}))  # asked again
    assert shop.workflow.started_returns == [(order_id, ret.return_id)]
    with pytest.raises(ReturnRefused, match="final sale"):
        start(order_id, "key-b", asking({"DATES-1KG": (1, ReturnReason.CHANGED_MIND)}))
    assert shop.workflow.started_returns == [(order_id, ret.return_id)]


def test_the_first_task_reads_the_status_and_how_long_the_waits_last(shop):
    _, _, start = parts(shop)
    order_id = delivered(shop, {"MUG-CLASSIC": 1})  # inspect-first: an agent approves
    ret = start(order_id, "key-a", asking({"MUG-CLASSIC": (1, ReturnReason.CHANGED_MIND)}))
    opened = OpenReturnWorkflow(shop.orders, TIMINGS)(order_id, ret.return_id)
    assert (opened.status, opened.approval_timeout_s, opened.inspection_alert_s) == ("requested", 72 * 3600,
                                                                                     48 * 3600)


def test_a_wait_parks_or_ends_itself_when_the_news_came_first(shop):
    returns, park, start = parts(shop)
    order_id = delivered(shop, {"MUG-CLASSIC": 2})
    waiting = start(order_id, "key-a", asking({"MUG-CLASSIC": (1, ReturnReason.CHANGED_MIND)}))
    assert park(order_id, waiting.return_id, "approval", "tok-1") == {"waiting": True}
    assert returns.get(order_id, waiting.return_id).resume_token == "tok-1" and "tok-1" not in shop.workflow.resumed

    early = start(order_id, "key-b", asking({"MUG-CLASSIC": (1, ReturnReason.CHANGED_MIND)}))
    returns.decide.approve(AGENT, order_id, early.return_id, "approve-b")  # before its workflow parked
    assert park(order_id, early.return_id, "approval", "tok-2") == {"waiting": False}
    assert shop.workflow.resumed["tok-2"] == {"return_id": early.return_id, "status": "approved", "approved": True}


def test_a_replayed_decision_or_receipt_never_ends_a_later_wait(shop):
    returns, park, start = parts(shop)
    order_id = delivered(shop, {"MUG-CLASSIC": 1})
    ret = start(order_id, "key-a", asking({"MUG-CLASSIC": (1, ReturnReason.CHANGED_MIND)}))
    park(order_id, ret.return_id, "approval", "tok-approval")
    returns.decide.approve(AGENT, order_id, ret.return_id, "approve-1")
    assert shop.workflow.resumed["tok-approval"]["approved"] is True
    returns.issue_label(order_id, ret.return_id)
    park(order_id, ret.return_id, "parcel", "tok-parcel")
    returns.decide.approve(AGENT, order_id, ret.return_id, "approve-1")  # the agent's request, replayed
    assert "tok-parcel" not in shop.workflow.resumed

    returns.receive(order_id, ret.return_id)
    assert shop.workflow.resumed["tok-parcel"]["received"] is True
    park(order_id, ret.return_id, "inspection", "tok-inspection")
    returns.receive(order_id, ret.return_id)  # the store's "received", clicked twice
    assert "tok-inspection" not in shop.workflow.resumed
    returns.inspect(WAREHOUSE, order_id, ret.return_id, "inspect-1",
                    {"MUG-CLASSIC": (InspectionOutcome.SELLABLE, None)})
    assert shop.workflow.resumed["tok-inspection"]["inspected"] is True


def test_the_parcel_wait_lasts_until_the_label_expires_or_the_merchants_wait_for_a_store(shop):
    returns, _, start = parts(shop)
    waits = ParcelWaits(returns.issue_label, returns.expire_label, shop.orders, TIMINGS, shop.clock)
    order_id = delivered(shop, {"PRAYER-MAT": 2})
    by_label = start(order_id, "key-a", asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)}))
    issued = waits.issue(order_id, by_label.return_id)
    assert (issued.status, issued.wait_s) == ("label_issued", 14 * 24 * 3600)  # the fake carrier's 14 days
    shop.clock.advance(days=14, seconds=1)
    assert waits.expire(order_id, by_label.return_id).status == "label_expired"

    at_store = start(order_id, "key-b", asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)},
                                               method=ReturnMethod.STORE, location="jeddah-store"))
    store = waits.issue(order_id, at_store.return_id)
    assert (store.status, store.wait_s) == ("awaiting_drop_off", 14 * 24 * 3600)
    again = waits.expire(order_id, at_store.return_id)  # asked before the date it is due by: it waits on
    assert (again.status, again.wait_s) == ("awaiting_drop_off", 14 * 24 * 3600)
    shop.clock.advance(days=14, seconds=1)
    assert waits.expire(order_id, at_store.return_id).status == "label_expired"  # never brought: it ends


def test_the_merchants_label_validity_shortens_the_carriers(shop):
    returns, _, _ = parts(shop)
    shorter = MerchantLabelValidity(returns.carrier, timedelta(days=3), shop.clock)
    address = shop.orders.get(delivered(shop, {"PRAYER-MAT": 1})).shipping_address
    booking = shorter.book_return("ret_" + "1" * 20, address, "riyadh-dc", 800)
    assert booking.expires_at == "2026-11-26T09:00:00.000Z"  # 3 days, not the carrier's 14
    longer = MerchantLabelValidity(returns.carrier, timedelta(days=30), shop.clock)
    assert longer.book_return("ret_" + "2" * 20, address, "riyadh-dc", 800).expires_at == "2026-12-07T09:00:00.000Z"


def test_carrier_reports_on_a_return_parcel_move_it_once_and_resume_the_parcel_wait(shop):
    returns, park, start = parts(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    ret = start(order_id, "key-a", asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)}))
    sandbox = SandboxCarrier(now=shop.clock.now)  # its tracking numbers are what its webhooks accept
    number = IssueReturnLabel(shop.orders, shop.inventory, shop.uow, sandbox, shop.clock)(
        order_id, ret.return_id).tracking_number
    park(order_id, ret.return_id, "parcel", "tok-parcel")

    assert report(shop, number, "PICKED_UP") == "['return moved to in_transit']"
    assert report(shop, number, "PICKED_UP") == "['duplicate']"
    assert returns.get(order_id, ret.return_id).status == ReturnStatus.IN_TRANSIT
    assert report(shop, number, "DELIVERED") == "['return moved to received']"
    assert shop.workflow.resumed["tok-parcel"] == {"return_id": ret.return_id, "status": "received",
                                                   "received": True}
    park(order_id, ret.return_id, "inspection", "tok-inspection")
    assert report(shop, number, "DELIVERED") == "['duplicate']"
    assert "tok-inspection" not in shop.workflow.resumed  # the inspection still waits for the warehouse
    kinds = [k for k in shop.world.timeline_kinds(order_id) if k.startswith("return_")]
    assert kinds.count("return_in_transit") == 1 and kinds.count("return_received") == 1


def test_an_arrival_whose_resume_was_lost_resumes_the_parcel_wait_when_reported_or_received_again(shop):
    returns, park, start = parts(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 2})
    sandbox = SandboxCarrier(now=shop.clock.now)
    ret = start(order_id, "key-a", asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)}))
    number = IssueReturnLabel(shop.orders, shop.inventory, shop.uow, sandbox, shop.clock)(
        order_id, ret.return_id).tracking_number
    park(order_id, ret.return_id, "parcel", "tok-parcel")
    resume = shop.workflow.resume

    def lost(token, output):  # the consumer dies after its commit, before Step Functions hears of it
        shop.workflow.resume = resume
        raise TransientError("injected: SendTaskSuccess throttled")

    shop.workflow.resume = lost
    with pytest.raises(TransientError):
        report(shop, number, "DELIVERED")
    assert returns.get(order_id, ret.return_id).status == ReturnStatus.RECEIVED and not shop.workflow.resumed
    assert report(shop, number, "DELIVERED") == "['duplicate']"  # the queue delivers the report again
    assert shop.workflow.resumed["tok-parcel"]["received"] is True

    # A store drop-off whose "received" click lost its resume: the click again ends the wait.
    at_store = start(order_id, "key-b", asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)},
                                               method=ReturnMethod.STORE, location="jeddah-store"))
    returns.issue_label(order_id, at_store.return_id)
    park(order_id, at_store.return_id, "parcel", "tok-store")
    shop.workflow.resume = lost
    with pytest.raises(TransientError):
        returns.receive(order_id, at_store.return_id)
    returns.receive(order_id, at_store.return_id)
    assert shop.workflow.resumed["tok-store"]["received"] is True


def test_an_alert_about_a_return_names_only_the_order_and_the_return(shop):
    AlertOpsAboutReturn(shop.alerts)("ord_abc", "ret_" + "0" * 20, "waiting for inspection")
    assert shop.alerts.alerts == [("ord_abc", "return ret_00000000000000000000: waiting for inspection")]
