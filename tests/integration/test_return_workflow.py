"""Returns through the real return state machine (statemachines/return_lifecycle.asl.json) on the embedded cloud:
the customer's request starts it, the sandbox carrier's signed webhooks move the return parcel, an agent and the
warehouse act through the same use cases the console calls. Each asserts the return, the stock, the money and what
the customer was told (the emails in the local outbox: which message, on which channel, in which language, each step
once). Approvals expire here after 7.2 s (return-approval-hours 0.002), so that an expiry can be waited for."""

import pytest
from pages import call
from parcels import order_of, stock
from return_trips import (
    AGENT,
    WAREHOUSE,
    asking,
    delivered_order,
    execution,
    parked,
    report_return,
    return_section_link,
    return_when,
    returns_of,
    status_is,
    told_about_returns,
    what_told,
)
from stacks import seeded_stack

from dawra.domain.returns import InspectionOutcome, ReturnReason, ReturnRefused

APPROVAL_HOURS = "0.002"


@pytest.fixture(scope="module")
def stack():
    for running in seeded_stack(**{"return-approval-hours": APPROVAL_HOURS}):
        from dawra.adapters.dynamo.inventory import DynamoInventory

        DynamoInventory(running.cloud.resolve_ref("table", "inventory", "name")).set_stock(
            "PRAYER-MAT", "riyadh-dc", 20)
        yield running


@pytest.fixture(scope="module")
def returns(stack):
    return returns_of(stack)


def test_a_return_within_the_window_is_labelled_tracked_inspected_restocked_and_refunded_once(stack, returns, unique):
    email = f"{unique('ret')}@example.com"
    order_id = delivered_order(stack, email, {"PRAYER-MAT": 2})
    before = stock(stack, "PRAYER-MAT", "riyadh-dc")

    ret = returns.start(order_id, "ret-key-happy", asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)}))
    assert ret.status.value == "approved"  # the standard policy needs nobody's approval
    again = returns.start(order_id, "ret-key-happy", asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)}))
    assert again.return_id == ret.return_id  # the same request: the same return, no second execution
    labelled = return_when(stack, order_id, ret.return_id, parked("label_issued"), "no label")
    assert labelled.tracking_number and labelled.label_expires_at and labelled.carrier == "sandbox"
    # Told so far: the request (accepted by the policy in the same message), then the label, with the link to the
    # return's own section of the order's page, where the label can be downloaded.
    asked, label = told_about_returns(stack, order_id, (email,), 2)
    assert what_told([asked, label]) == [("return_requested", "email", "en"), ("return_label_issued", "email", "en")]
    assert "It is accepted: we are booking your return label" in asked.body
    assert labelled.tracking_number in label.body
    page = call("GET", return_section_link(label, ret.return_id))
    assert page.status == 200 and f'id="return-{ret.return_id}"' in page.text
    assert f'/returns/{ret.return_id}/label.pdf' in page.text and 'data-testid="return-label"' in page.text

    report_return(stack, labelled.tracking_number, "PICKED_UP")
    return_when(stack, order_id, ret.return_id, status_is("in_transit"), "not in transit")
    report_return(stack, labelled.tracking_number, "DELIVERED", location="Riyadh distribution centre")
    report_return(stack, labelled.tracking_number, "DELIVERED", location="Riyadh distribution centre")  # twice
    received = return_when(stack, order_id, ret.return_id, parked("received"), "not waiting for inspection")
    assert received.received_at

    returns.inspect(WAREHOUSE, order_id, ret.return_id, "inspect-happy", {"PRAYER-MAT": (InspectionOutcome.SELLABLE,
                                                                                          None)})
    closed = return_when(stack, order_id, ret.return_id, status_is("closed"), "not closed")
    run = execution(stack, ret.return_id)
    assert run["status"] == "SUCCEEDED"
    assert [s for s in run["states"] if not s.startswith(("Was", "Needs"))] == [
        "ReturnRequested", "IssueLabelOrInstructions", "WaitForParcel", "WaitForInspection", "Refund", "Close",
        "Closed"]

    on_hand, reserved, available = before
    assert stock(stack, "PRAYER-MAT", "riyadh-dc") == (on_hand + 1, reserved, available + 1)  # restocked, once
    # 120.00 + 15% VAT, less the customer's return label under standard@2 (19.00): 119.00, given back once.
    assert closed.refunded is not None and closed.refunded.amount == 11900
    order = order_of(stack, order_id)
    assert order["payment"]["refunded"]["amount"] == 11900
    kinds = [e["kind"] for e in order["timeline"]]
    assert kinds.count("return_refunded") == 1 and kinds.count("return_received") == 1
    assert sorted(k for k in kinds if k.startswith("return_")) == sorted([  # each once (one time for the first two)
        "return_requested", "return_approved", "return_label_issued", "return_in_transit", "return_received",
        "return_inspected", "return_refunded", "return_closed"])
    # Each step the customer hears about, once (the arrival reported twice: received once); the policy's approval,
    # the trip, the inspection and the closing are not messages of their own.
    told = told_about_returns(stack, order_id, (email,), 4)
    assert what_told(told) == [("return_requested", "email", "en"), ("return_label_issued", "email", "en"),
                               ("return_received", "email", "en"), ("return_refunded", "email", "en")]
    assert "gave you back <strong>119.00 SAR</strong> to the way you paid" in told[-1].body


def sent_back(stack, order_id, return_id):
    """The customer drops the parcel at the carrier; it is delivered to the warehouse; the workflow waits for the
    inspection."""
    labelled = return_when(stack, order_id, return_id, status_is("label_issued"), "no label")
    report_return(stack, labelled.tracking_number, "PICKED_UP")
    report_return(stack, labelled.tracking_number, "DELIVERED")
    return return_when(stack, order_id, return_id, parked("received"), "not waiting for inspection")


def test_a_final_sale_line_is_refused_and_nothing_starts(stack, returns, unique):
    from dawra.domain.returns import return_id_for

    email = f"{unique('final')}@example.com"
    order_id = delivered_order(stack, email, {"DATES-1KG": 1})
    with pytest.raises(ReturnRefused, match="final sale"):
        returns.start(order_id, "ret-key-final", asking({"DATES-1KG": (1, ReturnReason.CHANGED_MIND)}))

    from dawra.adapters.dynamo.orders import DynamoOrders

    stored = DynamoOrders(stack.cloud.resolve_ref("table", "orders", "name")).get(order_id)
    assert stored is not None and stored.returns == [] and stored.status.value == "COMPLETED"
    sfn = stack.cloud.client("stepfunctions")
    arn = stack.cloud.resolve_ref("state_machine", "return-lifecycle", "arn").replace(
        ":stateMachine:", ":execution:") + ":" + return_id_for(order_id, "ret-key-final")
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.describe_execution(executionArn=arn)
    assert told_about_returns(stack, order_id, (email,), 0) == []  # refused on the page: no message about it


def test_approval_granted_goes_on_declined_stops_and_approval_never_given_expires(stack, returns, unique):
    from dawra.domain.returns import ReturnMethod

    email = f"{unique('approve')}@example.com"
    order_id = delivered_order(stack, email, {"MUG-CLASSIC": 3})  # inspect-first
    store = stock(stack, "MUG-CLASSIC", "jeddah-store")
    kept = returns.start(order_id, "ret-key-kept", asking({"MUG-CLASSIC": (1, ReturnReason.CHANGED_MIND)},
                                                          method=ReturnMethod.STORE, location="jeddah-store"))
    forgotten = returns.start(order_id, "ret-key-forgotten",
                              asking({"MUG-CLASSIC": (1, ReturnReason.WRONG_SIZE)}))
    refused = returns.start(order_id, "ret-key-refused", asking({"MUG-CLASSIC": (1, ReturnReason.CHANGED_MIND)}))
    assert kept.status.value == forgotten.status.value == refused.status.value == "requested"
    return_when(stack, order_id, refused.return_id, parked("requested"), "not waiting for approval")
    returns.decide.decline(AGENT, order_id, refused.return_id, "decline-refused", "opened & used <see the photos>")
    declined = return_when(stack, order_id, refused.return_id, status_is("declined"), "not declined")
    assert declined.refunded is None and declined.tracking_number is None

    return_when(stack, order_id, kept.return_id, parked("requested"), "not waiting for approval")
    returns.decide.approve(AGENT, order_id, kept.return_id, "approve-kept")
    return_when(stack, order_id, kept.return_id, parked("awaiting_drop_off"), "no store instructions")
    returns.receive(order_id, kept.return_id)  # the customer brought it to the Jeddah store
    return_when(stack, order_id, kept.return_id, parked("received"), "not waiting for inspection")
    returns.inspect(WAREHOUSE, order_id, kept.return_id, "inspect-kept",
                    {"MUG-CLASSIC": (InspectionOutcome.SELLABLE, None)})
    closed = return_when(stack, order_id, kept.return_id, status_is("closed"), "not closed")
    # 45.00 + 15% VAT = 51.75, less the 10% restocking fee (5.18); no return shipping to a store.
    assert closed.refunded is not None and closed.refunded.amount == 4657
    on_hand, reserved, available = store
    assert stock(stack, "MUG-CLASSIC", "jeddah-store") == (on_hand + 1, reserved, available + 1)  # where it came

    expired = return_when(stack, order_id, forgotten.return_id, status_is("expired"), "not expired", timeout_s=30)
    assert expired.refunded is None and expired.tracking_number is None
    run = execution(stack, forgotten.return_id)
    assert run["status"] == "SUCCEEDED" and run["states"][-3:] == ["RequestExpired", "WasItDecidedMeanwhile",
                                                                     "Expired"]
    assert execution(stack, kept.return_id)["states"][:5] == [
        "ReturnRequested", "NeedsApproval", "WaitForApproval", "WasItApproved", "IssueLabelOrInstructions"]
    assert execution(stack, refused.return_id)["status"] == "SUCCEEDED"
    order = order_of(stack, order_id)
    assert order["payment"]["refunded"]["amount"] == 4657
    assert [e["kind"] for e in order["timeline"]].count("return_expired") == 1
    # Three requests told "we will tell you what we decide"; then each decision (an agent's approval or refusal, the
    # expiry), and the kept one's arrival at the store and refund: each once.
    told = told_about_returns(stack, order_id, (email,), 8)
    assert sorted(what_told(told)) == sorted([
        *[("return_requested", "email", "en")] * 3, ("return_approved", "email", "en"),
        ("return_declined", "email", "en"), ("return_expired", "email", "en"), ("return_received", "email", "en"),
        ("return_refunded", "email", "en")])
    assert all("will tell you what we decide" in m.body for m in told if m.kind == "return_requested")
    [approved] = [m for m in told if m.kind == "return_approved"]
    assert "Bring the items to the store you chose" in approved.body
    return_section_link(approved, kept.return_id)  # where the store is named
    [declined_message] = [m for m in told if m.kind == "return_declined"]
    assert "The reason: opened &amp; used &lt;see the photos&gt;" in declined_message.body  # the agent's, escaped
    [refund] = [m for m in told if m.kind == "return_refunded"]
    assert "<strong>46.57 SAR</strong>" in refund.body


def test_a_damaged_item_is_refunded_but_quarantined_not_restocked(stack, returns, unique):
    email = f"{unique('damaged')}@example.com"
    order_id = delivered_order(stack, email, {"PRAYER-MAT": 1})
    before = stock(stack, "PRAYER-MAT", "riyadh-dc")
    from dawra.adapters.dynamo.inventory import DynamoInventory

    inventory = DynamoInventory(stack.cloud.resolve_ref("table", "inventory", "name"))
    held = inventory.stock("PRAYER-MAT", "riyadh-dc").quarantined
    ret = returns.start(order_id, "ret-key-damaged", asking({"PRAYER-MAT": (1, ReturnReason.DAMAGED)}))
    sent_back(stack, order_id, ret.return_id)

    returns.inspect(WAREHOUSE, order_id, ret.return_id, "inspect-damaged",
                    {"PRAYER-MAT": (InspectionOutcome.DAMAGED, "torn at one corner")})
    closed = return_when(stack, order_id, ret.return_id, status_is("closed"), "not closed")

    assert stock(stack, "PRAYER-MAT", "riyadh-dc") == before  # quarantined: not back on the shelf
    assert inventory.stock("PRAYER-MAT", "riyadh-dc").quarantined == held + 1  # set aside there, in the same commit
    [line] = closed.lines
    assert line.outcome == InspectionOutcome.DAMAGED and line.note == "torn at one corner"
    order = order_of(stack, order_id)
    # The merchant's fault and everything back: all of it, shipping included, no label charged.
    assert closed.refunded is not None and closed.refunded.amount == order["totals"]["total"]["amount"]
    assert order["payment"]["refunded"]["amount"] == order["payment"]["captured"]["amount"]
    told = told_about_returns(stack, order_id, (email,), 4)
    assert what_told(told) == [("return_requested", "email", "en"), ("return_label_issued", "email", "en"),
                               ("return_received", "email", "en"), ("return_refunded", "email", "en")]
    total = closed.refunded.amount
    assert f"gave you back <strong>{total // 100:,}.{total % 100:02d} SAR</strong>" in told[-1].body
    assert "Not refunded" not in told[-1].body  # damaged, but ours to bear: nothing held back


def test_a_wrong_item_is_rejected_and_nothing_is_refunded(stack, returns, unique):
    email = f"{unique('wrong')}@example.com"
    order_id = delivered_order(stack, email, {"PRAYER-MAT": 1})
    before = stock(stack, "PRAYER-MAT", "riyadh-dc")
    ret = returns.start(order_id, "ret-key-wrong", asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)}))
    sent_back(stack, order_id, ret.return_id)

    returns.inspect(WAREHOUSE, order_id, ret.return_id, "inspect-wrong",
                    {"PRAYER-MAT": (InspectionOutcome.WRONG_ITEM, "a bath towel, not our mat")})
    rejected = return_when(stack, order_id, ret.return_id, status_is("rejected"), "not rejected")

    assert rejected.refunded is None
    assert stock(stack, "PRAYER-MAT", "riyadh-dc") == before
    order = order_of(stack, order_id)
    assert order["payment"]["refunded"]["amount"] == 0
    run = execution(stack, ret.return_id)
    assert run["status"] == "SUCCEEDED" and run["states"][-2:] == ["WasAnythingRefunded", "Rejected"]
    told = told_about_returns(stack, order_id, (email,), 4)
    assert what_told(told) == [("return_requested", "email", "en"), ("return_label_issued", "email", "en"),
                               ("return_received", "email", "en"), ("return_rejected", "email", "en")]
    assert "1 \N{MULTIPLICATION SIGN} Prayer mat: it is not the item we sent" in told[-1].body
    assert "Nothing was refunded" in told[-1].body
