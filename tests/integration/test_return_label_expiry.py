"""Return labels that expire, through the real return state machine: the merchant accepts labels for 3.6 s here
(return-label-valid-hours 0.001, shorter than the carrier's 14 days). An unused label expires and the return ends with
nothing back; a parcel already on its way when its label expires is waited for again, and received. Each asserts what
the customer was told (the emails in the local outbox): the expiry of an unused label, and none for a label used in
time."""

import time

import pytest
from parcels import stock
from return_trips import (
    asking,
    delivered_order,
    execution,
    parked,
    report_return,
    return_when,
    returns_of,
    status_is,
    told_about_returns,
    what_told,
)
from stacks import seeded_stack

from dawra.domain.returns import ReturnReason


@pytest.fixture(scope="module")
def stack():
    yield from seeded_stack(**{"return-label-valid-hours": "0.001"})


def test_an_unused_label_expires_and_nothing_is_refunded(stack, unique):
    returns = returns_of(stack)
    email = f"{unique('label')}@example.com"
    order_id = delivered_order(stack, email, {"PRAYER-MAT": 1})
    before = stock(stack, "PRAYER-MAT", "riyadh-dc")
    ret = returns.start(order_id, "ret-key-unused", asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)}))

    expired = return_when(stack, order_id, ret.return_id, status_is("label_expired"), "label never expired",
                          timeout_s=30)
    assert expired.label_issued_at and expired.label_expires_at and expired.label_expires_at > expired.label_issued_at
    assert expired.refunded is None and stock(stack, "PRAYER-MAT", "riyadh-dc") == before
    run = execution(stack, ret.return_id)
    assert run["status"] == "SUCCEEDED"
    assert run["states"][-4:] == ["WaitForParcel", "LabelExpired", "WasTheLabelUsed", "ReturnNeverSent"]
    told = told_about_returns(stack, order_id, (email,), 3)
    assert what_told(told) == [("return_requested", "email", "en"), ("return_label_issued", "email", "en"),
                               ("return_label_expired", "email", "en")]
    assert "was not used in time and has expired" in told[-1].body and "ask again" in told[-1].body
    # Nothing came back: the customer may ask again (within the window), with another request.
    again = returns.start(order_id, "ret-key-unused-2", asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)}))
    assert again.return_id != ret.return_id and again.status.value == "approved"


def test_a_parcel_on_its_way_when_its_label_expires_is_still_received(stack, unique):
    returns = returns_of(stack)
    email = f"{unique('late-label')}@example.com"
    order_id = delivered_order(stack, email, {"PRAYER-MAT": 1})
    ret = returns.start(order_id, "ret-key-moving", asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)}))
    labelled = return_when(stack, order_id, ret.return_id, status_is("label_issued"), "no label")
    report_return(stack, labelled.tracking_number, "PICKED_UP")  # dropped off in time
    return_when(stack, order_id, ret.return_id, status_is("in_transit"), "not in transit")

    def waited_again() -> bool:
        states = execution(stack, ret.return_id, timeout_s=0)["states"]
        return states.count("WaitForParcel") == 2

    deadline = time.monotonic() + 30
    while not waited_again():
        assert time.monotonic() < deadline, "the workflow never looked at the label again"
        time.sleep(0.1)
    report_return(stack, labelled.tracking_number, "DELIVERED")
    received = return_when(stack, order_id, ret.return_id, parked("received"), "not waiting for inspection")
    assert received.status.value == "received"  # never label_expired: it was on its way
    assert "LabelExpired" in execution(stack, ret.return_id, timeout_s=0)["states"]
    # The label's expiry under a parcel already sent is not news for the customer: no "your label expired".
    told = told_about_returns(stack, order_id, (email,), 3)
    assert what_told(told) == [("return_requested", "email", "en"), ("return_label_issued", "email", "en"),
                               ("return_received", "email", "en")]
