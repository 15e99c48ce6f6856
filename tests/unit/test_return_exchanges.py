"""Exchanges (issue 12 point 5), with the in-memory fakes: a return that asks for another size or variant holds the
replacement when it is approved (in the same commit), sends it as a shipment of the same order that belongs to the
return when the items come back (or at once, when the policy trusts the customer), lets it go if the return never
comes, and is done once the items are inspected. No money moves; the order's status and its original shipment stay
as they were; a replacement out of stock is refused before anything is written."""

from __future__ import annotations

from typing import Any

import pytest
from returning import AGENT, WAREHOUSE, Returns, asking, delivered, report

from dawra.app.return_workflow import OpenReturnWorkflow, ParkOnReplacement, ReturnTimings
from dawra.app.returns import OutOfStock, RequestReturn, replacement_id_for_return
from dawra.domain.errors import IllegalTransition, InvalidCustomerDetails
from dawra.domain.inventory import ReservationState
from dawra.domain.money import Money
from dawra.domain.notifications import deserves_message
from dawra.domain.pricing import CatalogItem
from dawra.domain.returns import (
    InspectionOutcome,
    RefundMethod,
    ReturnPolicies,
    ReturnReason,
    ReturnStatus,
    default_policies,
)
from dawra.domain.shipment import ShipmentStatus
from dawra.domain.timeline import TimelineKind as K
from dawra.rendering import Letterhead, render

LARGE = CatalogItem(sku="PRAYER-MAT-L", title="Prayer mat, large", titles={"ar": "سجادة صلاة كبيرة"},
                    unit_price=Money(amount=12000, currency="SAR"), weight_g=1100, category="textiles")
DEARER = CatalogItem(sku="PRAYER-MAT-XL", title="Prayer mat, extra large",
                     unit_price=Money(amount=15000, currency="SAR"), weight_g=1400, category="textiles")
LETTERHEAD = Letterhead(shop_name="Dawra Test Shop", support="help@shop.example",
                        page_url="https://shop.example/my-order/TOKEN")


@pytest.fixture
def world(shop: Any) -> Any:
    """The shop's catalog knows the prayer mat's large size (same price) and extra large (dearer)."""
    mat = shop.world.catalog["PRAYER-MAT"]
    shop.world.catalog["PRAYER-MAT"] = mat.model_copy(update={"exchangeable_for": ("PRAYER-MAT-L", "PRAYER-MAT-XL")})
    shop.world.catalog[LARGE.sku], shop.world.catalog[DEARER.sku] = LARGE, DEARER
    shop.world.set_stock("PRAYER-MAT-L", "riyadh-dc", 3)
    shop.world.set_stock("PRAYER-MAT-XL", "riyadh-dc", 3)
    return shop


def exchange(sku: str = "PRAYER-MAT", wanted: str = "PRAYER-MAT-L", quantity: int = 1) -> Any:
    asked = asking({sku: (quantity, ReturnReason.WRONG_SIZE)}, refund=RefundMethod.EXCHANGE)
    return type(asked)(**{**asked.__dict__, "exchanges": {sku: wanted}})


def counters(shop: Any, sku: str, location: str = "riyadh-dc") -> tuple[int, int, int]:
    level = shop.stock(sku, location)
    return level.on_hand, level.reserved, level.available


def trusting(book: ReturnPolicies, **changes: Any) -> ReturnPolicies:
    """The default book with standard@2 (the prayer mat's policy) changed."""
    return book.model_copy(update={"policies": tuple(p.model_copy(update=changes) if p.ref == "standard@2" else p
                                                     for p in book.policies)})


def test_an_exchange_holds_its_replacement_with_the_request_and_moves_no_money(world):
    uses = Returns(world)
    order_id = delivered(world, {"PRAYER-MAT": 1})
    captured, status = world.orders.get(order_id).payment.captured, world.orders.get(order_id).status
    assert [m.sku for m in uses.choices(order_id).exchanges["PRAYER-MAT"]] == ["PRAYER-MAT-L"]  # not the dearer
    assert RefundMethod.EXCHANGE in uses.choices(order_id).refund_methods
    assert uses.estimate(order_id, exchange()).total.amount == 0

    ret = uses.request(order_id, "key-exchange-01", exchange())

    assert ret.status == ReturnStatus.APPROVED and ret.estimate.total.amount == 0
    assert [line.exchange.sku for line in ret.lines] == ["PRAYER-MAT-L"]
    order = world.orders.get(order_id)
    replacement = order.shipment(ret.replacement_id)
    assert replacement.shipment_id == replacement_id_for_return(ret.return_id)
    assert replacement.for_return == ret.return_id and replacement.amount.amount == 0
    assert replacement.status == ShipmentStatus.ALLOCATED and [(x.sku, x.quantity) for x in replacement.lines] == [
        ("PRAYER-MAT-L", 1)]
    assert counters(world, "PRAYER-MAT-L") == (3, 1, 2)  # held, not yet gone
    [held] = [r for r in world.inventory.reservations(order_id) if r.shipment_id == replacement.shipment_id]
    assert held.replacement and held.state == ReservationState.HELD
    assert order.status == status and order.payment.captured == captured  # nothing else moved
    assert order.active_shipments == [s for s in order.shipments if s.shipment_id != replacement.shipment_id]
    assert K.RETURN_EXCHANGE_RESERVED.value in world.world.timeline_kinds(order_id)
    again = uses.request(order_id, "key-exchange-01", exchange())  # the same request: nothing held twice
    assert again.return_id == ret.return_id and counters(world, "PRAYER-MAT-L") == (3, 1, 2)


@pytest.mark.parametrize(("wanted", "error", "why"), [
    ("PRAYER-MAT-XL", IllegalTransition, "an exchange is for the same price"),
    ("DATES-1KG", IllegalTransition, "cannot be exchanged for DATES-1KG"),
    ("PRAYER-MAT", IllegalTransition, "cannot be exchanged for PRAYER-MAT"),
])
def test_an_exchange_for_anything_but_another_size_at_the_same_price_is_refused(world, wanted, error, why):
    uses = Returns(world)
    order_id = delivered(world, {"PRAYER-MAT": 1})
    with pytest.raises(error, match=why):
        uses.request(order_id, "key-exchange-02", exchange(wanted=wanted))
    assert world.orders.get(order_id).returns == []


def test_a_replacement_out_of_stock_is_refused_before_anything_is_written(world):
    uses = Returns(world)
    order_id = delivered(world, {"PRAYER-MAT": 1})
    world.world.set_stock("PRAYER-MAT-L", "riyadh-dc", 0)
    events = len(world.orders.timeline(order_id))

    with pytest.raises(OutOfStock, match=r"the replacement \(1 x PRAYER-MAT-L\) is out of stock"):
        uses.request(order_id, "key-exchange-03", exchange())
    with pytest.raises(OutOfStock):
        uses.estimate(order_id, exchange())  # the review says so before the customer confirms

    order = world.orders.get(order_id)
    assert order.returns == [] and len(order.shipments) == 1 and len(world.orders.timeline(order_id)) == events
    assert counters(world, "PRAYER-MAT-L") == (0, 0, 0)
    assert RefundMethod.EXCHANGE not in uses.choices(order_id).refund_methods  # nothing to offer in stock


def test_refunding_and_exchanging_are_not_mixed(world):
    uses = Returns(world)
    order_id = delivered(world, {"PRAYER-MAT": 1})
    refund = asking({"PRAYER-MAT": (1, ReturnReason.WRONG_SIZE)})
    with pytest.raises(InvalidCustomerDetails, match="only sent for an exchange"):
        uses.request(order_id, "key-exchange-04", type(refund)(**{**refund.__dict__,
                                                                  "exchanges": {"PRAYER-MAT": "PRAYER-MAT-L"}}))


def test_the_replacement_leaves_when_the_items_arrive_and_the_exchange_is_done_after_inspection(world):
    uses = Returns(world)
    order_id = delivered(world, {"PRAYER-MAT": 1})
    [first] = world.orders.get(order_id).shipments
    original = first.model_dump()
    status = world.orders.get(order_id).status
    captured, calls = world.orders.get(order_id).payment.captured, len(world.payments.ledger)
    ret = uses.request(order_id, "key-exchange-05", exchange())
    assert OpenReturnWorkflow(world.orders, ReturnTimings())(order_id, ret.return_id).exchange == "on_receipt"
    uses.back(order_id, ret.return_id)  # label, then received

    sent = uses.ship_replacement(order_id, ret.return_id)
    assert uses.ship_replacement(order_id, ret.return_id).tracking_number == sent.tracking_number  # once
    assert sent.status == ShipmentStatus.LABEL_CREATED and world.carriers.bookings.count(sent.shipment_id) == 1
    assert counters(world, "PRAYER-MAT-L") == (2, 0, 2)  # the held unit left
    uses.inspect(WAREHOUSE, order_id, ret.return_id, "key-inspect-05",
                 {"PRAYER-MAT": (InspectionOutcome.SELLABLE, None)})
    done = uses.refund(order_id, ret.return_id)
    assert done.status == ReturnStatus.EXCHANGED and done.amount.amount == 0

    park = ParkOnReplacement(world.orders, world.uow, world.workflow)
    assert park(order_id, ret.return_id, "token-replacement") == {"waiting": True}
    report(world, sent.tracking_number, "DELIVERED")  # the tracking pipeline resumes the return's wait
    assert world.workflow.resumed["token-replacement"]["shipment_id"] == sent.shipment_id
    uses.close(order_id, ret.return_id)

    order = world.orders.get(order_id)
    assert order.return_of(ret.return_id).status == ReturnStatus.CLOSED
    assert order.status == status and order.payment.captured == captured  # nothing charged
    assert len(world.payments.ledger) == calls and order.payment.refunded.amount == 0  # no payment call at all
    assert counters(world, "PRAYER-MAT") == (2, 0, 2)  # the returned mat is back on the shelf (2 - 1 sold + 1)
    # the original parcel is untouched (shipments load in id order: the replacement may sort before it)
    assert [s.model_dump() for s in order.shipments if s.shipment_id == first.shipment_id] == [original]
    kinds = world.world.timeline_kinds(order_id)
    for kind in (K.RETURN_EXCHANGE_RESERVED, K.RETURN_EXCHANGE_SHIPPED, K.RETURN_EXCHANGED, K.RETURN_CLOSED):
        assert kinds.count(kind.value) == 1, kind
    assert kinds.count("shipment_delivered") == 2  # the original and the replacement


def test_the_customer_is_told_each_step_of_an_exchange_in_their_language(world):
    uses = Returns(world)
    order_id = delivered(world, {"PRAYER-MAT": 1})
    ret = uses.request(order_id, "key-exchange-06", exchange())
    uses.back(order_id, ret.return_id)
    sent = uses.ship_replacement(order_id, ret.return_id)
    uses.inspect(WAREHOUSE, order_id, ret.return_id, "key-inspect-06",
                 {"PRAYER-MAT": (InspectionOutcome.SELLABLE, None)})
    uses.refund(order_id, ret.return_id)
    order = world.orders.get(order_id)
    told = {e.kind: e for e in world.orders.timeline(order_id) if deserves_message(e)}
    assert {K.RETURN_REQUESTED, K.RETURN_EXCHANGE_SHIPPED, K.RETURN_EXCHANGED, K.RETURN_RECEIVED} <= set(told)
    assert K.RETURN_EXCHANGE_RESERVED not in told  # the request's message says it

    english = render(order, told[K.RETURN_REQUESTED], LETTERHEAD)
    assert "In exchange we will send you" in english.text and "1 x Prayer mat, large" in english.text
    assert "Estimated refund" not in english.text
    shipped = render(order, told[K.RETURN_EXCHANGE_SHIPPED], LETTERHEAD)
    assert shipped.subject.startswith("Your exchange for order") and sent.tracking_number in shipped.text
    assert "nothing is charged or refunded" in render(order, told[K.RETURN_EXCHANGED], LETTERHEAD).text
    assert "Your replacement leaves shortly" in render(order, told[K.RETURN_RECEIVED], LETTERHEAD).text

    arabic = order.model_copy(update={"contact": order.contact.model_copy(update={"language": "ar"})})
    assert "سجادة صلاة كبيرة" in render(arabic, told[K.RETURN_REQUESTED], LETTERHEAD).text
    shipped_ar = render(arabic, told[K.RETURN_EXCHANGE_SHIPPED], LETTERHEAD)
    assert "البديل" in shipped_ar.subject and sent.tracking_number in shipped_ar.text
    assert 'dir="rtl"' in shipped_ar.html


def test_a_return_never_sent_lets_its_held_replacement_go(world):
    uses = Returns(world)
    order_id = delivered(world, {"PRAYER-MAT": 1})
    ret = uses.request(order_id, "key-exchange-07", exchange())
    uses.issue_label(order_id, ret.return_id)
    world.clock.advance(days=15)

    assert uses.expire_label(order_id, ret.return_id) == ReturnStatus.LABEL_EXPIRED
    order = world.orders.get(order_id)
    assert order.shipment(ret.replacement_id).cancelled
    assert counters(world, "PRAYER-MAT-L") == (3, 0, 3)  # released
    assert world.world.timeline_kinds(order_id).count(K.RETURN_EXCHANGE_RELEASED.value) == 1
    assert uses.expire_label(order_id, ret.return_id) == ReturnStatus.LABEL_EXPIRED  # again: nothing more
    assert counters(world, "PRAYER-MAT-L") == (3, 0, 3)


def test_an_exchange_that_came_back_wrong_is_left_to_a_person_and_its_replacement_not_undone(world):
    uses = Returns(world)
    order_id = delivered(world, {"PRAYER-MAT": 1})
    ret = uses.request(order_id, "key-exchange-08", exchange())
    uses.back(order_id, ret.return_id)
    uses.ship_replacement(order_id, ret.return_id)
    uses.inspect(WAREHOUSE, order_id, ret.return_id, "key-inspect-08",
                 {"PRAYER-MAT": (InspectionOutcome.WRONG_ITEM, "a towel")})

    assert uses.refund(order_id, ret.return_id).status == ReturnStatus.INSPECTED  # the workflow asks a person
    order = world.orders.get(order_id)
    assert order.shipment(ret.replacement_id).status == ShipmentStatus.LABEL_CREATED  # nothing undone
    assert order.payment.refunded.amount == 0 and order.return_of(ret.return_id).settlement is None


def test_a_person_approving_an_exchange_holds_it_then_or_is_told_it_is_out_of_stock(world):
    book = trusting(default_policies(), approval_required=True)
    uses = Returns(world)
    uses.request = RequestReturn(world.orders, world.uow, world.clock, book, inventory=world.inventory)
    order_id = delivered(world, {"PRAYER-MAT": 2})
    first = uses.request(order_id, "key-exchange-09", exchange())
    second = uses.request(order_id, "key-exchange-10", exchange())
    assert first.status == second.status == ReturnStatus.REQUESTED and first.replacement_id is None
    assert counters(world, "PRAYER-MAT-L") == (3, 0, 3)  # nothing held before a person approves

    uses.decide.approve(AGENT, order_id, first.return_id, "key-approve-09")
    assert uses.get(order_id, first.return_id).replacement_id is not None
    assert counters(world, "PRAYER-MAT-L") == (3, 1, 2)
    world.world.set_stock("PRAYER-MAT-L", "riyadh-dc", 1)  # the last one is someone else's now
    world.world.stock[("PRAYER-MAT-L", "riyadh-dc")] = world.stock("PRAYER-MAT-L", "riyadh-dc").model_copy(
        update={"reserved": 1, "available": 0})
    with pytest.raises(OutOfStock, match="out of stock"):
        uses.decide.approve(AGENT, order_id, second.return_id, "key-approve-10")
    assert uses.get(order_id, second.return_id).status == ReturnStatus.REQUESTED  # nothing half-applied


def test_a_trusted_customer_gets_the_replacement_first(world):
    book = trusting(default_policies(), exchange_ships_first=True)
    uses = Returns(world)
    uses.request = RequestReturn(world.orders, world.uow, world.clock, book, inventory=world.inventory)
    order_id = delivered(world, {"PRAYER-MAT": 1})
    ret = uses.request(order_id, "key-exchange-11", exchange())
    assert ret.ship_exchange_first
    assert OpenReturnWorkflow(world.orders, ReturnTimings())(order_id, ret.return_id).exchange == "first"
    sent = uses.ship_replacement(order_id, ret.return_id)  # before any label
    assert sent.has_shipped and uses.get(order_id, ret.return_id).status == ReturnStatus.APPROVED
    uses.issue_label(order_id, ret.return_id)
    world.clock.advance(days=15)
    uses.expire_label(order_id, ret.return_id)  # never sent back: the replacement that left stays as it is
    assert world.orders.get(order_id).shipment(ret.replacement_id).status == ShipmentStatus.LABEL_CREATED
