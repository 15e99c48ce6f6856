"""The back office's order actions: authorised by role, refused by the transition table with a reason, audited in the
same commit, acting once per request, and cancelling through the workflow's own compensation."""

from __future__ import annotations

import pytest
from fakes import FakeAuditLog

from dawra.adapters.payments import PaymentRegistry
from dawra.adapters.payments.cod import CashOnDelivery
from dawra.adapters.payments.sandbox import SandboxPaymentProvider
from dawra.app.backoffice import OrderActions, PlaceOrderForCustomer, audit_id_for
from dawra.app.ship import AwaitRelease
from dawra.contracts.admin import AgentOrderRequest
from dawra.domain.access import Actor, Role
from dawra.domain.audit import order_subject
from dawra.domain.customer import Address
from dawra.domain.errors import CancelledByOperator, Forbidden, IllegalTransition
from dawra.domain.holds import Hold, HoldKind
from dawra.domain.inventory import ReservationState
from dawra.domain.order import OrderStatus

AGENT = Actor(user_id="u-agent", username="agent@dawra.example", roles=frozenset({Role.AGENT}))
WAREHOUSE = Actor(user_id="u-wh", username="warehouse@dawra.example", roles=frozenset({Role.WAREHOUSE}))
MANAGER = Actor(user_id="u-mgr", username="manager@dawra.example", roles=frozenset({Role.MANAGER}))


@pytest.fixture
def office(shop):
    shop.audit = FakeAuditLog(shop.world)
    shop.actions = OrderActions(shop.orders, shop.inventory, shop.uow, shop.audit, shop.workflow, shop.payments,
                                shop.clock, release_stock=shop.release, cancel_order=shop.cancel)
    shop.await_release = AwaitRelease(shop.orders, shop.uow, shop.workflow)
    return shop


def allocated(shop, lines=None):
    order_id = shop.place(lines or {"MUG-CLASSIC": 1, "DATES-1KG": 2})
    return order_id, shop.reserve(order_id).shipments


def held_and_parked(shop, lines=None):
    """An allocated order put on hold, its workflow parked on each shipment (ShipShipment said on_hold)."""
    order_id, shipments = allocated(shop, lines)
    shop.actions.hold(AGENT, order_id, "hold-0001", "customer asked to wait")
    tokens = []
    for planned in shipments:
        assert shop.ship(order_id, planned.shipment_id).outcome == "on_hold"
        token = f"token-{planned.shipment_id}"
        assert shop.await_release(order_id, planned.shipment_id, token) == {"waiting": True}
        tokens.append(token)
    return order_id, shipments, tokens


def test_a_hold_stops_shipping_until_released_then_the_parked_shipments_ship(office):
    order_id, shipments, tokens = held_and_parked(office)
    assert office.orders.get(order_id).status == OrderStatus.ON_HOLD
    office.actions.release(AGENT, order_id, "release-0001", "customer confirmed")
    assert set(office.workflow.resumed) == set(tokens)
    for planned in shipments:
        assert office.ship(order_id, planned.shipment_id).outcome == "shipped"
    assert office.orders.get(order_id).status == OrderStatus.SHIPPED
    kinds = office.world.timeline_kinds(order_id)
    assert "order_on_hold" in kinds and "order_released" in kinds


def test_released_before_the_workflow_parked_the_task_answers_itself(office):
    order_id, shipments = allocated(office)
    office.actions.hold(AGENT, order_id, "hold-0001", "wait")
    office.actions.release(AGENT, order_id, "release-0001", "go")
    assert office.await_release(order_id, shipments[0].shipment_id, "late-token") == {"waiting": False}
    assert office.workflow.resumed == {"late-token": {"released": True}}


@pytest.mark.parametrize("act", ["cancel", "release"])
def test_a_cancellation_or_release_committed_while_the_workflow_parks_is_never_lost(office, act):
    """The operator's change lands between the parking task's read and its write: one of the two must see the other
    (here the park's commit is refused, it reads again and answers the workflow itself)."""
    order_id, shipments = allocated(office)
    office.actions.hold(AGENT, order_id, "hold-0001", "wait")
    [planned] = [s for s in shipments if office.ship(order_id, s.shipment_id).outcome == "on_hold"][:1]
    commit, fired = office.uow.commit, []

    def operator_first(*args, **kwargs):
        if not fired:
            fired.append(act)
            if act == "cancel":
                office.actions.cancel(AGENT, order_id, "cancel-race", "customer changed their mind")
            else:
                office.actions.release(AGENT, order_id, "release-race", "customer confirmed")
        return commit(*args, **kwargs)

    office.uow.commit = operator_first
    assert office.await_release(order_id, planned.shipment_id, "token-race") == {"waiting": False}
    assert fired == [act]
    if act == "cancel":
        assert office.workflow.failed["token-race"][0] == "CancelledByOperator"
    else:
        assert office.workflow.resumed["token-race"] == {"released": True}


def test_cancelling_a_held_order_fails_its_parked_tasks_and_the_compensation_cancels_it(office):
    order_id, _, tokens = held_and_parked(office)
    outcome = office.actions.cancel(AGENT, order_id, "cancel-0001", "customer changed their mind")
    assert outcome.order.cancellation_requested == "customer changed their mind"
    assert {token: error for token, (error, _) in office.workflow.failed.items()} == {
        token: "CancelledByOperator" for token in tokens}
    assert not office.workflow.stopped  # never StopExecution
    # What the state machine then runs: ReleaseStock, CancelOrder with the failure's error name.
    assert office.release(order_id).released_units == 3
    office.cancel(order_id, "CancelledByOperator")
    order = office.orders.get(order_id)
    assert order.status == OrderStatus.CANCELLED and order.cancellation_reason == "CancelledByOperator"
    assert order.cancellation_requested == "customer changed their mind"  # the operators' words stay theirs
    assert office.stock("MUG-CLASSIC", "riyadh-dc").reserved == 0


def test_a_cancellation_asked_for_before_shipping_stops_the_ship_task(office):
    order_id, shipments = allocated(office)
    office.actions.cancel(AGENT, order_id, "cancel-0001", "duplicate order")
    with pytest.raises(CancelledByOperator):
        office.ship(order_id, shipments[0].shipment_id)
    assert not office.orders.get(order_id).shipped


def test_nothing_is_cancelled_once_a_parcel_has_left(office):
    order_id, shipments = allocated(office)
    office.ship(order_id, shipments[0].shipment_id)
    with pytest.raises(IllegalTransition) as refused:
        office.actions.cancel(AGENT, order_id, "cancel-0001", "too late")
    assert "already left" in refused.value.message or "SHIPPED" in refused.value.message
    assert office.audit.for_subject(order_subject(order_id)) == []  # a refusal writes no audit entry


def test_an_order_a_person_has_is_cancelled_by_the_same_compensation_run_here(office):
    order_id, _ = allocated(office)
    office.ask_a_person(order_id, "DeliveryOverdue")
    office.actions.cancel(MANAGER, order_id, "cancel-0001", "customer no longer wants it")
    order = office.orders.get(order_id)
    assert order.status == OrderStatus.CANCELLED and order.payment.voided
    assert all(r.state == ReservationState.RELEASED for r in office.inventory.reservations(order_id))


def test_cancelling_a_line_releases_its_stock_and_lowers_the_total_once(office):
    order_id, _, _ = held_and_parked(office)
    before = office.orders.get(order_id)
    dates = next(line for line in before.lines if line.sku == "DATES-1KG")
    first = office.actions.cancel_line(AGENT, order_id, "line-0001", "DATES-1KG", "out of season")
    again = office.actions.cancel_line(AGENT, order_id, "line-0001", "DATES-1KG", "out of season")
    assert again.replayed and again.audit == first.audit and not first.replayed
    order = office.orders.get(order_id)
    assert [line.sku for line in order.lines] == ["MUG-CLASSIC"]
    assert order.totals.total.amount == before.totals.total.amount - dates.line_total.amount - dates.tax.amount
    assert sum(s.amount.amount for s in order.shipments) == order.totals.total.amount
    assert office.stock("DATES-1KG", "riyadh-dc").reserved == 0  # released once, not twice
    assert office.stock("DATES-1KG", "riyadh-dc").available == 25
    assert first.audit.before["lines"] == {"MUG-CLASSIC": 1, "DATES-1KG": 2}
    assert first.audit.after["lines"] == {"MUG-CLASSIC": 1} and first.audit.after["released_units"] == 2


def test_a_split_order_losing_a_locations_only_line_ships_nothing_from_there(office):
    order_id, _shipments = allocated(office, {"DALLAH-BRASS": 1, "DATES-1KG": 2})
    office.actions.cancel_line(AGENT, order_id, "line-0001", "DALLAH-BRASS", "damaged in the store")
    order = office.orders.get(order_id)
    emptied = next(s for s in order.shipments if s.location_id == "jeddah-store")
    assert emptied.cancelled and emptied.amount.amount == 0
    assert office.ship(order_id, emptied.shipment_id).outcome == "cancelled"
    assert sum(s.amount.amount for s in order.shipments) == order.totals.total.amount


def test_the_last_line_is_not_cancelled_alone(office):
    order_id, _ = allocated(office, {"MUG-CLASSIC": 1})
    with pytest.raises(IllegalTransition, match="only line"):
        office.actions.cancel_line(AGENT, order_id, "line-0001", "MUG-CLASSIC", "no")


def test_the_address_changes_only_before_a_label_and_never_its_country(office):
    order_id, shipments = allocated(office)
    new = Address(name="Sara", line1="7 Tahlia St", city="Riyadh", country="SA")
    office.actions.change_address(AGENT, order_id, "addr-0001", new, "moved")
    assert office.orders.get(order_id).shipping_address == new
    with pytest.raises(IllegalTransition, match="country"):
        office.actions.change_address(AGENT, order_id, "addr-0002", new.model_copy(update={"country": "AE"}), "x")
    office.ship(order_id, shipments[0].shipment_id)
    with pytest.raises(IllegalTransition):
        office.actions.change_address(AGENT, order_id, "addr-0003", new, "too late")


def test_refunds_are_partial_with_reason_and_never_above_what_was_captured(office):
    order_id, shipments = allocated(office, {"DALLAH-BRASS": 1})
    with pytest.raises(IllegalTransition):  # nothing captured yet: the table refuses a refund in ALLOCATED
        office.actions.refund(MANAGER, order_id, "refund-0001", 100, "goodwill")
    office.ship(order_id, shipments[0].shipment_id)
    captured = office.orders.get(order_id).payment.captured.amount
    office.actions.refund(MANAGER, order_id, "refund-0002", 1000, "late delivery")
    office.actions.refund(MANAGER, order_id, "refund-0002", 1000, "late delivery")  # replay: once
    with pytest.raises(IllegalTransition, match=f"at most {captured - 1000}"):
        office.actions.refund(MANAGER, order_id, "refund-0003", captured, "everything")
    assert office.orders.get(order_id).payment.refunded.amount == 1000
    # Recorded, then paid out; the replay asked the provider again under the same reference: applied once.
    assert list(office.payments.effective("refund").values()) == [1000]


def test_roles_decide_who_may_do_what(office):
    order_id, shipments = allocated(office, {"DALLAH-BRASS": 3})
    office.ship(order_id, shipments[0].shipment_id)
    with pytest.raises(Forbidden):
        office.actions.refund(WAREHOUSE, order_id, "refund-0001", 100, "no")
    with pytest.raises(Forbidden, match="need a manager"):
        office.actions.refund(AGENT, order_id, "refund-0002", 50_001, "too much for an agent")
    office.actions.refund(AGENT, order_id, "refund-0003", 30_000, "within the agent's limit")
    with pytest.raises(Forbidden, match="per order"):  # small refunds do not add up past the limit
        office.actions.refund(AGENT, order_id, "refund-0005", 20_001, "a second one, over the limit in all")
    office.actions.refund(MANAGER, order_id, "refund-0004", 1, "a manager refunds any size")
    with pytest.raises(Forbidden):
        office.actions.hold(WAREHOUSE, order_id, "hold-0001", "no")
    office.actions.add_note(WAREHOUSE, order_id, "note-0001", "box was dented, repacked")
    assert len(office.audit.for_subject(order_subject(order_id))) == 3


def test_a_resend_sends_the_original_message_again_once(office):
    order_id = office.place({"MUG-CLASSIC": 1})
    office.reserve(order_id)
    confirmed = next(e for e in office.orders.timeline(order_id) if e.kind == "stock_reserved")  # its confirmation
    office.notify(confirmed, "sender-1")
    office.actions.resend_message(AGENT, order_id, "resend-0001", confirmed.event_id, "customer lost the email")
    resent = next(e for e in office.orders.timeline(order_id) if e.kind == "message_resent")
    assert office.notify(resent, "sender-1") == "sent by email"
    assert office.notify(resent, "sender-1") == "already sent"
    assert len(office.messenger.sent) == 2 and office.messenger.sent[0]["subject"] == office.messenger.sent[1][
        "subject"]
    with pytest.raises(IllegalTransition, match="no message"):
        office.actions.resend_message(AGENT, order_id, "resend-0002", resent.event_id, "a resend of a resend")


def test_every_action_writes_one_audit_entry_with_who_when_what_why_before_and_after(office):
    order_id, _, _ = held_and_parked(office, {"MUG-CLASSIC": 1, "DATES-1KG": 2, "DALLAH-BRASS": 1})
    a = office.actions
    a.add_note(AGENT, order_id, "k-note", "called the customer")
    a.change_address(AGENT, order_id, "k-addr", Address(name="K", line1="1 St", city="Riyadh", country="SA"), "typo")
    a.cancel_line(AGENT, order_id, "k-line", "DALLAH-BRASS", "customer removed it")
    a.release(AGENT, order_id, "k-release", "confirmed")
    entries = office.audit.for_subject(order_subject(order_id))
    assert [e.action for e in entries] == ["hold", "add_note", "change_address", "cancel_line", "release_hold"]
    for entry in entries:
        assert entry.actor_id == AGENT.user_id and entry.roles == ["agent"] and entry.at and entry.reason
    assert entries[0].before == {"status": "ALLOCATED", "hold_reason": None}
    assert entries[0].after == {"status": "ON_HOLD", "hold_reason": "customer asked to wait"}
    assert entries[1].after == {"note": "called the customer"}
    assert entries[0].audit_id == audit_id_for(AGENT, "hold-0001")


def test_an_agent_places_an_order_for_a_customer_paid_on_delivery_and_held(office):
    registry = PaymentRegistry({"sandbox": SandboxPaymentProvider(), "cash_on_delivery": CashOnDelivery()})
    place = PlaceOrderForCustomer(office.checkout, registry, SandboxPaymentProvider(), office.clock)
    request = AgentOrderRequest.model_validate({
        "customer_id": "cust-k", "contact": {"email": "k@example.com", "phone": "+966555123456"},
        "shipping_address": {"name": "Khalid", "line1": "1 St", "city": "Riyadh", "country": "SA"},
        "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "payment": "cash_on_delivery",
        "hold_reason": "confirm by phone"})
    placed = place(AGENT, "place-0001", request)
    assert placed.payment_link is None and placed.order.placed_by == AGENT.user_id
    assert placed.order.payment.provider == "cash_on_delivery"
    assert place(AGENT, "place-0001", request).order.order_id == placed.order.order_id  # replay: same order
    office.reserve(placed.order.order_id)
    assert office.orders.get(placed.order.order_id).status == OrderStatus.ON_HOLD
    [entry] = office.audit.for_subject(order_subject(placed.order.order_id))
    assert entry.action == "place_order" and entry.after["payment"] == "cash_on_delivery"
    link = place(AGENT, "place-0002", request.model_copy(update={"payment": "payment_link", "hold_reason": None}))
    assert link.payment_link and link.payment_link.startswith("https://pay.sandbox.dawra.example/l/auth_")
    assert link.order.pending_hold == Hold(kind=HoldKind.AWAITING_LINK_PAYMENT,
                                           reason=PlaceOrderForCustomer.AWAITING_LINK_PAYMENT)
    with pytest.raises(Forbidden):
        place(WAREHOUSE, "place-0003", request)


def test_a_hold_landing_between_capture_and_commit_gives_the_capture_back_and_ships_a_new_one_later(office):
    order_id, shipments = allocated(office, {"MUG-CLASSIC": 1})
    shipment_id = shipments[0].shipment_id
    commit = office.uow.commit

    def held_meanwhile(**change):
        office.uow.commit = commit
        office.actions.hold(AGENT, order_id, "hold-race", "caught it")  # lands before the ship task's commit
        return commit(**change)

    office.uow.commit = held_meanwhile
    assert office.ship(order_id, shipment_id).outcome == "on_hold"
    assert office.payments.effective("refund") == {f"{shipment_id}:undo": office.orders.get(order_id).totals.total
                                                   .amount}
    assert office.orders.get(order_id).payment.captured.amount == 0
    office.actions.release(AGENT, order_id, "release-race", "go")
    assert office.ship(order_id, shipment_id).outcome == "shipped"
    assert set(office.payments.effective("capture")) == {shipment_id, f"{shipment_id}:1"}
    assert office.orders.get(order_id).payment.captured.amount == office.orders.get(order_id).totals.total.amount


def test_the_same_key_with_other_values_is_refused_not_replayed(office):
    from dawra.domain.errors import IdempotencyKeyReused

    order_id, _ = allocated(office)
    office.actions.add_note(AGENT, order_id, "note-0001", "first")
    with pytest.raises(IdempotencyKeyReused):
        office.actions.add_note(AGENT, order_id, "note-0001", "something else")
    with pytest.raises(IdempotencyKeyReused):
        office.actions.hold(AGENT, order_id, "note-0001", "another action under the same key")
    assert office.orders.get(order_id).status == OrderStatus.ALLOCATED


def test_a_payment_link_is_confirmed_paid_by_a_manager_not_the_agent_who_sent_it(office):
    registry = PaymentRegistry({"sandbox": SandboxPaymentProvider(), "cash_on_delivery": CashOnDelivery()})
    place = PlaceOrderForCustomer(office.checkout, registry, SandboxPaymentProvider(), office.clock)
    request = AgentOrderRequest.model_validate({
        "customer_id": "cust-n", "contact": {"email": "n@example.com"},
        "shipping_address": {"name": "Noura", "line1": "1 St", "city": "Riyadh", "country": "SA"},
        "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "payment": "payment_link"})
    order_id = place(AGENT, "place-link", request).order.order_id
    office.reserve(order_id)
    with pytest.raises(Forbidden, match="confirm payment"):
        office.actions.release(AGENT, order_id, "release-agent", "customer says they paid")
    office.actions.release(MANAGER, order_id, "release-manager", "payment seen at the provider")
    assert office.orders.get(order_id).status == OrderStatus.ALLOCATED
