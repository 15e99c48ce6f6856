"""Late, lost and returned parcels: an apology and a new estimate once a parcel is late, a lost one settled by the
merchant's policy (reship, refund, or a person), a returned one restocked on arrival and settled the same way, and
nothing refunded or released for a parcel reported delivered."""

import json
from datetime import date, timedelta

import pytest
from fakes import SECRET

from dawra.adapters.carriers.sandbox import sign
from dawra.app.claims import DeliveryLate, SettleClaim, lost_deadline, replacement_id_for
from dawra.domain.inventory import ReservationState
from dawra.domain.pricing import delivery_deadline
from dawra.domain.shipment import Settlement
from dawra.domain.time import iso

GRACE, LOST_AFTER = timedelta(hours=48), timedelta(hours=240)


def claims(shop, policy: str):
    return (DeliveryLate(shop.orders, shop.uow, shop.clock, GRACE, LOST_AFTER),
            SettleClaim(shop.orders, shop.inventory, shop.uow, shop.payments, shop.clock, Settlement(policy)))


def shipped(shop, lines=None):
    order_id = shop.place(lines or {"MUG-CLASSIC": 1})
    for planned in shop.reserve(order_id).shipments:
        shop.ship(order_id, planned.shipment_id)
    return order_id, {s.shipment_id: s.tracking_number for s in shop.orders.get(order_id).shipments}


def report(shop, number, status, event_id=None, occurred_at=None):
    """A signed sandbox webhook, received now (the shop's clock)."""
    now = shop.clock.now()
    body = json.dumps({"event_id": event_id or f"{status}-{number}", "tracking_number": number, "status": status,
                       "occurred_at": occurred_at or iso(now)}).encode()
    seconds = int(now.timestamp())
    return shop.tracking.handle_webhook("sandbox", body, sign(body, SECRET.encode(), seconds), seconds * 1000)


def past_the_promise(shop, order_id, beyond: timedelta):
    order = shop.orders.get(order_id)
    end_of_promise = delivery_deadline(date.fromisoformat(order.promise_of(order.shipments[0])), timedelta(0))
    shop.clock.moment = end_of_promise + beyond


def said(shop, order_id, kind):
    """What the notifier sends for the order's timeline events of `kind`: (subject, text). It sends each message
    once, so ask once per kind."""
    found = []
    for event in [e for e in shop.orders.timeline(order_id) if e.kind == kind]:
        before = len(shop.messenger.sent)
        shop.notify(event, sender="the-stream")
        found += [(m["subject"], m["text"]) for m in shop.messenger.sent[before:]]
    return found


def message(shop, order_id, kind):
    [only] = said(shop, order_id, kind)
    return only


def test_a_late_parcel_gets_one_apology_with_a_new_estimate_and_waits_until_the_lost_deadline(shop):
    order_id, tracking = shipped(shop)
    [shipment_id] = tracking
    late, _ = claims(shop, "refund")
    past_the_promise(shop, order_id, GRACE + timedelta(minutes=1))

    answer = late(order_id, shipment_id)
    order = shop.orders.get(order_id)
    estimate = (shop.clock.now() + timedelta(days=3)).date().isoformat()
    assert answer.new_estimate == estimate
    deadline = lost_deadline(order, order.shipment(shipment_id), GRACE, LOST_AFTER)
    assert answer.late_timeout_s == int((deadline - shop.clock.now()).total_seconds())
    assert late(order_id, shipment_id).new_estimate == ""  # retried: said once
    assert shop.world.timeline_kinds(order_id).count("shipment_delayed") == 1
    ref = "#" + order_id.removeprefix("ord_")[:8].upper()
    subject, text = message(shop, order_id, "shipment_delayed")
    assert subject == f"Your order {ref} is running late: we are sorry"
    assert "We are sorry" in text and f"We now expect it by {estimate}" in text
    assert f"has not arrived by {order.promise_of(order.shipment(shipment_id))}" in text


def test_a_delayed_parcel_that_arrives_completes_the_order_with_nothing_refunded(shop):
    order_id, tracking = shipped(shop)
    [(shipment_id, number)] = tracking.items()
    late, _ = claims(shop, "refund")
    past_the_promise(shop, order_id, GRACE + timedelta(hours=1))
    late(order_id, shipment_id)
    shop.await_delivery(order_id, shipment_id, "second-wait")
    assert report(shop, number, "DELIVERED") == ["moved to delivered"]
    assert "second-wait" in shop.workflow.resumed
    order = shop.orders.get(order_id)
    assert order.status == "COMPLETED" and order.payment.refunded.amount == 0
    assert order.payment.captured == order.totals.total and not shop.payments.effective("refund")


def test_lost_and_refunded_by_policy_refunds_that_shipments_share_once(shop):
    order_id, tracking = shipped(shop, {"DALLAH-BRASS": 1, "DATES-1KG": 2})  # two parcels
    lost_id, other_id = sorted(tracking)
    _, settle = claims(shop, "refund")
    before = {key: level.on_hand for key, level in shop.world.stock.items()}
    share = shop.orders.get(order_id).shipment(lost_id).amount

    assert settle(order_id, lost_id).outcome == "refunded"
    assert settle(order_id, lost_id).outcome == "refunded"  # Step Functions retried the task
    assert shop.payments.effective("refund") == {f"{lost_id}:claim": share.amount}
    order = shop.orders.get(order_id)
    assert order.payment.refunded == share and order.status == "SHIPPED"
    lost = order.shipment(lost_id)
    assert (lost.status, lost.settlement) == ("lost", Settlement.REFUND)
    assert {key: level.on_hand for key, level in shop.world.stock.items()} == before  # nothing released
    assert {r.state for r in shop.inventory.reservations(order_id)} == {ReservationState.SHIPPED}
    subject, text = message(shop, order_id, "shipment_lost")
    assert subject.endswith("was lost: what happens now")
    assert f"We have refunded {share.amount // 100:,}.{share.amount % 100:02d} SAR" in text

    assert shop.orders.get(order_id).status == "SHIPPED"  # the other parcel is still on its way
    report(shop, tracking[other_id], "DELIVERED")  # the other parcel arrives: nothing is left to wait for
    assert shop.orders.get(order_id).status == "COMPLETED"


def test_lost_and_reshipped_reserves_again_ships_a_new_parcel_and_captures_nothing_new(shop):
    order_id, tracking = shipped(shop, {"MUG-CLASSIC": 2})
    [(lost_id, number)] = tracking.items()
    _, settle = claims(shop, "reship")
    captured = dict(shop.payments.effective("capture"))

    settled = settle(order_id, lost_id)
    assert settled.outcome == "reship" and settled.shipment_id == replacement_id_for(lost_id)
    assert settle(order_id, lost_id) == settled  # a retry finds the same replacement and reserves nothing more
    riyadh = shop.stock("MUG-CLASSIC", "riyadh-dc")
    assert (riyadh.on_hand, riyadh.reserved, riyadh.available) == (38, 2, 36)
    replacement = shop.orders.get(order_id).shipment(settled.shipment_id)
    assert replacement.replaces == lost_id and replacement.amount.amount == 0 and replacement.promised_by

    shipped_again = shop.ship(order_id, settled.shipment_id)
    assert shipped_again.tracking_number != number and shipped_again.delivery_timeout_s > 0
    assert shop.payments.effective("capture") == captured  # the customer paid once
    riyadh = shop.stock("MUG-CLASSIC", "riyadh-dc")
    assert (riyadh.on_hand, riyadh.reserved, riyadh.available) == (36, 0, 36)
    order = shop.orders.get(order_id)
    assert order.payment.captured == order.totals.total and order.payment.refunded.amount == 0
    _, lost_text = message(shop, order_id, "shipment_lost")
    assert "at no cost to you" in lost_text and f"by {replacement.promised_by}" in lost_text
    assert any(shipped_again.tracking_number in text for _, text in said(shop, order_id, "shipment_shipped"))

    assert shop.orders.get(order_id).status == "SHIPPED"  # the replacement is on its way
    report(shop, shipped_again.tracking_number, "DELIVERED")
    assert shop.orders.get(order_id).status == "COMPLETED"


def test_a_reship_the_stock_cannot_cover_goes_to_a_person_with_the_reason_in_words(shop):
    order_id, tracking = shipped(shop, {"PRAYER-MAT": 2})  # the last two
    [(lost_id, number)] = tracking.items()
    _, settle = claims(shop, "reship")
    assert settle(order_id, lost_id).outcome == "agent"
    order = shop.orders.get(order_id)
    assert order.status == "NEEDS_ATTENTION"
    assert order.attention_reason == (
        f"Parcel {number} (shipment {lost_id}) is lost in transit: not delivered, promised by "
        f"{order.promise_of(order.shipment(lost_id))}; the stock cannot send its lines again from one location.")
    assert order.payment.refunded.amount == 0 and not shop.payments.effective("refund")
    assert "Someone from our team will contact you shortly" in message(shop, order_id, "shipment_lost")[1]


def test_the_agent_policy_hands_a_lost_parcel_to_a_person_and_moves_no_money_or_stock(shop):
    order_id, tracking = shipped(shop)
    [lost_id] = tracking
    _, settle = claims(shop, "agent")
    before = dict(shop.world.stock)
    assert settle(order_id, lost_id).outcome == "agent"
    assert settle(order_id, lost_id).outcome == "agent"
    order = shop.orders.get(order_id)
    assert order.status == "NEEDS_ATTENTION" and "a person decides" in (order.attention_reason or "")
    assert shop.world.stock == before and not shop.payments.effective("refund")
    assert shop.world.timeline_kinds(order_id).count("order_needs_attention") == 1


def test_a_replacement_lost_in_its_turn_goes_to_a_person(shop):
    order_id, tracking = shipped(shop)
    [lost_id] = tracking
    _, settle = claims(shop, "reship")
    replacement_id = settle(order_id, lost_id).shipment_id
    shop.ship(order_id, replacement_id)
    assert settle(order_id, replacement_id).outcome == "agent"
    assert "itself sent to replace" in (shop.orders.get(order_id).attention_reason or "")


def test_a_parcel_delivered_after_it_was_declared_lost_and_refunded_is_recorded_and_refunded_once(shop):
    order_id, tracking = shipped(shop)
    [(lost_id, number)] = tracking.items()
    _, settle = claims(shop, "refund")
    settle(order_id, lost_id)
    assert shop.orders.get(order_id).status == "COMPLETED"  # refunded: nothing is left to wait for

    assert report(shop, number, "DELIVERED") == ["moved to delivered"]
    order = shop.orders.get(order_id)
    assert order.status == "COMPLETED" and order.shipment(lost_id).is_delivered
    [delivered] = [e for e in shop.orders.timeline(order_id) if e.kind == "shipment_delivered"]
    assert delivered.detail["declared_lost"] == "true"
    assert settle(order_id, lost_id).outcome == "refunded"  # a late retry of the settlement
    assert len(shop.payments.effective("refund")) == 1 and order.payment.refunded == order.totals.total


def test_a_parcel_delivered_before_it_is_settled_is_not_refunded(shop):
    order_id, tracking = shipped(shop)
    [(shipment_id, number)] = tracking.items()
    _, settle = claims(shop, "refund")
    report(shop, number, "DELIVERED")
    assert settle(order_id, shipment_id).outcome == "delivered"
    assert not shop.payments.effective("refund") and shop.orders.get(order_id).shipment(shipment_id).is_delivered


def test_returned_to_sender_restocks_on_arrival_ends_the_wait_and_is_refunded_by_policy(shop):
    order_id, tracking = shipped(shop, {"MUG-CLASSIC": 2})
    [(shipment_id, number)] = tracking.items()
    _, settle = claims(shop, "refund")
    shop.await_delivery(order_id, shipment_id, "token")
    shipped_level = shop.stock("MUG-CLASSIC", "riyadh-dc")

    shop.clock.advance(days=2)
    assert report(shop, number, "RETURNED_TO_SENDER") == ["moved to returning"]
    assert not shop.workflow.failed  # still on its way back: the workflow waits
    shop.clock.advance(days=2)
    assert report(shop, number, "RETURN_DELIVERED") == ["moved to returned"]
    assert report(shop, number, "RETURN_DELIVERED") == ["duplicate"]
    back = shop.stock("MUG-CLASSIC", "riyadh-dc")
    assert (back.on_hand, back.available) == (shipped_level.on_hand + 2, shipped_level.available + 2)
    assert shop.workflow.failed["token"][0] == "ReturnedToSender"

    shop.clock.advance(minutes=1)
    assert settle(order_id, shipment_id).outcome == "refunded"
    order = shop.orders.get(order_id)
    assert order.payment.refunded == order.totals.total
    assert shop.payments.effective("refund") == {f"{shipment_id}:claim": order.totals.total.amount}
    assert report(shop, number, "DELIVERED", event_id="late") == ["recorded"]  # it is on our shelf
    kinds = shop.world.timeline_kinds(order_id)
    assert [k for k in kinds if k in ("shipment_returning", "shipment_returned", "return_settled")] == [
        "shipment_returning", "shipment_returned", "return_settled"]
    subject, text = message(shop, order_id, "shipment_returning")
    assert subject.endswith("is coming back to us") and "contact the carrier with the tracking number" in text
    subject, text = message(shop, order_id, "return_settled")
    total = order.totals.total.amount
    assert subject.endswith("came back: what happens now") and f"We have refunded {total // 100}.{total % 100:02d} SAR" in text
    assert said(shop, order_id, "shipment_returned") == []  # for operators: no message
    assert shop.orders.get(order_id).status == "COMPLETED"


def test_a_return_reported_before_the_wait_began_is_answered_by_the_wait(shop):
    order_id, tracking = shipped(shop)
    [(shipment_id, number)] = tracking.items()
    report(shop, number, "RETURN_DELIVERED")  # out of order: no RETURNED_TO_SENDER first
    assert shop.orders.get(order_id).shipment(shipment_id).status == "returned"
    assert report(shop, number, "RETURNED_TO_SENDER") == ["recorded"]  # late: never backwards
    assert shop.await_delivery(order_id, shipment_id, "late-token") == {"waiting": False}
    assert shop.workflow.failed["late-token"][0] == "ReturnedToSender"


def test_a_late_parcel_on_its_way_back_gets_no_delay_apology(shop):
    order_id, tracking = shipped(shop)
    [(shipment_id, number)] = tracking.items()
    report(shop, number, "RETURNED_TO_SENDER")
    late, _ = claims(shop, "refund")
    past_the_promise(shop, order_id, GRACE + timedelta(hours=1))
    assert late(order_id, shipment_id).new_estimate == ""
    assert "shipment_delayed" not in shop.world.timeline_kinds(order_id)


@pytest.mark.parametrize("policy", ["reship", "refund", "agent"])
def test_a_parcel_that_never_comes_back_from_a_return_is_settled_as_lost(shop, policy):
    order_id, tracking = shipped(shop)
    [(shipment_id, number)] = tracking.items()
    report(shop, number, "RETURNED_TO_SENDER")
    _, settle = claims(shop, policy)
    settle(order_id, shipment_id)
    shipment = shop.orders.get(order_id).shipment(shipment_id)
    assert (shipment.status, shipment.settlement) == ("lost", Settlement(policy))
    assert shop.world.timeline_kinds(order_id).count("shipment_lost") == 1


def test_a_returned_parcel_is_sent_again_from_the_units_it_brought_back(shop):
    order_id, tracking = shipped(shop, {"PRAYER-MAT": 2})  # the last two: only the returned units can go again
    [(shipment_id, number)] = tracking.items()
    _, settle = claims(shop, "reship")
    report(shop, number, "RETURN_DELIVERED")
    assert shop.stock("PRAYER-MAT", "riyadh-dc").available == 2
    settled = settle(order_id, shipment_id)
    assert settled.outcome == "reship"
    level = shop.stock("PRAYER-MAT", "riyadh-dc")
    assert (level.on_hand, level.reserved, level.available) == (2, 2, 0)
    [event] = [e for e in shop.orders.timeline(order_id) if e.kind == "return_settled"]
    assert event.detail["settlement"] == "reship" and event.detail["replacement"] == settled.shipment_id
    assert not shop.payments.effective("refund")


@pytest.mark.parametrize("policy", ["refund", "reship"])
def test_a_cash_on_delivery_parcel_lost_goes_to_a_person_whatever_the_policy(shop, policy):
    order_id, tracking = shipped(shop)
    [lost_id] = tracking
    header = shop.world.headers[order_id]  # paid at the door: its capture only said what the courier would collect
    shop.world.headers[order_id] = header.model_copy(update={"payment": header.payment.model_copy(
        update={"provider": "cash_on_delivery"})})
    before = {key: level.on_hand for key, level in shop.world.stock.items()}
    _, settle = claims(shop, policy)

    assert settle(order_id, lost_id).outcome == "agent"
    order = shop.orders.get(order_id)
    assert order.status == "NEEDS_ATTENTION" and "cash at the door" in (order.attention_reason or "")
    assert order.payment.refunded.amount == 0 and len(order.shipments) == 1  # nothing refunded, nothing resent
    assert shop.payments.effective("refund") == {}
    assert {key: level.on_hand for key, level in shop.world.stock.items()} == before
