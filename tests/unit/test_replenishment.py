"""Replenishment: a reorder point and target per stock item (set by a manager, audited), the low-stock alert with
hysteresis inside the writes that change stock, the report and the suggested transfers, approved into a transfer."""

from __future__ import annotations

import pytest
from fakes import FakeAuditLog, FakeInventory, FakeOpsAlerts

from dawra.app.replenishment import Replenishment
from dawra.app.reserve import ReserveStock
from dawra.app.stock import StockActions
from dawra.domain.access import Actor, Role
from dawra.domain.errors import Forbidden
from dawra.domain.inventory import (
    CounterChange,
    HoldCase,
    Reservation,
    StockLevel,
    StockRefused,
    TransferState,
    adjust,
    crossed_below,
    hold,
)
from dawra.domain.replenishment import plan, set_policy

MANAGER = Actor(user_id="u-mgr", username="majed", roles=frozenset({Role.MANAGER}))
WAREHOUSE = Actor(user_id="u-wh", username="wafa", roles=frozenset({Role.WAREHOUSE}))


class Desk:
    def __init__(self, shop):
        self.shop = shop
        self.alerts = FakeOpsAlerts()
        inventory = FakeInventory(shop.world)
        self.stock = StockActions(inventory, inventory, shop.uow, FakeAuditLog(shop.world), shop.clock, self.alerts)
        self.reserve = ReserveStock(shop.orders, inventory, shop.uow, shop.clock, self.alerts)
        self.replenishment = Replenishment(inventory, inventory, self.stock)
        self.keys = 0

    def key(self) -> str:
        self.keys += 1
        return f"key-{self.keys:08d}"

    def low(self) -> list[tuple[str, str]]:
        return [alert for alert in self.alerts.alerts if alert[0].startswith("low ")]

    def order(self, sku: str, quantity: int) -> str:
        order_id = self.shop.place({sku: quantity}, key=self.key())
        self.reserve(order_id)
        return order_id


@pytest.fixture
def desk(shop) -> Desk:
    return Desk(shop)


def level(**fields) -> StockLevel:
    base = {"sku": "S", "location_id": "L", "on_hand": 10, "reserved": 0, "available": 10}
    return StockLevel.model_validate(base | fields)


# --- hysteresis ---------------------------------------------------------------------------------------------------


def test_adjustments_down_down_up_down_alert_exactly_twice(desk):
    desk.stock.set_plan(MANAGER, desk.key(), "DATES-1KG", "riyadh-dc", 20, 30, "weekly count")  # 25 available
    for delta in (-6, -2, +10, -8):  # 19 (crosses), 17, 27 (recovered), 19 (crosses again)
        desk.stock.adjust(MANAGER, desk.key(), "DATES-1KG", "riyadh-dc", delta, "count")
    assert desk.low() == [("low DATES-1KG@riyadh-dc", "19 available, reorder point 20")] * 2
    assert desk.shop.stock("DATES-1KG", "riyadh-dc").low


def test_reservations_down_down_release_up_down_alert_exactly_twice(desk):
    desk.stock.set_plan(MANAGER, desk.key(), "DATES-1KG", "riyadh-dc", 20, 30, "weekly count")
    first = desk.order("DATES-1KG", 6)  # 25 -> 19: crosses
    assert desk.shop.stock("DATES-1KG", "riyadh-dc").low and len(desk.low()) == 1
    desk.order("DATES-1KG", 2)  # 19 -> 17: already low
    desk.shop.release(first)  # 17 -> 23: recovered (the release leaves the flag: it is read as recovered)
    assert desk.shop.stock("DATES-1KG", "riyadh-dc").available == 23
    desk.order("DATES-1KG", 4)  # 23 -> 19: crosses again
    assert len(desk.low()) == 2


def test_an_ordinary_order_without_a_reorder_point_stays_unflagged_and_quiet(desk):
    desk.order("DATES-1KG", 24)
    assert desk.low() == [] and not desk.shop.stock("DATES-1KG", "riyadh-dc").low


def test_a_hold_planned_on_stale_stock_is_refused_and_replanned_so_the_alert_is_decided_on_fresh_stock(desk):
    desk.stock.set_plan(MANAGER, desk.key(), "DATES-1KG", "riyadh-dc", 20, 30, "weekly count")
    order_id = desk.shop.place({"DATES-1KG": 1}, key=desk.key())
    original = desk.reserve.inventory.levels

    def racing(skus, locations):
        seen = original(skus, locations)  # 25 available: the hold is planned as staying above
        desk.shop.world.stock[("DATES-1KG", "riyadh-dc")] = desk.shop.stock("DATES-1KG", "riyadh-dc").model_copy(
            update={"available": 20, "reserved": 5})  # another order took 5 meanwhile
        desk.reserve.inventory.levels = original
        return seen

    desk.reserve.inventory.levels = racing
    desk.reserve(order_id)
    assert desk.shop.stock("DATES-1KG", "riyadh-dc").available == 19
    assert desk.low() == [("low DATES-1KG@riyadh-dc", "19 available, reorder point 20")]


@pytest.mark.parametrize(("available", "low", "quantity", "case"), [
    (25, False, 5, HoldCase.ABOVE), (25, False, 6, HoldCase.CROSSING), (20, True, 1, HoldCase.CROSSING),
    (19, True, 1, HoldCase.BELOW), (19, False, 1, HoldCase.BELOW_UNFLAGGED)])
def test_hold_cases(available, low, quantity, case):
    move = hold(Reservation(order_id="o", shipment_id="s", sku="S", location_id="L", quantity=quantity),
                level(available=available, on_hand=available, reorder_point=20, target=30, low=low))
    assert move.watch is not None and move.watch.case == case
    assert move.watch.alerts == (case in (HoldCase.CROSSING, HoldCase.BELOW_UNFLAGGED))


def test_crossed_below_counts_a_stale_flag_as_recovered():
    stale = level(available=25, reorder_point=20, target=30, low=True)
    assert crossed_below(adjust(stale, "S", "L", -6))
    low = level(available=19, reorder_point=20, target=30, low=True)
    assert not crossed_below(adjust(low, "S", "L", -1))
    assert not adjust(low, "S", "L", +1).after.low  # back at the reorder point: written recovered
    assert not crossed_below(CounterChange(before=None, after=level(available=1)))


# --- the plan set by a manager --------------------------------------------------------------------------------------


def test_set_plan_is_audited_manager_only_and_validated(desk):
    outcome = desk.stock.set_plan(MANAGER, "key-plan-0001", "MUG-CLASSIC", "jeddah-store", 8, 12, "store minimum")
    assert outcome.audit.action == "set_replenishment" and outcome.audit.subject == "stock:MUG-CLASSIC@jeddah-store"
    assert outcome.audit.before["reorder_point"] is None
    assert {k: outcome.audit.after[k] for k in ("reorder_point", "target", "low")} == {
        "reorder_point": 8, "target": 12, "low": True}
    assert desk.low() == [("low MUG-CLASSIC@jeddah-store", "5 available, reorder point 8")]  # below at once
    again = desk.stock.set_plan(MANAGER, "key-plan-0001", "MUG-CLASSIC", "jeddah-store", 8, 12, "store minimum")
    assert again.replayed and len(desk.low()) == 1
    with pytest.raises(Forbidden):
        desk.stock.set_plan(WAREHOUSE, desk.key(), "MUG-CLASSIC", "jeddah-store", 8, 12, "store minimum")
    with pytest.raises(StockRefused, match="below the reorder point"):
        desk.stock.set_plan(MANAGER, desk.key(), "MUG-CLASSIC", "jeddah-store", 8, 4, "typo")
    with pytest.raises(StockRefused, match="both"):
        set_policy(level(), "S", "L", 3, None)
    cleared = desk.stock.set_plan(MANAGER, desk.key(), "MUG-CLASSIC", "jeddah-store", None, None, "no longer kept")
    assert cleared.levels[0].reorder_point is None and not cleared.levels[0].low


# --- report and suggestions ---------------------------------------------------------------------------------------


def test_plan_orders_up_to_target_counting_in_transit_and_suggests_the_smaller_of_shortfall_and_excess():
    levels = [level(sku="A", location_id="jed", available=3, in_transit=2, reorder_point=5, target=15),
              level(sku="A", location_id="ruh", available=40, reorder_point=10, target=30),
              level(sku="A", location_id="dmm", available=12, reorder_point=10, target=20),
              level(sku="B", location_id="jed", available=1, reorder_point=2, target=4),
              level(sku="B", location_id="ruh", available=9)]  # no target: never a source
    report = plan(levels)
    assert [(line.sku, line.location_id, line.order_quantity) for line in report.reorder] == [
        ("A", "jed", 10), ("B", "jed", 3)]
    assert [(s.sku, s.from_location, s.to_location, s.quantity, s.shortfall, s.excess) for s in report.transfers] == [
        ("A", "ruh", "jed", 10, 10, 10)]  # dmm is short too, but ruh's excess is gone to jed


def test_plan_shares_one_excess_between_two_short_locations_largest_shortfall_first():
    levels = [level(sku="A", location_id="jed", available=3, reorder_point=5, target=15),  # short 12
              level(sku="A", location_id="dmm", available=12, reorder_point=10, target=20),  # short 8
              level(sku="A", location_id="ruh", available=45, reorder_point=10, target=30)]  # excess 15
    assert [(s.from_location, s.to_location, s.quantity) for s in plan(levels).transfers] == [
        ("ruh", "jed", 12), ("ruh", "dmm", 3)]


def test_report_and_approve_a_suggestion_into_a_transfer_then_receive_it(desk):
    desk.stock.set_plan(MANAGER, desk.key(), "MUG-CLASSIC", "jeddah-store", 8, 12, "store minimum")
    desk.stock.set_plan(MANAGER, desk.key(), "MUG-CLASSIC", "riyadh-dc", 10, 30, "dc minimum")
    report = desk.replenishment.report(MANAGER)
    assert [(line.location_id, line.order_quantity) for line in report.reorder] == [("jeddah-store", 7)]
    assert [(s.from_location, s.to_location, s.quantity) for s in report.transfers] == [
        ("riyadh-dc", "jeddah-store", 7)]
    with pytest.raises(StockRefused, match="suggests moving 7"):
        desk.replenishment.approve(MANAGER, desk.key(), "MUG-CLASSIC", "riyadh-dc", "jeddah-store", 8)
    sent = desk.replenishment.approve(MANAGER, "key-approve-01", "MUG-CLASSIC", "riyadh-dc", "jeddah-store", 7)
    assert sent.transfer is not None and sent.transfer.state == TransferState.IN_TRANSIT
    again = desk.replenishment.approve(MANAGER, "key-approve-01", "MUG-CLASSIC", "riyadh-dc", "jeddah-store", 7)
    assert again.replayed and again.transfer == sent.transfer
    after = desk.replenishment.report(MANAGER)
    assert after.transfers == [] and [line.order_quantity for line in after.reorder] == [0]  # 7 on its way
    received = desk.stock.receive(MANAGER, desk.key(), sent.transfer.transfer_id)
    assert received.transfer is not None and received.transfer.state == TransferState.RECEIVED
    assert desk.shop.stock("MUG-CLASSIC", "jeddah-store").available == 12
    assert not desk.shop.stock("MUG-CLASSIC", "jeddah-store").low
    assert desk.replenishment.report(MANAGER).reorder == []
    with pytest.raises(Forbidden):
        desk.replenishment.report(WAREHOUSE)


# --- the console's page -------------------------------------------------------------------------------------------


def test_the_console_sets_a_plan_shows_the_report_in_english_and_arabic_and_approves_a_suggestion(desk):
    from dataclasses import dataclass

    from console_desk import KEY, MANAGER_CLAIMS, console_over

    from dawra.web.http import WebRequest
    from dawra.web.security import SESSION_COOKIE, csrf_token

    claims = {**MANAGER_CLAIMS,
              "warehouse": {"sub": "u-wh", "cognito:username": "wafa", "cognito:groups": "warehouse", "iat": 1}}

    @dataclass(frozen=True)
    class Office:
        stock: StockActions
        replenishment: Replenishment

    console = console_over(Office(desk.stock, desk.replenishment), claims)

    def post(who: str, path: str, key: str, fields: dict[str, str]):
        form = {"csrf": [csrf_token(KEY, claims[who])], "key": [key], **{n: [v] for n, v in fields.items()}}
        return console.handle(WebRequest("POST", path, form=form, cookies={SESSION_COOKIE: who}))

    def get(who: str) -> tuple[int, str]:
        page = console.handle(WebRequest("GET", "/admin/replenishment", cookies={SESSION_COOKIE: who}))
        return page.status, str(page.body)

    plan_form = {"sku": "mug-classic", "location": "jeddah-store", "reorder_point": "٨", "target": "12",
                 "reason": "<b>store</b> minimum"}
    posted = post("manager", "/admin/replenishment/plan", "form-key-0001", plan_form)
    assert posted.status == 303 and posted.headers["Location"].endswith("done=set_plan"), posted.body
    post("manager", "/admin/replenishment/plan", "form-key-0002",
         {"sku": "MUG-CLASSIC", "location": "riyadh-dc", "reorder_point": "10", "target": "30", "reason": "dc"})
    status, body = get("manager")
    assert status == 200
    assert 'data-sku="MUG-CLASSIC" data-location="jeddah-store"' in body
    assert 'data-sku="MUG-CLASSIC" data-from="riyadh-dc" data-to="jeddah-store"' in body
    assert "Under the reorder point" in body
    stock_page = str(console.handle(WebRequest("GET", "/admin/stock", query={"sku": ["MUG-CLASSIC"]},
                                               cookies={SESSION_COOKIE: "manager"})).body)
    assert "8 / 12 <span" in stock_page and stock_page.count('data-low="true"') == 1  # jeddah low, riyadh not
    status, arabic = get("manager-ar")
    assert 'dir="rtl"' in arabic and "دون حد إعادة الطلب" in arabic and "تحويلات مقترحة" in arabic
    bad = post("manager", "/admin/replenishment/plan", "form-key-0003",
               {"sku": "MUG-CLASSIC", "location": "jeddah-store", "reorder_point": "9", "target": "3", "reason": "x"})
    assert bad.status == 409 and "below the reorder point" in str(bad.body)  # StockRefused, as adjustments
    approved = post("manager", "/admin/replenishment/approve", "form-key-0004",
                    {"sku": "MUG-CLASSIC", "from_location": "riyadh-dc", "to_location": "jeddah-store",
                     "quantity": "7"})
    assert approved.status == 303 and approved.headers["Location"].endswith("done=approve_transfer")
    assert desk.shop.stock("MUG-CLASSIC", "jeddah-store").in_transit == 7
    assert 'data-from="riyadh-dc"' not in get("manager")[1]
    assert get("warehouse")[0] == 403
    assert post("warehouse", "/admin/replenishment/plan", "form-key-0005", plan_form).status == 403


def test_a_feed_row_taking_an_item_below_its_reorder_point_alerts_once(desk):
    from fakes import FakeStockFeeds

    from dawra.app.stock_feeds import StockFeedImports
    from dawra.domain.stock_feeds import FeedFormat

    desk.stock.set_plan(MANAGER, desk.key(), "DATES-1KG", "riyadh-dc", 20, 30, "weekly count")  # 25 available
    inventory = FakeInventory(desk.shop.world)
    imports = StockFeedImports(inventory, FakeStockFeeds(), desk.shop.uow, FakeAuditLog(desk.shop.world),
                               desk.alerts, desk.shop.clock, workers=1)
    for n, on_hand in enumerate((18, 15, 22, 19)):  # down (crosses), down, up (recovered), down (crosses again)
        imports.upload(MANAGER, f"erp-{n}", "s.csv", FeedFormat.CSV, f"sku,location_id,on_hand\nDATES-1KG,riyadh-dc,"
                                                                      f"{on_hand}\n")
    assert desk.low() == [("low DATES-1KG@riyadh-dc", "18 available, reorder point 20"),
                          ("low DATES-1KG@riyadh-dc", "19 available, reorder point 20")]
