"""A return's life through the use cases, with in-memory fakes: asked for (idempotently, line by line, with the
estimate), approved by the policy or an agent (or expired), a label booked (or a store drop-off), in transit,
received, inspected line by line (sellable back on hand where it arrived, damaged or tampered quarantined, wrong or
missing rejected), refunded and closed; an unused label expires. Every step commits the order, the return, the stock
and the timeline together, and every step its status does not allow is refused saying why."""

import pytest
from fakes import FakeOrders
from returning import AGENT, MANAGER, WAREHOUSE, Returns, asking, delivered

from dawra.domain.errors import Forbidden, IdempotencyKeyReused, IllegalTransition, InvalidCustomerDetails
from dawra.domain.returns import (
    InspectionOutcome,
    RefundMethod,
    ReturnMethod,
    ReturnReason,
    ReturnStatus,
    return_id_for,
)

SELLABLE, DAMAGED, WRONG = InspectionOutcome.SELLABLE, InspectionOutcome.DAMAGED, InspectionOutcome.WRONG_ITEM


def returned_kinds(shop, order_id):
    return [kind for kind in shop.world.timeline_kinds(order_id) if kind.startswith("return_")]


def test_a_return_within_the_window_comes_back_by_label_is_restocked_and_refunded(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 2})
    on_hand = shop.stock("PRAYER-MAT", "riyadh-dc").on_hand
    ask = asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)})
    estimate = returns.estimate(order_id, ask)
    assert (estimate.items.amount, estimate.tax.amount, estimate.restocking_fee.amount,
            estimate.return_shipping.amount, estimate.total.amount) == (12000, 1800, 0, 1900, 11900)
    assert shop.world.returns[order_id] == {}  # an estimate stores nothing

    ret = returns.request(order_id, "ret-key-1", ask)
    assert ret.return_id == return_id_for(order_id, "ret-key-1")
    assert ret.status == ReturnStatus.APPROVED and ret.decided_by == "policy"  # no approval needed
    assert ret.estimate == estimate and ret.lines[0].policy == "standard@2"

    labelled = returns.issue_label(order_id, ret.return_id)
    assert labelled.status == ReturnStatus.LABEL_ISSUED and labelled.tracking_number.startswith("SBR")
    assert labelled.label_expires_at == "2026-12-07T09:00:00.000Z"
    assert returns.carrier.returns == [(ret.return_id, "Riyadh", "riyadh-dc", 800)]
    assert returns.issue_label(order_id, ret.return_id).tracking_number == labelled.tracking_number  # retried
    assert len(returns.carrier.returns) == 1
    assert FakeOrders(shop.world).find_return(labelled.tracking_number) == (order_id, ret.return_id)

    assert returns.on_its_way(order_id, ret.return_id) == ReturnStatus.IN_TRANSIT
    returns.wait(order_id, ret.return_id, "token-parcel", "parcel")
    assert returns.receive(order_id, ret.return_id).status == ReturnStatus.RECEIVED
    assert shop.workflow.resumed["token-parcel"]["received"] is True
    assert returns.receive(order_id, ret.return_id).status == ReturnStatus.RECEIVED  # told twice: once

    outcome = returns.inspect(WAREHOUSE, order_id, ret.return_id, "inspect-1", {"PRAYER-MAT": (SELLABLE, None)})
    assert shop.stock("PRAYER-MAT", "riyadh-dc").on_hand == on_hand + 1  # back on hand, in the same commit
    assert shop.stock("PRAYER-MAT", "riyadh-dc").available == on_hand + 1
    assert outcome.audit.action == "inspect_return" and outcome.audit.after["restocked"] == {"PRAYER-MAT": 1}
    again = returns.inspect(WAREHOUSE, order_id, ret.return_id, "inspect-1", {"PRAYER-MAT": (SELLABLE, None)})
    assert again.replayed and shop.stock("PRAYER-MAT", "riyadh-dc").on_hand == on_hand + 1  # once

    refunded = returns.refund(order_id, ret.return_id)
    assert (refunded.status, refunded.amount.amount, refunded.method) == (
        ReturnStatus.REFUNDED, 11900, RefundMethod.ORIGINAL_PAYMENT)
    assert shop.payments.effective("refund") == {f"{ret.return_id}:refund": 11900}
    assert shop.orders.get(order_id).payment.refunded.amount == 11900
    assert returns.close(order_id, ret.return_id) == ReturnStatus.CLOSED
    assert returned_kinds(shop, order_id) == [
        "return_approved", "return_closed", "return_in_transit", "return_inspected", "return_label_issued",
        "return_received", "return_refunded", "return_requested"]  # all at one fixed moment: sorted by id
    # The original shipment is untouched: still delivered, nothing rewritten.
    assert [s.status.value for s in shop.orders.get(order_id).shipments] == ["delivered"]


def test_the_same_request_key_is_the_same_return_and_another_request_under_it_is_refused(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 2})
    ask = asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)})
    first = returns.request(order_id, "ret-key-1", ask)
    commits = shop.uow.commits
    assert returns.request(order_id, "ret-key-1", ask).return_id == first.return_id
    assert shop.uow.commits == commits and len(shop.orders.get(order_id).returns) == 1
    with pytest.raises(IdempotencyKeyReused):
        returns.request(order_id, "ret-key-1", asking({"PRAYER-MAT": (2, ReturnReason.WRONG_SIZE)}))
    # An answer lost after the commit: the retry finds the return and answers with it.
    shop.uow.faults.append("ambiguous")
    ask_two = asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)})
    with pytest.raises(Exception, match="injected"):
        returns.request(order_id, "ret-key-2", ask_two)
    assert returns.request(order_id, "ret-key-2", ask_two).return_id == return_id_for(order_id, "ret-key-2")
    assert len(shop.orders.get(order_id).returns) == 2
    with pytest.raises(IllegalTransition, match="PRAYER-MAT: already returned"):  # both units are on their way
        returns.request(order_id, "ret-key-3", ask_two)


def test_requests_the_lines_do_not_allow_are_refused_saying_why(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1, "DATES-1KG": 1})
    cases = [
        (asking({"DATES-1KG": (1, ReturnReason.CHANGED_MIND)}), IllegalTransition,
         "DATES-1KG: final sale: it cannot be returned"),
        (asking({"PRAYER-MAT": (2, ReturnReason.CHANGED_MIND)}), InvalidCustomerDetails,
         "PRAYER-MAT: between 1 and 1 can be returned"),
        (asking({"MUG-CLASSIC": (1, ReturnReason.CHANGED_MIND)}), InvalidCustomerDetails,
         "the order has no item MUG-CLASSIC"),
        (asking({}), InvalidCustomerDetails, "choose at least one item"),
        (asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)}, refund=RefundMethod.EXCHANGE), InvalidCustomerDetails,
         "an exchange names the size or variant wanted for every item"),
        (asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)}, refund=RefundMethod.BANK_TRANSFER),
         IllegalTransition, "bank_transfer is not offered for these items"),
    ]
    for ask, error, why in cases:
        with pytest.raises(error, match=why):
            returns.estimate(order_id, ask)
        with pytest.raises(error, match=why):
            returns.request(order_id, "ret-key-x", ask)
    assert shop.world.returns[order_id] == {}


def test_a_return_the_policy_sends_to_a_person_waits_for_an_agent_who_approves_it(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"MUG-CLASSIC": 1})  # homeware: inspect-first, approval required
    ret = returns.request(order_id, "ret-key-1", asking({"MUG-CLASSIC": (1, ReturnReason.CHANGED_MIND)}))
    assert ret.status == ReturnStatus.REQUESTED and ret.approval_required
    with pytest.raises(IllegalTransition, match=f"return {ret.return_id} is requested; issue_label is not allowed"):
        returns.issue_label(order_id, ret.return_id)
    returns.wait(order_id, ret.return_id, "token-approval", "approval")
    with pytest.raises(Forbidden):
        returns.decide.approve(WAREHOUSE, order_id, ret.return_id, "decide-1")
    outcome = returns.decide.approve(AGENT, order_id, ret.return_id, "decide-1")
    assert outcome.audit.action == "approve_return" and outcome.audit.after["return_status"] == "approved"
    assert returns.get(order_id, ret.return_id).decided_by == AGENT.user_id
    assert shop.workflow.resumed["token-approval"] == {"return_id": ret.return_id, "status": "approved",
                                                       "approved": True}
    assert returns.decide.approve(AGENT, order_id, ret.return_id, "decide-1").replayed
    with pytest.raises(IllegalTransition, match="is approved; decline is not allowed"):
        returns.decide.decline(MANAGER, order_id, ret.return_id, "decide-2", "too late")
    assert returns.expire_request(order_id, ret.return_id) == ReturnStatus.APPROVED  # decided first: nothing
    assert returned_kinds(shop, order_id) == ["return_approved", "return_requested"]


def test_a_declined_or_expired_request_frees_its_units_for_another_request(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"MUG-CLASSIC": 1})
    ask = asking({"MUG-CLASSIC": (1, ReturnReason.CHANGED_MIND)})
    first = returns.request(order_id, "ret-key-1", ask)
    with pytest.raises(InvalidCustomerDetails, match="say why"):
        returns.decide.decline(AGENT, order_id, first.return_id, "decide-1", "  ")
    returns.decide.decline(AGENT, order_id, first.return_id, "decide-1", "opened and used")
    declined = returns.get(order_id, first.return_id)
    assert (declined.status, declined.decline_reason) == (ReturnStatus.DECLINED, "opened and used")
    second = returns.request(order_id, "ret-key-2", ask)
    returns.wait(order_id, second.return_id, "token-approval", "approval")
    assert returns.expire_request(order_id, second.return_id) == ReturnStatus.EXPIRED
    assert returns.get(order_id, second.return_id).resume_token is None
    assert returns.expire_request(order_id, second.return_id) == ReturnStatus.EXPIRED  # a repeat: nothing new
    assert returns.choices(order_id).lines[0].quantity == 1
    assert returned_kinds(shop, order_id).count("return_expired") == 1
    assert "return_declined" in returned_kinds(shop, order_id)


def test_damaged_goods_are_quarantined_not_restocked_and_a_wrong_item_is_rejected(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 2})
    on_hand = shop.stock("PRAYER-MAT", "riyadh-dc").on_hand
    ret = returns.request(order_id, "ret-key-1", asking({"PRAYER-MAT": (1, ReturnReason.DAMAGED)}))
    with pytest.raises(IllegalTransition, match="is approved; inspect is not allowed"):
        returns.inspect(WAREHOUSE, order_id, ret.return_id, "inspect-0", {"PRAYER-MAT": (SELLABLE, None)})
    returns.back(order_id, ret.return_id)
    with pytest.raises(InvalidCustomerDetails, match="PRAYER-MAT: say what was found"):
        returns.inspect(WAREHOUSE, order_id, ret.return_id, "inspect-1", {"PRAYER-MAT": (DAMAGED, None)})
    with pytest.raises(InvalidCustomerDetails, match="not inspected: PRAYER-MAT; not in it: MUG-CLASSIC"):
        returns.inspect(WAREHOUSE, order_id, ret.return_id, "inspect-1", {"MUG-CLASSIC": (SELLABLE, None)})
    with pytest.raises(Forbidden):
        returns.inspect(AGENT, order_id, ret.return_id, "inspect-1", {"PRAYER-MAT": (DAMAGED, "torn")})
    returns.inspect(WAREHOUSE, order_id, ret.return_id, "inspect-1", {"PRAYER-MAT": (DAMAGED, "torn at a corner")})
    assert shop.stock("PRAYER-MAT", "riyadh-dc").on_hand == on_hand  # quarantined: not back on the shelf
    [line] = returns.get(order_id, ret.return_id).lines
    assert (line.outcome, line.note) == (DAMAGED, "torn at a corner")
    assert returns.refund(order_id, ret.return_id).amount.amount == 13800  # it arrived damaged: refunded in full

    other = returns.request(order_id, "ret-key-2", asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)}))
    returns.back(order_id, other.return_id)
    returns.inspect(WAREHOUSE, order_id, other.return_id, "inspect-2", {"PRAYER-MAT": (WRONG, "a bath towel")})
    rejected = returns.refund(order_id, other.return_id)
    assert (rejected.status, rejected.amount.amount) == (ReturnStatus.REJECTED, 0)
    assert shop.stock("PRAYER-MAT", "riyadh-dc").on_hand == on_hand
    assert set(shop.payments.effective("refund")) == {f"{ret.return_id}:refund"}  # nothing for the rejected one
    assert "return_rejected" in returned_kinds(shop, order_id)
    assert returns.choices(order_id).lines[0].quantity == 1  # the mat itself never came back: still returnable


def test_a_store_drop_off_needs_no_label_and_costs_the_customer_nothing(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    ask = asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)}, method=ReturnMethod.STORE, location="jeddah-store")
    ret = returns.request(order_id, "ret-key-1", ask)
    assert ret.estimate.return_shipping.amount == 0 and ret.estimate.total.amount == 13800
    assert returns.issue_label(order_id, ret.return_id).status == ReturnStatus.AWAITING_DROP_OFF
    assert returns.carrier.returns == []
    assert returns.receive(order_id, ret.return_id).status == ReturnStatus.RECEIVED
    returns.inspect(WAREHOUSE, order_id, ret.return_id, "inspect-1", {"PRAYER-MAT": (SELLABLE, None)})
    assert shop.stock("PRAYER-MAT", "jeddah-store").on_hand == 1  # on hand where it was brought, created there
    assert "return_awaiting_drop_off" in returned_kinds(shop, order_id)


def test_an_unused_label_expires_when_its_validity_ends_and_the_items_may_be_asked_for_again(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    ret = returns.request(order_id, "ret-key-1", asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)}))
    returns.issue_label(order_id, ret.return_id)
    assert returns.expire_label(order_id, ret.return_id) == ReturnStatus.LABEL_ISSUED  # too early: nothing
    shop.clock.advance(days=14)
    assert returns.expire_label(order_id, ret.return_id) == ReturnStatus.LABEL_EXPIRED
    assert returned_kinds(shop, order_id).count("return_label_expired") == 1
    assert returns.choices(order_id).lines[0].quantity == 1  # still the last day of the window
    with pytest.raises(IllegalTransition, match="label_expired; receive is not allowed"):
        returns.receive(order_id, ret.return_id)


def test_a_label_on_its_way_is_not_expired(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    ret = returns.request(order_id, "ret-key-1", asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)}))
    returns.issue_label(order_id, ret.return_id)
    returns.on_its_way(order_id, ret.return_id)
    shop.clock.advance(days=30)
    assert returns.expire_label(order_id, ret.return_id) == ReturnStatus.IN_TRANSIT


def test_steps_out_of_order_are_refused_and_an_unknown_return_is_named(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    ret = returns.request(order_id, "ret-key-1", asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)}))
    with pytest.raises(IllegalTransition, match="is approved; refund is not allowed"):
        returns.refund(order_id, ret.return_id)
    with pytest.raises(IllegalTransition, match="is approved; receive is not allowed"):
        returns.receive(order_id, ret.return_id)
    with pytest.raises(IllegalTransition, match="it has no return ret_"):
        returns.issue_label(order_id, "ret_" + "f" * 20)
    assert shop.orders.get(order_id).return_of(ret.return_id).status == ReturnStatus.APPROVED
