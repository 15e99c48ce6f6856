"""Checkout honesty: an order the stock visibly cannot cover is refused before anything is charged or written, with
what each short line can have; the promise at checkout is the estimate from the locations the stock would ship
from, and each shipment gets its own when the stock is reserved."""

import pytest
from fakes import request

from dawra.app.checkout import Checkout
from dawra.contracts.problems import from_domain_error
from dawra.domain.availability import BackorderPolicy, LineAvailability, ShortOfStock, shortages
from dawra.domain.errors import IdempotencyKeyReused, OutOfStock

# The seeded stock: MUG-CLASSIC 40 in Riyadh + 5 in Jeddah; DALLAH-BRASS 3 in Jeddah; DATES-1KG 25 in Riyadh + 10 in
# Dammam; PRAYER-MAT 2 in Riyadh. The clock: Monday 23 November 2026, 09:00 UTC (12:00 in Saudi Arabia).


def nothing_written(shop) -> bool:
    return (not shop.world.headers and not shop.world.idempotency and not shop.world.events
            and not shop.payments.ledger and not shop.world.reservations)


def test_shortages_compare_each_line_with_the_stock_of_every_location_together():
    available = {("MUG", "a"): 3, ("MUG", "b"): 2, ("MAT", "a"): 1, ("ODD", "a"): -1}
    assert shortages({"MUG": 5, "MAT": 1}, available) == []
    assert shortages({"MUG": 6, "MAT": 2, "NONE": 1, "ODD": 1}, available) == [
        LineAvailability(sku="MUG", requested=6, available=5), LineAvailability(sku="MAT", requested=2, available=1),
        LineAvailability(sku="NONE", requested=1, available=0), LineAvailability(sku="ODD", requested=1, available=0)]
    assert shortages({"MAT": 2}, available, BackorderPolicy(backorderable=frozenset({"MAT"}))) == []


def test_an_order_the_stock_cannot_cover_is_refused_with_each_short_line_and_nothing_written(shop):
    with pytest.raises(ShortOfStock) as refused:
        shop.place({"MUG-CLASSIC": 46, "DATES-1KG": 1, "PRAYER-MAT": 3})
    assert refused.value.lines == (LineAvailability(sku="MUG-CLASSIC", requested=46, available=45),
                                   LineAvailability(sku="PRAYER-MAT", requested=3, available=2))
    assert isinstance(refused.value, OutOfStock)  # the API's out_of_stock (409)
    assert nothing_written(shop)  # not even an authorisation
    assert shop.stock("MUG-CLASSIC", "riyadh-dc").available == 40


def test_the_409_problem_lists_what_each_short_line_asked_for_and_what_there_is(shop):
    with pytest.raises(ShortOfStock) as refused:
        shop.place({"PRAYER-MAT": 3})
    kind, body = from_domain_error(refused.value)
    assert (kind.status, body["code"], body["type"]) == (409, "out_of_stock", "urn:dawra:problem:out_of_stock")
    assert body["availability"] == [{"sku": "PRAYER-MAT", "requested": 3, "available": 2}]
    assert "PRAYER-MAT: 3 asked, 2 available" in body["detail"]


def test_an_order_covered_only_by_several_locations_together_is_accepted(shop):
    order_id = shop.place({"MUG-CLASSIC": 45})  # 40 in Riyadh and 5 in Jeddah
    assert len(shop.reserve(order_id).shipments) == 2


def test_the_refused_key_is_free_the_order_goes_through_once_the_stock_is_back(shop):
    with pytest.raises(ShortOfStock):
        shop.place({"PRAYER-MAT": 3}, key="key-short-01")
    shop.world.set_stock("PRAYER-MAT", "jeddah-store", 1)  # a delivery from the supplier
    order_id = shop.place({"PRAYER-MAT": 3}, key="key-short-01")
    assert shop.orders.get(order_id).status == "CONFIRMED"
    assert shop.world.timeline_kinds(order_id) == ["order_confirmed"]  # what starts its lifecycle


def test_the_replay_of_an_order_placed_while_there_was_stock_is_that_order_not_a_refusal(shop):
    """The storefront lost the answer and retries; meanwhile the order's own reservation took the last mats."""
    order_id = shop.place({"PRAYER-MAT": 2}, key="key-lastmats")
    shop.reserve(order_id)
    assert shop.stock("PRAYER-MAT", "riyadh-dc").available == 0
    assert shop.place({"PRAYER-MAT": 2}, key="key-lastmats") == order_id
    assert len(shop.world.headers) == 1 and len(shop.payments.effective("authorize")) == 1
    with pytest.raises(IdempotencyKeyReused):  # the same key for another order is still refused
        shop.place({"PRAYER-MAT": 3}, key="key-lastmats")


def test_a_backorder_policy_lets_a_short_line_through(shop):
    o, i, u, c = shop.orders, shop.inventory, shop.uow, shop.clock
    lenient = Checkout(o, i, u, shop.payments, shop.alerts, c,
                       backorders=BackorderPolicy(backorderable=frozenset({"PRAYER-MAT"})))
    order = lenient.place_order("key-backorder", request({"PRAYER-MAT": 3}))
    assert order.status == "CONFIRMED"
    assert order.promised_by == "2026-12-01"  # the latest location's promise stands in (Dammam: 2 handling days)


# --- the promise: estimated at checkout, each shipment's own at reservation ----------------------------------------
def test_the_checkout_estimate_is_the_promise_of_the_location_the_stock_ships_from(shop):
    # Riyadh (cut-off 14:00, it is 12:00 there): handled today, to the carrier Tuesday, 4 days: Monday 30 November.
    assert shop.orders.get(shop.place({"MUG-CLASSIC": 1}, key="key-riyadh")).promised_by == "2026-11-30"
    # The dallah is only in Jeddah, whose cut-off (12:00) has just passed: a day later.
    assert shop.orders.get(shop.place({"DALLAH-BRASS": 1}, key="key-jeddah")).promised_by == "2026-12-01"


def test_each_shipment_gets_its_locations_promise_and_the_order_the_latest(shop):
    order_id = shop.place({"DALLAH-BRASS": 1, "DATES-1KG": 1})  # Jeddah (the dallah) and Riyadh (the dates)
    estimate = shop.orders.get(order_id).promised_by
    shop.reserve(order_id)
    order = shop.orders.get(order_id)
    promised = {s.location_id: s.promised_by for s in order.shipments}
    assert promised == {"jeddah-store": "2026-12-01", "riyadh-dc": "2026-11-30"}
    assert order.promised_by == estimate == "2026-12-01"
    [reserved] = [e for e in shop.orders.timeline(order_id) if e.kind == "stock_reserved"]
    assert reserved.detail["promised_by"] == "2026-12-01"


def test_stock_that_moved_after_checkout_moves_the_promise_to_the_locations_actually_chosen(shop):
    order_id = shop.place({"MUG-CLASSIC": 5})
    assert shop.orders.get(order_id).promised_by == "2026-11-30"  # Riyadh, as the stock stood
    shop.world.set_stock("MUG-CLASSIC", "riyadh-dc", 0)  # sold meanwhile: Jeddah's five remain
    shop.reserve(order_id)
    order = shop.orders.get(order_id)
    assert [s.location_id for s in order.shipments] == ["jeddah-store"]
    assert order.shipments[0].promised_by == order.promised_by == "2026-12-01"


def test_the_promise_counts_from_when_the_order_was_placed_not_when_it_was_reserved(shop):
    order_id = shop.place({"MUG-CLASSIC": 1})  # 12:00 in Riyadh, before the 14:00 cut-off
    shop.clock.advance(hours=3)  # the reservation runs late, after the cut-off
    shop.reserve(order_id)
    assert shop.orders.get(order_id).shipments[0].promised_by == "2026-11-30"


def test_a_location_without_a_calendar_gets_no_promise_of_its_own_and_the_order_keeps_its_estimate(shop):
    order_id = shop.place({"MUG-CLASSIC": 1})
    shop.world.locations = [loc.model_copy(update={"country": "EG"}) if loc.location_id == "riyadh-dc" else loc
                            for loc in shop.world.locations]  # the merchant moved it where no calendar is kept
    shop.reserve(order_id)  # a promise never stops an order
    order = shop.orders.get(order_id)
    assert order.status == "ALLOCATED" and order.shipments[0].promised_by is None
    assert order.promised_by == "2026-11-30"
