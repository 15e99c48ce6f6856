"""Hold kinds with the in-memory fakes: who may decide each, what its timeout does (a person, or a cancellation with
the kind's reason), an agent's approval and rejection of a fraud review through the workflow's own compensation, the
review queue, and the state machine routing each kind's timeout."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from fakes import FakeAuditLog, FakeOrderHistory, request

from dawra.app.backoffice import HeldOrders, OrderActions
from dawra.app.ship import AwaitRelease, HoldExpired, ShipShipment
from dawra.contracts.tasks import NOT_ON_ITS_WAY_WAIT_S
from dawra.domain.access import Actor, Role
from dawra.domain.audit import order_subject
from dawra.domain.errors import Forbidden, IllegalTransition, ReviewTimedOut
from dawra.domain.holds import (
    HOLD_CANCELLATIONS,
    HOLD_POLICIES,
    Hold,
    HoldKind,
    HoldReason,
    OnTimeout,
    hold_timeouts,
)
from dawra.domain.order import OrderStatus
from dawra.domain.shipment import MOVING, NOT_LEFT

AGENT = Actor(user_id="u-agent", username="agent@dawra.example", roles=frozenset({Role.AGENT}))
WAREHOUSE = Actor(user_id="u-wh", username="warehouse@dawra.example", roles=frozenset({Role.WAREHOUSE}))
MANAGER = Actor(user_id="u-mgr", username="manager@dawra.example", roles=frozenset({Role.MANAGER}))
REASON = HoldReason(code="risk.billing_country_mismatch", en="Billing country differs", ar="بلد الفوترة مختلف")
ASL = Path(__file__).resolve().parents[2] / "statemachines" / "order_lifecycle.asl.json"


@pytest.fixture
def office(shop):
    shop.audit = FakeAuditLog(shop.world)
    shop.actions = OrderActions(shop.orders, shop.inventory, shop.uow, shop.audit, shop.workflow, shop.payments,
                                shop.clock, release_stock=shop.release, cancel_order=shop.cancel)
    shop.await_release = AwaitRelease(shop.orders, shop.uow, shop.workflow)
    shop.expired = HoldExpired(shop.orders, shop.uow, shop.clock)
    return shop


def held(shop, kind: HoldKind, lines=None) -> tuple[str, list[str]]:
    """An order placed with a hold of `kind`, reserved (so held), its workflow parked on each shipment."""
    hold = Hold(kind=kind, reason=f"held: {kind.value}", reasons=[REASON] if kind == HoldKind.FRAUD_REVIEW else [])
    order = shop.checkout.place("key-held-0001", request(lines or {"MUG-CLASSIC": 1}), _card(shop), hold=hold)
    planned = shop.reserve(order.order_id).shipments
    tokens = []
    for shipment in planned:
        assert shop.ship(order.order_id, shipment.shipment_id).outcome == "on_hold"
        token = f"token-{shipment.shipment_id}"
        assert shop.await_release(order.order_id, shipment.shipment_id, token) == {"waiting": True}
        tokens.append(token)
    return order.order_id, tokens


def _card(shop):
    return lambda total, reference: (shop.payments.name, shop.payments.authorize("tok_sandbox_approve", total,
                                                                               reference))


def test_every_kind_says_who_decides_how_long_and_what_its_timeout_does():
    assert set(HOLD_POLICIES) == set(HoldKind)
    assert HOLD_POLICIES[HoldKind.OPERATOR].on_timeout == OnTimeout.ASK_A_PERSON  # as every hold did before kinds
    assert {k for k, p in HOLD_POLICIES.items() if p.on_timeout == OnTimeout.CANCEL} == {
        HoldKind.FRAUD_REVIEW, HoldKind.COD_CONFIRMATION, HoldKind.CREDIT_APPROVAL}
    timeouts = hold_timeouts("fraud_review=0.5, cod_confirmation=2")
    assert timeouts[HoldKind.FRAUD_REVIEW] == timedelta(minutes=30)
    assert timeouts[HoldKind.COD_CONFIRMATION] == timedelta(hours=2)
    assert timeouts[HoldKind.OPERATOR] == timedelta(days=7)
    for wrong in ("fraud=1", "fraud_review", "fraud_review=0", "fraud_review=abc"):
        with pytest.raises(ValueError, match=r".+"):
            hold_timeouts(wrong)


def test_the_parked_shipments_wait_as_long_as_their_kind_allows(office):
    order_id, _ = held(office, HoldKind.FRAUD_REVIEW)
    ship = ShipShipment(office.orders, office.inventory, office.uow, office.carriers, office.payments, office.clock,
                        timedelta(hours=48), hold_timeouts("fraud_review=2"))
    shipment_id = office.orders.get(order_id).shipments[0].shipment_id
    assert ship(order_id, shipment_id).hold_timeout_s == 2 * 3600
    office.clock.advance(hours=1)
    assert ship(order_id, shipment_id).hold_timeout_s == 3600


def test_a_held_shipment_is_answered_where_the_delivery_wait_refuses_it_and_not_before_its_refusal(office):
    """Decision 119: ShipShipment's answer goes to WaitForDelivery whatever it is; that wait's write is refused
    unless the parcel is on its way. A held shipment has not left, and its delivery wait is long enough that the
    refusal, not its timeout, decides where the workflow goes next (WaitWhileOnHold, not DeliveryLate)."""
    order_id, _ = held(office, HoldKind.FRAUD_REVIEW)
    shipment_id = office.orders.get(order_id).shipments[0].shipment_id
    answer = office.ship(order_id, shipment_id)
    assert answer.outcome == "on_hold" and answer.delivery_timeout_s == NOT_ON_ITS_WAY_WAIT_S
    status = office.orders.get(order_id).shipment(shipment_id).status
    assert status in NOT_LEFT and status not in MOVING


def test_an_agent_approves_a_fraud_review_and_the_parked_shipments_ship(office):
    order_id, tokens = held(office, HoldKind.FRAUD_REVIEW)
    with pytest.raises(Forbidden):
        office.actions.release(WAREHOUSE, order_id, "approve-wh-01", "looks fine")
    outcome = office.actions.release(AGENT, order_id, "approve-0001", "called the customer: genuine")
    assert outcome.audit.action == "release_hold" and outcome.audit.after["hold_kind"] == "fraud_review"
    assert set(office.workflow.resumed) == set(tokens)
    for shipment in office.orders.get(order_id).shipments:
        assert office.ship(order_id, shipment.shipment_id).outcome == "shipped"
    assert office.orders.get(order_id).status == OrderStatus.SHIPPED


def test_an_agent_rejects_a_fraud_review_and_the_workflow_cancels_it_with_that_reason(office):
    order_id, tokens = held(office, HoldKind.FRAUD_REVIEW)
    outcome = office.actions.reject(AGENT, order_id, "reject-0001", "the card holder does not know this order")
    assert outcome.audit.action == "reject_hold" and outcome.audit.reason.startswith("the card holder")
    # the parked shipments fail with the kind's reason: the Map's Catch compensates (ReleaseStock, CancelOrder)
    assert {office.workflow.failed[t][0] for t in tokens} == {"RejectedInReview"}
    with pytest.raises(IllegalTransition, match="being cancelled"):
        office.actions.release(AGENT, order_id, "approve-late-1", "too late")
    assert office.release(order_id).parcels_shipped == 0
    office.cancel(order_id, "RejectedInReview")
    order = office.orders.get(order_id)
    assert order.status == OrderStatus.CANCELLED and order.cancellation_reason == "RejectedInReview"
    assert order.payment.voided and office.stock("MUG-CLASSIC", "riyadh-dc").reserved == 0
    [cancelled] = [e for e in office.orders.timeline(order_id) if e.kind == "order_cancelled"]
    assert cancelled.detail["reason"] == "RejectedInReview"  # what the customer's message words
    assert [e.action for e in office.audit.for_subject(order_subject(order_id))] == ["reject_hold"]


def test_a_fraud_review_nobody_decided_is_cancelled_with_review_timed_out_and_a_late_approval_is_refused(office):
    order_id, _ = held(office, HoldKind.FRAUD_REVIEW)
    assert office.expired(order_id).outcome == "ReviewTimedOut"
    assert office.expired(order_id).outcome == "ReviewTimedOut"  # a retry finds it recorded
    order = office.orders.get(order_id)
    assert order.cancellation_as == "ReviewTimedOut" and order.status == OrderStatus.ON_HOLD
    with pytest.raises(IllegalTransition):
        office.actions.release(AGENT, order_id, "approve-late-2", "sorry, I was at lunch")
    with pytest.raises(ReviewTimedOut):  # any task about to ship stops with the reason
        office.ship(order_id, order.shipments[0].shipment_id)
    office.release(order_id)
    office.cancel(order_id, "ReviewTimedOut")
    assert office.orders.get(order_id).cancellation_reason == "ReviewTimedOut"


def test_an_operators_hold_past_its_time_goes_to_a_person_and_changes_nothing_here(office):
    order_id, _ = held(office, HoldKind.OPERATOR)
    version = office.orders.get(order_id).version
    assert office.expired(order_id).outcome == "OnHoldTooLong"
    assert office.orders.get(order_id).version == version


def test_a_release_that_crossed_the_timeout_ships_after_all(office):
    order_id, _ = held(office, HoldKind.FRAUD_REVIEW)
    office.actions.release(AGENT, order_id, "approve-0002", "fine")
    assert office.expired(order_id).outcome == "released"


@pytest.mark.parametrize(("kind", "may", "may_not"), [
    (HoldKind.CREDIT_APPROVAL, MANAGER, AGENT),
    (HoldKind.AWAITING_LINK_PAYMENT, MANAGER, AGENT),
    (HoldKind.COD_CONFIRMATION, AGENT, WAREHOUSE),
])
def test_who_decides_depends_on_the_kind(office, kind, may, may_not):
    order_id, _ = held(office, kind)
    for act in (office.actions.release, office.actions.reject):
        with pytest.raises(Forbidden):
            act(may_not, order_id, f"{act.__name__}-refused", "no")
    office.actions.reject(may, order_id, "reject-0003", "no")
    assert office.orders.get(order_id).cancellation_as == HOLD_POLICIES[kind].rejected_as


def test_the_review_queue_lists_orders_held_for_review_oldest_first_for_who_may_review(office):
    history = FakeOrderHistory(office.world)
    order_id, _ = held(office, HoldKind.FRAUD_REVIEW)
    queue = HeldOrders(history)
    assert [o.order_id for o in queue(AGENT, HoldKind.FRAUD_REVIEW)] == [order_id]
    assert queue(AGENT, HoldKind.COD_CONFIRMATION) == []
    with pytest.raises(Forbidden):
        queue(WAREHOUSE, HoldKind.FRAUD_REVIEW)
    with pytest.raises(Forbidden):
        queue(AGENT, HoldKind.CREDIT_APPROVAL)  # a manager's queue


def test_the_state_machine_routes_each_kinds_timeout_to_a_fail_of_its_reason_and_compensates_it_quietly():
    asl = json.loads(ASL.read_text(encoding="utf-8"))
    ship = asl["States"]["ShipEachShipment"]
    states = ship["ItemProcessor"]["States"]
    assert states["WaitWhileOnHold"]["Catch"] == [
        {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.failure", "Next": "HoldExpired"}]
    assert states["HoldExpired"]["Next"] == "WhatDoesItsKindSay"
    choice = states["WhatDoesItsKindSay"]
    routes = {c["StringEquals"]: c["Next"] for c in choice["Choices"]}
    assert choice["Default"] == "ShipShipment"  # released (or cancelled by somebody: ShipShipment stops with who)
    for policy in HOLD_POLICIES.values():
        assert states[routes[policy.expired_as]] == {**states[routes[policy.expired_as]], "Type": "Fail",
                                                     "Error": policy.expired_as}
    to_a_person = next(c for c in ship["Catch"] if c["Next"] == "AskAPerson")["ErrorEquals"]
    assert "OnHoldTooLong" in to_a_person and not HOLD_CANCELLATIONS & set(to_a_person)
    quiet = {c["StringEquals"] for c in asl["States"]["WasItOutOfStock"]["Choices"] if c["Next"] == "Cancelled"}
    assert quiet >= HOLD_CANCELLATIONS  # a hold rejected or timed out is business, not an incident
