"""Stock in the back office: levels, adjustments with a reason, transfers between locations; each change authorised,
audited in the same commit, and applied once per request."""

from __future__ import annotations

import re

import pytest
from fakes import FakeAuditLog, FakeInventory, FakeUnitOfWork, FixedClock, World

from dawra.app.stock import StockActions
from dawra.domain.access import Actor, Role
from dawra.domain.errors import ConcurrentChange, Forbidden
from dawra.domain.inventory import (
    Reservation,
    StockLevel,
    StockRefused,
    TransferNotFound,
    TransferState,
    hold,
)
from dawra.local.seed import CATALOG, LOCATIONS, STOCK

WAREHOUSE = Actor(user_id="u-wh", username="wafa", roles=frozenset({Role.WAREHOUSE}))
AGENT = Actor(user_id="u-agent", username="amal", roles=frozenset({Role.AGENT}))
MANAGER = Actor(user_id="u-mgr", username="majed", roles=frozenset({Role.MANAGER}))


@pytest.fixture
def world() -> World:
    world = World(catalog={item.sku: item for item in CATALOG}, locations=list(LOCATIONS))
    for (sku, location_id), units in STOCK.items():
        world.set_stock(sku, location_id, units)
    return world


@pytest.fixture
def uow(world) -> FakeUnitOfWork:
    return FakeUnitOfWork(world)


@pytest.fixture
def stock(world, uow) -> StockActions:
    inventory = FakeInventory(world)
    return StockActions(inventory, inventory, uow, FakeAuditLog(world), FixedClock())


def level(world: World, sku: str, location_id: str) -> dict[str, int]:
    found = world.stock[(sku, location_id)]
    return {"on_hand": found.on_hand, "reserved": found.reserved, "available": found.available,
            "in_transit": found.in_transit}


def reserve(world: World, sku: str, location_id: str, quantity: int) -> None:
    FakeUnitOfWork(world).commit(stock=[hold(Reservation(order_id="ord-1", shipment_id="shp-1", sku=sku,
                                                         location_id=location_id, quantity=quantity))])


# --- levels -------------------------------------------------------------------------------------------------------

def test_levels_per_location_per_sku_and_with_open_transfers(world, stock):
    at_riyadh = stock.levels(AGENT, location_id="riyadh-dc")
    assert [(lv.sku, lv.on_hand, lv.available, lv.in_transit) for lv in at_riyadh.levels] == [
        ("DATES-1KG", 25, 25, 0), ("MUG-CLASSIC", 40, 40, 0), ("PRAYER-MAT", 2, 2, 0)]
    mugs = stock.levels(AGENT, sku="MUG-CLASSIC")
    assert [(lv.location_id, lv.on_hand) for lv in mugs.levels] == [("jeddah-store", 5), ("riyadh-dc", 40)]

    sent = stock.transfer(WAREHOUSE, "k-t1", "MUG-CLASSIC", "riyadh-dc", "dammam-3pl", 6, "stock the 3PL")
    assert [t.transfer_id for t in stock.levels(AGENT, sku="MUG-CLASSIC").transfers] == [sent.transfer.transfer_id]
    assert [t.transfer_id for t in stock.levels(AGENT, location_id="dammam-3pl").transfers] == [
        sent.transfer.transfer_id]
    assert stock.levels(AGENT, location_id="jeddah-store").transfers == []
    assert stock.levels(AGENT, sku="DATES-1KG").transfers == []
    everything = stock.levels(MANAGER)
    assert len(everything.levels) == len(STOCK) + 1 and len(everything.transfers) == 1
    one = stock.levels(AGENT, sku="MUG-CLASSIC", location_id="dammam-3pl")
    assert [(lv.on_hand, lv.in_transit) for lv in one.levels] == [(0, 6)]


# --- adjust -------------------------------------------------------------------------------------------------------

def test_an_adjustment_changes_on_hand_and_available_and_is_audited_in_the_same_commit(world, uow, stock):
    reserve(world, "MUG-CLASSIC", "jeddah-store", 2)
    outcome = stock.adjust(WAREHOUSE, "k-adj-1", "MUG-CLASSIC", "jeddah-store", -3, "3 broken in a drop")

    assert level(world, "MUG-CLASSIC", "jeddah-store") == {"on_hand": 2, "reserved": 2, "available": 0,
                                                           "in_transit": 0}
    entry = outcome.audit
    assert (entry.subject, entry.action, entry.reason, entry.actor_id) == (
        "stock:MUG-CLASSIC@jeddah-store", "adjust_stock", "3 broken in a drop", "u-wh")
    assert entry.before == {"on_hand": 5, "reserved": 2, "available": 3, "in_transit": 0, "quarantined": 0}
    assert entry.after == {"on_hand": 2, "reserved": 2, "available": 0, "in_transit": 0, "quarantined": 0, "delta": -3}
    assert list(world.audit.values()) == [entry] and uow.commits == 1
    assert outcome.levels == [world.stock[("MUG-CLASSIC", "jeddah-store")]] and not outcome.replayed


def test_units_reserved_for_orders_cannot_be_adjusted_away(world, uow, stock):
    reserve(world, "MUG-CLASSIC", "jeddah-store", 4)
    before = dict(world.stock)
    with pytest.raises(StockRefused, match=re.escape("1 available (4 reserved for orders); cannot take away 2")):
        stock.adjust(WAREHOUSE, "k-adj-2", "MUG-CLASSIC", "jeddah-store", -2, "count")
    assert world.stock == before and world.audit == {}


@pytest.mark.parametrize(("sku", "location_id", "delta", "why"), [
    ("MUG-CLASSIC", "dammam-3pl", -1, "no stock of MUG-CLASSIC at dammam-3pl"),
    ("NOT-A-SKU", "riyadh-dc", 5, "not in the catalog"),
    ("MUG-CLASSIC", "the-moon", 5, "no location the-moon"),
    ("MUG-CLASSIC", "riyadh-dc", 0, "delta is 0"),
])
def test_adjustments_that_make_no_sense_are_refused(world, stock, sku, location_id, delta, why):
    with pytest.raises(StockRefused, match=why):
        stock.adjust(WAREHOUSE, "k-adj-x", sku, location_id, delta, "count")
    assert world.audit == {}


def test_a_positive_adjustment_creates_stock_of_a_catalog_sku_at_a_known_location(world, stock):
    outcome = stock.adjust(WAREHOUSE, "k-adj-new", "DALLAH-BRASS", "riyadh-dc", 4, "first delivery from supplier")
    assert level(world, "DALLAH-BRASS", "riyadh-dc") == {"on_hand": 4, "reserved": 0, "available": 4,
                                                         "in_transit": 0}
    assert outcome.audit.before == {"on_hand": 0, "reserved": 0, "available": 0, "in_transit": 0, "quarantined": 0}


def test_a_reason_is_required(stock):
    with pytest.raises(StockRefused, match="reason"):
        stock.adjust(WAREHOUSE, "k-adj-r", "MUG-CLASSIC", "riyadh-dc", 1, "   ")


def test_a_replayed_adjustment_acts_once_and_answers_the_same_entry(world, uow, stock):
    first = stock.adjust(WAREHOUSE, "k-adj-3", "DATES-1KG", "riyadh-dc", 5, "found a pallet")
    again = stock.adjust(WAREHOUSE, "k-adj-3", "DATES-1KG", "riyadh-dc", 5, "found a pallet")
    assert again.replayed and again.audit == first.audit
    assert level(world, "DATES-1KG", "riyadh-dc")["on_hand"] == 30 and uow.commits == 1
    # The same key from another operator is another request.
    stock.adjust(MANAGER, "k-adj-3", "DATES-1KG", "riyadh-dc", 5, "found a pallet")
    assert level(world, "DATES-1KG", "riyadh-dc")["on_hand"] == 35


def test_an_adjustment_applied_but_not_acknowledged_is_not_applied_again(world, uow, stock):
    uow.faults.append("ambiguous")
    with pytest.raises(Exception, match="applied, then a 500"):
        stock.adjust(WAREHOUSE, "k-adj-4", "DATES-1KG", "riyadh-dc", -5, "expired")
    retried = stock.adjust(WAREHOUSE, "k-adj-4", "DATES-1KG", "riyadh-dc", -5, "expired")
    assert retried.replayed and level(world, "DATES-1KG", "riyadh-dc")["on_hand"] == 20


def test_a_lost_race_is_decided_again_on_fresh_counters(world, uow, stock):
    """A reservation lands between the read and the commit: the commit is refused and the adjustment re-decided."""
    inventory = stock.inventory
    real_stock = inventory.stock
    raced = []

    def stock_then_race(sku, location_id):
        found = real_stock(sku, location_id)
        if not raced:
            raced.append(True)
            reserve(world, sku, location_id, 1)
        return found

    inventory.stock = stock_then_race
    outcome = stock.adjust(WAREHOUSE, "k-adj-5", "PRAYER-MAT", "riyadh-dc", -1, "damaged")
    assert outcome.audit.before == {"on_hand": 2, "reserved": 1, "available": 1, "in_transit": 0, "quarantined": 0}
    assert level(world, "PRAYER-MAT", "riyadh-dc") == {"on_hand": 1, "reserved": 1, "available": 0, "in_transit": 0}


def test_the_unit_of_work_refuses_a_counter_change_over_counters_that_moved(world, uow):
    from dawra.domain.inventory import adjust

    change = adjust(world.stock[("MUG-CLASSIC", "riyadh-dc")], "MUG-CLASSIC", "riyadh-dc", 1)
    reserve(world, "MUG-CLASSIC", "riyadh-dc", 1)
    with pytest.raises(ConcurrentChange) as refused:
        uow.commit(stock=[change])
    assert refused.value.parts == {"stock"}


# --- transfers ----------------------------------------------------------------------------------------------------

def test_a_transfer_leaves_the_source_travels_and_arrives_when_received(world, uow, stock):
    sent = stock.transfer(WAREHOUSE, "k-t2", "DATES-1KG", "riyadh-dc", "dammam-3pl", 10, "ramadan demand")
    transfer = sent.transfer
    assert transfer.state == TransferState.IN_TRANSIT and transfer.quantity == 10
    assert level(world, "DATES-1KG", "riyadh-dc") == {"on_hand": 15, "reserved": 0, "available": 15, "in_transit": 0}
    assert level(world, "DATES-1KG", "dammam-3pl") == {"on_hand": 10, "reserved": 0, "available": 10,
                                                       "in_transit": 10}
    assert (sent.audit.subject, sent.audit.action) == ("stock:DATES-1KG@riyadh-dc", "transfer_stock")
    assert sent.audit.before == {
        "source": {"on_hand": 25, "reserved": 0, "available": 25, "in_transit": 0, "quarantined": 0},
        "destination": {"on_hand": 10, "reserved": 0, "available": 10, "in_transit": 0, "quarantined": 0}}
    assert sent.audit.after["transfer_id"] == transfer.transfer_id and sent.audit.after["state"] == "in_transit"
    assert uow.commits == 1  # counters, transfer record and audit entry: one commit

    received = stock.receive(WAREHOUSE, "k-r2", transfer.transfer_id)
    assert level(world, "DATES-1KG", "dammam-3pl") == {"on_hand": 20, "reserved": 0, "available": 20,
                                                       "in_transit": 0}
    assert received.transfer.state == TransferState.RECEIVED and received.transfer.received_by == "u-wh"
    assert (received.audit.subject, received.audit.action) == ("stock:DATES-1KG@dammam-3pl", "receive_transfer")
    assert received.audit.before["in_transit"] == 10 and received.audit.after["on_hand"] == 20
    assert stock.levels(WAREHOUSE, location_id="dammam-3pl").transfers == []


def test_a_transfer_to_where_the_sku_was_never_kept_creates_its_stock_item(world, stock):
    sent = stock.transfer(WAREHOUSE, "k-t3", "DALLAH-BRASS", "jeddah-store", "riyadh-dc", 2, "display")
    assert level(world, "DALLAH-BRASS", "riyadh-dc") == {"on_hand": 0, "reserved": 0, "available": 0,
                                                         "in_transit": 2}
    stock.receive(WAREHOUSE, "k-r3", sent.transfer.transfer_id)
    assert level(world, "DALLAH-BRASS", "riyadh-dc")["available"] == 2


def test_a_transfer_is_received_once(world, uow, stock):
    sent = stock.transfer(WAREHOUSE, "k-t4", "MUG-CLASSIC", "riyadh-dc", "jeddah-store", 5, "restock")
    first = stock.receive(WAREHOUSE, "k-r4", sent.transfer.transfer_id)
    replay = stock.receive(WAREHOUSE, "k-r4", sent.transfer.transfer_id)
    assert replay.replayed and replay.audit == first.audit
    with pytest.raises(StockRefused, match="already received"):
        stock.receive(MANAGER, "k-r4-other", sent.transfer.transfer_id)
    assert level(world, "MUG-CLASSIC", "jeddah-store") == {"on_hand": 10, "reserved": 0, "available": 10,
                                                           "in_transit": 0}
    assert uow.commits == 2


def test_a_replayed_transfer_sends_once(world, uow, stock):
    first = stock.transfer(WAREHOUSE, "k-t5", "MUG-CLASSIC", "riyadh-dc", "jeddah-store", 5, "restock")
    again = stock.transfer(WAREHOUSE, "k-t5", "MUG-CLASSIC", "riyadh-dc", "jeddah-store", 5, "restock")
    assert again.replayed and again.audit == first.audit and again.transfer == first.transfer
    assert level(world, "MUG-CLASSIC", "riyadh-dc")["on_hand"] == 35 and len(world.transfers) == 1


@pytest.mark.parametrize(("source", "destination", "quantity", "why"), [
    ("riyadh-dc", "jeddah-store", 41, "40 available, cannot send 41"),
    ("dammam-3pl", "jeddah-store", 1, "0 available"),
    ("riyadh-dc", "riyadh-dc", 1, "from one location to another"),
    ("riyadh-dc", "the-moon", 1, "no location the-moon"),
    ("riyadh-dc", "jeddah-store", 0, "at least one unit"),
])
def test_a_refused_transfer_writes_nothing(world, uow, stock, source, destination, quantity, why):
    before = dict(world.stock)
    with pytest.raises(StockRefused, match=why):
        stock.transfer(WAREHOUSE, "k-t6", "MUG-CLASSIC", source, destination, quantity, "restock")
    assert world.stock == before and world.transfers == {} and world.audit == {} and uow.commits == 0


def test_reserved_units_cannot_be_transferred(world, stock):
    reserve(world, "PRAYER-MAT", "riyadh-dc", 2)
    with pytest.raises(StockRefused, match="0 available"):
        stock.transfer(WAREHOUSE, "k-t7", "PRAYER-MAT", "riyadh-dc", "jeddah-store", 1, "restock")


def test_an_unknown_transfer_is_not_found(stock):
    with pytest.raises(TransferNotFound):
        stock.receive(WAREHOUSE, "k-r8", "trf_nope")


# --- who may -------------------------------------------------------------------------------------------------------

def test_roles_decide_who_may_see_and_change_stock(world, stock):
    nobody = Actor(user_id="u-0", username="n", roles=frozenset())
    with pytest.raises(Forbidden):
        stock.levels(nobody)
    with pytest.raises(Forbidden, match="adjust stock is not allowed for agent"):
        stock.adjust(AGENT, "k-f1", "MUG-CLASSIC", "riyadh-dc", 1, "count")
    with pytest.raises(Forbidden, match="transfer stock"):
        stock.transfer(AGENT, "k-f2", "MUG-CLASSIC", "riyadh-dc", "jeddah-store", 1, "restock")
    sent = stock.transfer(MANAGER, "k-f3", "MUG-CLASSIC", "riyadh-dc", "jeddah-store", 1, "restock")
    with pytest.raises(Forbidden):
        stock.receive(AGENT, "k-f4", sent.transfer.transfer_id)
    assert world.stock[("MUG-CLASSIC", "jeddah-store")] == StockLevel(
        sku="MUG-CLASSIC", location_id="jeddah-store", on_hand=5, reserved=0, available=5, in_transit=1)
