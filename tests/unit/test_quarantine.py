"""Quarantined stock, with in-memory fakes: damaged or tampered units a return brings back are counted as quarantined at
the receiving location in the inspection's own commit (once, however often the inspection is sent), or written off
there by the inspector with a note; the warehouse later writes quarantined units off or releases them to sellable,
each with a reason, audited in the same commit, once per request key, never below zero."""

import re

import pytest
from fakes import FakeAuditLog, FakeInventory, FakeUnitOfWork, FixedClock, World
from returning import AGENT, MANAGER, WAREHOUSE, Returns, asking, delivered

from dawra.app.stock import StockActions
from dawra.domain.errors import (
    Forbidden,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidCustomerDetails,
    TransientError,
)
from dawra.domain.inventory import (
    CounterChange,
    StockLevel,
    StockRefused,
    counters,
    release_quarantined,
    take_back,
    write_off,
)
from dawra.domain.returns import Disposition, InspectionOutcome, ReturnMethod, ReturnReason

SELLABLE, DAMAGED, TAMPERED = InspectionOutcome.SELLABLE, InspectionOutcome.DAMAGED, InspectionOutcome.TAMPERED


def counts(shop_or_world, sku: str, location_id: str) -> tuple[int, int, int, int]:
    """(on hand, reserved, available, quarantined) of a stock item."""
    world = getattr(shop_or_world, "world", shop_or_world)
    level = world.stock[(sku, location_id)]
    return level.on_hand, level.reserved, level.available, level.quarantined


def inspected_detail(shop, order_id: str) -> dict[str, str]:
    [event] = [e for e in shop.world.events[order_id].values() if e.kind.value == "return_inspected"]
    return event.detail


def damaged_return_received(shop, returns, quantity: int = 1, sku: str = "PRAYER-MAT", **how) -> tuple[str, str]:
    order_id = delivered(shop, {sku: 2})
    ret = returns.request(order_id, "ret-key-1", asking({sku: (quantity, ReturnReason.DAMAGED)}, **how))
    returns.back(order_id, ret.return_id)
    return order_id, ret.return_id


# --- the counters ---------------------------------------------------------------------------------------------------

def test_quarantined_units_are_apart_from_on_hand_and_move_only_as_told():
    level = StockLevel(sku="MUG-CLASSIC", location_id="riyadh-dc", on_hand=5, reserved=2, available=3)
    back = take_back(level, "MUG-CLASSIC", "riyadh-dc", sellable=1, quarantined=2).after
    assert (back.on_hand, back.reserved, back.available, back.quarantined) == (6, 2, 4, 2)
    gone = write_off(back, "MUG-CLASSIC", "riyadh-dc", 1).after
    assert (gone.on_hand, gone.available, gone.quarantined) == (6, 4, 1)
    fixed = release_quarantined(gone, "MUG-CLASSIC", "riyadh-dc", 1).after
    assert (fixed.on_hand, fixed.reserved, fixed.available, fixed.quarantined) == (7, 2, 5, 0)
    assert counters(fixed) == {"on_hand": 7, "reserved": 2, "available": 5, "in_transit": 0, "quarantined": 0}
    new = take_back(None, "PRAYER-MAT", "jeddah-store", quarantined=1)
    assert new.before is None and (new.after.on_hand, new.after.quarantined) == (0, 1)


@pytest.mark.parametrize("move", [write_off, release_quarantined])
def test_never_more_than_is_quarantined(move):
    level = StockLevel(sku="MUG-CLASSIC", location_id="riyadh-dc", on_hand=40, reserved=0, available=40,
                       quarantined=2)
    with pytest.raises(StockRefused, match=r"MUG-CLASSIC at riyadh-dc: 2 quarantined, cannot (write off|release) 3"):
        move(level, "MUG-CLASSIC", "riyadh-dc", 3)
    with pytest.raises(StockRefused, match="MUG-CLASSIC at dammam-3pl: 0 quarantined"):
        move(None, "MUG-CLASSIC", "dammam-3pl", 1)
    with pytest.raises(StockRefused, match="at least one unit"):
        move(level, "MUG-CLASSIC", "riyadh-dc", 0)
    with pytest.raises(ValueError, match="never go below zero"):
        CounterChange(before=level, after=level.model_copy(update={"quarantined": -1}))


# --- at inspection --------------------------------------------------------------------------------------------------

def test_damaged_units_are_quarantined_where_they_arrived_in_the_inspections_commit_and_once(shop):
    returns = Returns(shop)
    order_id, return_id = damaged_return_received(shop, returns)
    before = counts(shop, "PRAYER-MAT", "riyadh-dc")
    commits = shop.uow.commits

    outcome = returns.inspect(WAREHOUSE, order_id, return_id, "inspect-1", {"PRAYER-MAT": (DAMAGED, "torn")})
    assert shop.uow.commits == commits + 1  # the return, the counters and the audit entry: one commit
    assert counts(shop, "PRAYER-MAT", "riyadh-dc") == (before[0], before[1], before[2], before[3] + 1)
    assert outcome.audit.after["quarantined"] == {"PRAYER-MAT": 1} and "written_off" not in outcome.audit.after
    [line] = returns.get(order_id, return_id).lines
    assert (line.outcome, line.note, line.disposition) == (DAMAGED, "torn", Disposition.QUARANTINE)
    assert inspected_detail(shop, order_id)["quarantined"] == "1"

    again = returns.inspect(WAREHOUSE, order_id, return_id, "inspect-1", {"PRAYER-MAT": (DAMAGED, "torn")})
    assert again.replayed and shop.uow.commits == commits + 1
    with pytest.raises(IllegalTransition, match="inspect is not allowed"):  # another key: the return is inspected
        returns.inspect(WAREHOUSE, order_id, return_id, "inspect-2", {"PRAYER-MAT": (DAMAGED, "torn")})
    assert counts(shop, "PRAYER-MAT", "riyadh-dc")[3] == before[3] + 1  # counted once


def test_a_replayed_inspection_whose_first_answer_was_lost_counts_once(shop):
    returns = Returns(shop)
    order_id, return_id = damaged_return_received(shop, returns)
    quarantined = counts(shop, "PRAYER-MAT", "riyadh-dc")[3]
    shop.uow.faults.append("ambiguous")  # applied, then the caller hears a 500
    with pytest.raises(TransientError, match="applied, then a 500"):
        returns.inspect(WAREHOUSE, order_id, return_id, "inspect-1", {"PRAYER-MAT": (TAMPERED, "seal cut")})
    again = returns.inspect(WAREHOUSE, order_id, return_id, "inspect-1", {"PRAYER-MAT": (TAMPERED, "seal cut")})
    assert again.replayed and counts(shop, "PRAYER-MAT", "riyadh-dc")[3] == quarantined + 1


def test_the_inspector_may_write_damaged_units_off_instead_with_the_note(shop):
    returns = Returns(shop)
    order_id, return_id = damaged_return_received(shop, returns)
    before = counts(shop, "PRAYER-MAT", "riyadh-dc")
    outcome = returns.inspect(WAREHOUSE, order_id, return_id, "inspect-1", {"PRAYER-MAT": (DAMAGED, "shredded")},
                              write_off={"PRAYER-MAT"})
    assert counts(shop, "PRAYER-MAT", "riyadh-dc") == before  # counted nowhere
    assert outcome.audit.after["written_off"] == {"PRAYER-MAT": 1} and "quarantined" not in outcome.audit.after
    [line] = returns.get(order_id, return_id).lines
    assert (line.disposition, line.note) == (Disposition.WRITE_OFF, "shredded")
    assert inspected_detail(shop, order_id)["written_off"] == "1"
    assert returns.refund(order_id, return_id).amount.amount == 13800  # the customer's refund does not change


def test_only_damaged_or_tampered_lines_of_the_return_are_written_off(shop):
    returns = Returns(shop)
    order_id, return_id = damaged_return_received(shop, returns)
    before, audit = dict(shop.world.stock), dict(shop.world.audit)
    with pytest.raises(InvalidCustomerDetails, match="only damaged or tampered units are written off, not sellable"):
        returns.inspect(WAREHOUSE, order_id, return_id, "inspect-1", {"PRAYER-MAT": (SELLABLE, None)},
                        write_off=["PRAYER-MAT"])
    with pytest.raises(InvalidCustomerDetails, match="not in the return, so not written off: MUG-CLASSIC"):
        returns.inspect(WAREHOUSE, order_id, return_id, "inspect-1", {"PRAYER-MAT": (DAMAGED, "torn")},
                        write_off=["MUG-CLASSIC"])
    assert shop.world.stock == before and shop.world.audit == audit


def test_a_store_that_never_kept_the_sku_gets_a_stock_item_holding_only_the_quarantined_units(shop):
    returns = Returns(shop)
    order_id, return_id = damaged_return_received(shop, returns, method=ReturnMethod.STORE, location="jeddah-store")
    assert ("PRAYER-MAT", "jeddah-store") not in shop.world.stock
    returns.inspect(WAREHOUSE, order_id, return_id, "inspect-1", {"PRAYER-MAT": (DAMAGED, "water stain")})
    assert counts(shop, "PRAYER-MAT", "jeddah-store") == (0, 0, 0, 1)


def test_sellable_and_damaged_units_of_one_return_move_their_own_counters(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 2, "MUG-CLASSIC": 2})
    ask = asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND), "MUG-CLASSIC": (2, ReturnReason.DAMAGED)})
    ret = returns.request(order_id, "ret-key-1", ask)
    returns.decide.approve(AGENT, order_id, ret.return_id, "approve-1")  # mugs: an agent approves first
    returns.back(order_id, ret.return_id)
    mats, mugs = counts(shop, "PRAYER-MAT", "riyadh-dc"), counts(shop, "MUG-CLASSIC", "riyadh-dc")
    outcome = returns.inspect(WAREHOUSE, order_id, ret.return_id, "inspect-1", {
        "PRAYER-MAT": (SELLABLE, None), "MUG-CLASSIC": (DAMAGED, "both handles cracked")})
    assert counts(shop, "PRAYER-MAT", "riyadh-dc") == (mats[0] + 1, mats[1], mats[2] + 1, mats[3])
    assert counts(shop, "MUG-CLASSIC", "riyadh-dc") == (mugs[0], mugs[1], mugs[2], mugs[3] + 2)
    assert (outcome.audit.after["restocked"], outcome.audit.after["quarantined"]) == (
        {"PRAYER-MAT": 1}, {"MUG-CLASSIC": 2})


# --- the warehouse's actions on quarantined stock -------------------------------------------------------------------

@pytest.fixture
def world() -> World:
    world = World()
    world.stock[("MUG-CLASSIC", "riyadh-dc")] = StockLevel(sku="MUG-CLASSIC", location_id="riyadh-dc", on_hand=10,
                                                           reserved=3, available=7, quarantined=4)
    return world


@pytest.fixture
def uow(world) -> FakeUnitOfWork:
    return FakeUnitOfWork(world)


@pytest.fixture
def stock(world, uow) -> StockActions:
    inventory = FakeInventory(world)
    return StockActions(inventory, inventory, uow, FakeAuditLog(world), FixedClock())


def test_writing_off_takes_units_out_of_quarantine_audited_in_the_same_commit(world, uow, stock):
    outcome = stock.write_off(WAREHOUSE, "k-wo-1", "MUG-CLASSIC", "riyadh-dc", 3, "beyond repair")
    assert counts(world, "MUG-CLASSIC", "riyadh-dc") == (10, 3, 7, 1) and uow.commits == 1
    entry = outcome.audit
    assert (entry.subject, entry.action, entry.reason, entry.actor_id) == (
        "stock:MUG-CLASSIC@riyadh-dc", "write_off_quarantined", "beyond repair", "u-wh")
    assert entry.before == {"on_hand": 10, "reserved": 3, "available": 7, "in_transit": 0, "quarantined": 4}
    assert entry.after == {"on_hand": 10, "reserved": 3, "available": 7, "in_transit": 0, "quarantined": 1,
                           "quantity": 3}
    assert list(world.audit.values()) == [entry] and outcome.levels == [world.stock[("MUG-CLASSIC", "riyadh-dc")]]


def test_releasing_puts_quarantined_units_back_on_hand_and_available(world, uow, stock):
    outcome = stock.release(MANAGER, "k-rel-1", "MUG-CLASSIC", "riyadh-dc", 4, "re-glazed, checked")
    assert counts(world, "MUG-CLASSIC", "riyadh-dc") == (14, 3, 11, 0)
    assert outcome.audit.action == "release_quarantined" and outcome.audit.actor_id == "u-mgr"
    assert (outcome.audit.before["quarantined"], outcome.audit.after["quarantined"]) == (4, 0)
    assert (outcome.audit.before["available"], outcome.audit.after["available"]) == (7, 11)


@pytest.mark.parametrize("action", ["write_off", "release"])
def test_a_replayed_request_acts_once_and_the_same_key_with_other_values_is_refused(world, uow, stock, action):
    act = getattr(stock, action)
    first = act(WAREHOUSE, "k-q-1", "MUG-CLASSIC", "riyadh-dc", 2, "counted")
    after = counts(world, "MUG-CLASSIC", "riyadh-dc")
    again = act(WAREHOUSE, "k-q-1", "MUG-CLASSIC", "riyadh-dc", 2, "counted")
    assert again.replayed and not first.replayed and again.audit == first.audit
    assert counts(world, "MUG-CLASSIC", "riyadh-dc") == after and uow.commits == 1
    with pytest.raises(IdempotencyKeyReused):
        act(WAREHOUSE, "k-q-1", "MUG-CLASSIC", "riyadh-dc", 1, "counted")


@pytest.mark.parametrize("action", ["write_off", "release"])
def test_never_below_zero_a_reason_required_and_not_for_an_agent(world, stock, action):
    act = getattr(stock, action)
    with pytest.raises(StockRefused, match=re.escape("MUG-CLASSIC at riyadh-dc: 4 quarantined, cannot")):
        act(WAREHOUSE, "k-q-2", "MUG-CLASSIC", "riyadh-dc", 5, "counted")
    with pytest.raises(StockRefused, match="0 quarantined"):
        act(WAREHOUSE, "k-q-3", "MUG-CLASSIC", "dammam-3pl", 1, "counted")
    with pytest.raises(StockRefused, match="reason"):
        act(WAREHOUSE, "k-q-4", "MUG-CLASSIC", "riyadh-dc", 1, "  ")
    with pytest.raises(Forbidden, match="adjust stock is not allowed for agent"):
        act(AGENT, "k-q-5", "MUG-CLASSIC", "riyadh-dc", 1, "counted")
    assert counts(world, "MUG-CLASSIC", "riyadh-dc") == (10, 3, 7, 4) and world.audit == {}


def test_a_race_with_a_reservation_is_decided_again_on_fresh_counters(world, stock):
    inventory = stock.inventory
    real_stock, raced = inventory.stock, []

    def stock_then_race(sku, location_id):
        found = real_stock(sku, location_id)
        if not raced:  # a reservation lands between the read and the commit
            raced.append(True)
            level = world.stock[(sku, location_id)]
            world.stock[(sku, location_id)] = level.model_copy(update={"reserved": 4, "available": 6})
        return found

    inventory.stock = stock_then_race
    outcome = stock.release(WAREHOUSE, "k-q-6", "MUG-CLASSIC", "riyadh-dc", 1, "fixed")
    assert outcome.audit.before["available"] == 6 and outcome.audit.after["available"] == 7
    assert counts(world, "MUG-CLASSIC", "riyadh-dc") == (11, 4, 7, 3)


# --- the console's inspection form ----------------------------------------------------------------------------------

def test_the_consoles_inspection_form_quarantines_or_writes_off_per_line(shop):
    from dataclasses import dataclass
    from typing import Any

    from dawra.app.backoffice import ViewOrderFile
    from dawra.web.console import Console
    from dawra.web.http import WebRequest
    from dawra.web.security import SESSION_COOKIE, csrf_token

    key = b"console-session-key"
    claims = {"sub": "u-wh", "cognito:username": "warehouse", "cognito:groups": "warehouse", "iat": 1}

    @dataclass(frozen=True)
    class Office:
        view_order: Any

    @dataclass(frozen=True)
    class Uses:
        decide: Any
        receive: Any
        inspect: Any

    class Log:
        def info(self, *args: Any, **kwargs: Any) -> None:
            pass

        exception = info

    returns = Returns(shop)
    console = Console(Office(ViewOrderFile(shop.orders, returns.audit)), lambda token: claims,  # type: ignore
                      lambda *_: None, lambda: key, Log(),  # type: ignore[arg-type]
                      Uses(returns.decide, returns.receive, returns.inspect))

    def inspect(order_id: str, return_id: str, form_key: str, **fields: str) -> Any:
        form = {"csrf": [csrf_token(key, claims)], "key": [form_key], **{k: [v] for k, v in fields.items()}}
        return console.handle(WebRequest("POST", f"/admin/orders/{order_id}/returns/{return_id}/inspect", form=form,
                                         cookies={SESSION_COOKIE: "warehouse"}))

    order_id, return_id = damaged_return_received(shop, returns)
    body = console.handle(WebRequest("GET", f"/admin/orders/{order_id}", cookies={SESSION_COOKIE: "warehouse"})).body
    assert 'name="write_off.PRAYER-MAT"' in body
    before = counts(shop, "PRAYER-MAT", "riyadh-dc")
    sellable = inspect(order_id, return_id, "form-key-01", **{"outcome.PRAYER-MAT": "sellable",
                                                               "write_off.PRAYER-MAT": "1"})
    assert sellable.status == 422 and "only damaged or tampered units are written off" in sellable.body
    done = inspect(order_id, return_id, "form-key-02", **{"outcome.PRAYER-MAT": "damaged",
                                                           "note.PRAYER-MAT": "burnt", "write_off.PRAYER-MAT": "1"})
    assert done.status == 303 and counts(shop, "PRAYER-MAT", "riyadh-dc") == before
    assert returns.get(order_id, return_id).lines[0].disposition == Disposition.WRITE_OFF
    body = console.handle(WebRequest("GET", f"/admin/orders/{order_id}", cookies={SESSION_COOKIE: "warehouse"})).body
    assert 'data-disposition="write_off"' in body and "Written off at inspection" in body

    other = returns.request(order_id, "ret-key-2", asking({"PRAYER-MAT": (1, ReturnReason.DAMAGED)}))
    returns.back(order_id, other.return_id)
    kept = inspect(order_id, other.return_id, "form-key-03", **{"outcome.PRAYER-MAT": "tampered",
                                                                 "note.PRAYER-MAT": "seal cut"})
    assert kept.status == 303 and counts(shop, "PRAYER-MAT", "riyadh-dc")[3] == before[3] + 1
