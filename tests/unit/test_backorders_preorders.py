"""Backorders and preorders: the catalog's stock policy per SKU (refuse, backorder until a restock date, preorder
until a release date); a waiting order is confirmed with a promise from that date, joins a FIFO waiting list per SKU,
is reserved when stock arrives (oldest first, never skipping an older order that fits), a preorder never before its
release day; a late stock is told to the customer, and after the last delay the order is cancelled."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fakes import LINK_KEY, FakeAuditLog, FakeOrderSearch, FakeRateLimits, FakeStockWaiters
from test_customer_page import Log, RecordingActions, get

from dawra.app.backorders import AwaitStock, ServeWaitingOrders, StockDue, StockWaitRules
from dawra.app.order_page import OpenOrderLink, SendOrderLink
from dawra.app.reserve import ReserveStock
from dawra.app.stock import StockActions
from dawra.domain.access import Actor, Role
from dawra.domain.availability import (
    AwaitingStock,
    BackorderPolicy,
    ShortOfStock,
    StockNeverArrived,
    StockPolicy,
    released,
)
from dawra.domain.notifications import deserves_message
from dawra.domain.promise import awaited_promise, latest_promise
from dawra.domain.timeline import TimelineKind
from dawra.local.seed import LOCATIONS
from dawra.web.customer import CustomerSite

WAREHOUSE = Actor(user_id="u-wh", username="wafa", roles=frozenset({Role.WAREHOUSE}))
RESTOCK = date(2026, 12, 1)  # the clock: Monday 23 November 2026, 09:00 UTC
RELEASE = date(2026, 12, 10)


class Backorders:
    def __init__(self, shop):
        self.shop = shop
        w, o, i, u, c = shop.world, shop.orders, shop.inventory, shop.uow, shop.clock
        w.catalog["PRAYER-MAT"] = w.catalog["PRAYER-MAT"].model_copy(
            update={"stock_policy": StockPolicy(kind="backorder", until=RESTOCK)})
        w.catalog["DALLAH-BRASS"] = w.catalog["DALLAH-BRASS"].model_copy(
            update={"stock_policy": StockPolicy(kind="preorder", until=RELEASE)})
        w.set_stock("PRAYER-MAT", "riyadh-dc", 0)  # sold out: every order of mats waits
        self.waiters = FakeStockWaiters(w)
        self.reserve = ReserveStock(o, i, u, c, waiters=self.waiters)
        self.serve = ServeWaitingOrders(o, self.waiters, self.reserve, shop.workflow)
        self.due = StockDue(o, u, i, self.serve, c, StockWaitRules(grace=timedelta(hours=24), delay_days=7,
                                                                     max_delays=2))
        self.park = AwaitStock(o, u, shop.workflow)
        self.stock = StockActions(i, i, u, FakeAuditLog(w), c, waiting=self.serve)

    def waiting_order(self, lines: dict[str, int], key: str) -> str:
        """Placed, its reservation waits (into the lists), its workflow parked on the token named after the key."""
        order_id = self.shop.place(lines, key=key)
        with pytest.raises(AwaitingStock):
            self.reserve(order_id)
        assert self.due(order_id).timeout_s >= 1
        assert self.park(order_id, f"token-{key}") == {"waiting": True}
        return order_id

    def arrive(self, sku: str, units: int, key: str) -> None:
        self.stock.adjust(WAREHOUSE, key, sku, "riyadh-dc", units, "goods received from the supplier")


@pytest.fixture
def b(shop) -> Backorders:
    return Backorders(shop)


# --- the policy at checkout ----------------------------------------------------------------------------------------
def test_the_default_and_refuse_policies_refuse_an_order_beyond_the_stock(shop, b):
    shop.world.catalog["MUG-CLASSIC"] = shop.world.catalog["MUG-CLASSIC"].model_copy(
        update={"stock_policy": StockPolicy(kind="refuse")})
    with pytest.raises(ShortOfStock):
        shop.place({"MUG-CLASSIC": 46})  # 45 in stock, refused
    with pytest.raises(ShortOfStock):
        shop.place({"DATES-1KG": 36}, key="key-dates")  # no policy: refused as before
    with pytest.raises(ValueError, match="needs its date"):
        StockPolicy(kind="backorder")


def test_a_backordered_order_is_confirmed_with_a_promise_from_the_restock_date(shop, b):
    order_id = shop.place({"PRAYER-MAT": 3, "MUG-CLASSIC": 1})
    order = shop.orders.get(order_id)
    assert order.status == "CONFIRMED" and order.awaiting is not None
    assert (order.awaiting.kind, order.awaiting.skus, order.awaiting.due) == ("backorder", ("PRAYER-MAT",), RESTOCK)
    placed = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    from_restock = awaited_promise(placed, RESTOCK, LOCATIONS, "SA", "standard")
    assert order.promised_by == from_restock.isoformat()
    assert from_restock > latest_promise(placed, LOCATIONS, "SA", "standard")  # later than an ordinary order's
    [confirmed] = [e for e in shop.orders.timeline(order_id) if e.kind == TimelineKind.ORDER_CONFIRMED]
    assert confirmed.detail["awaiting"] == "backorder" and confirmed.detail["available_from"] == "2026-12-01"
    assert deserves_message(confirmed)  # told at once (an ordinary order hears when its stock is reserved)
    assert shop.notify(confirmed, sender="r") == "sent by email"
    [email] = shop.messenger.sent
    assert "back order" in email["text"] and "2026-12-01" in email["text"] and from_restock.isoformat() in email["html"]


def test_a_preorder_waits_for_its_release_even_with_stock_and_sells_ordinarily_after_it(shop, b):
    order = shop.orders.get(shop.place({"DALLAH-BRASS": 1}))  # 3 in Jeddah
    assert order.awaiting is not None and (order.awaiting.kind, order.awaiting.due) == ("preorder", RELEASE)
    assert not released(order.awaiting, date(2026, 12, 9)) and released(order.awaiting, RELEASE)
    policy = BackorderPolicy.of({"DALLAH-BRASS": StockPolicy(kind="preorder", until=RELEASE)}, RELEASE)
    assert policy.awaited({"DALLAH-BRASS": 1}, {("DALLAH-BRASS", "jeddah-store"): 3}, RELEASE) is None
    assert not policy.allows("DALLAH-BRASS")  # released: refused when short, as any SKU


def test_an_arabic_customer_hears_of_a_preorder_in_arabic(shop, b):
    order_id = shop.place({"DALLAH-BRASS": 1}, contact={"email": "huda@example.com", "language": "ar"})
    [confirmed] = [e for e in shop.orders.timeline(order_id) if e.kind == TimelineKind.ORDER_CONFIRMED]
    shop.notify(confirmed, sender="r")
    [email] = shop.messenger.sent
    assert "طلب مسبق" in email["text"] and "2026-12-10" in email["text"]


# --- waiting, and the stock's arrival --------------------------------------------------------------------------------
def test_a_backordered_order_that_cannot_be_reserved_joins_the_list_and_its_workflow_waits(shop, b):
    order_id = b.waiting_order({"PRAYER-MAT": 2}, "k1")
    [entry] = b.waiters.waiting("PRAYER-MAT")
    assert (entry.order_id, entry.quantity) == (order_id, 2)
    assert shop.stock("PRAYER-MAT", "riyadh-dc").waiting  # its stock items say somebody waits
    order = shop.orders.get(order_id)
    assert order.status == "CONFIRMED" and order.stock_token == "token-k1" and not order.shipments


def test_arriving_stock_serves_three_waiting_orders_oldest_first_without_skipping_one_that_fits(shop, b):
    a = b.waiting_order({"PRAYER-MAT": 2}, "ka")
    shop.clock.advance(minutes=1)
    big = b.waiting_order({"PRAYER-MAT": 3}, "kb")
    shop.clock.advance(minutes=1)
    c = b.waiting_order({"PRAYER-MAT": 1}, "kc")
    b.arrive("PRAYER-MAT", 4, "adj-1")  # 4 units: the oldest (2) fits, the next (3) does not, the youngest (1) does
    assert set(shop.workflow.resumed) == {"token-ka", "token-kc"}
    assert shop.workflow.resumed["token-ka"]["shipments"][0]["location_id"] == "riyadh-dc"
    assert shop.orders.get(a).status == shop.orders.get(c).status == "ALLOCATED"
    assert shop.orders.get(big).status == "CONFIRMED"
    assert [e.order_id for e in b.waiters.waiting("PRAYER-MAT")] == [big]  # kept its place
    assert shop.stock("PRAYER-MAT", "riyadh-dc").available == 1
    b.arrive("PRAYER-MAT", 2, "adj-2")
    assert "token-kb" in shop.workflow.resumed and shop.orders.get(big).status == "ALLOCATED"
    assert b.waiters.waiting("PRAYER-MAT") == [] and not shop.stock("PRAYER-MAT", "riyadh-dc").waiting
    assert shop.stock("PRAYER-MAT", "riyadh-dc").available == 0


def test_an_older_order_that_fits_is_served_before_a_younger_one(shop, b):
    first = b.waiting_order({"PRAYER-MAT": 2}, "k1")
    shop.clock.advance(minutes=1)
    second = b.waiting_order({"PRAYER-MAT": 2}, "k2")
    b.arrive("PRAYER-MAT", 2, "adj")
    assert shop.orders.get(first).status == "ALLOCATED" and shop.orders.get(second).status == "CONFIRMED"
    assert list(shop.workflow.resumed) == ["token-k1"]


def test_a_preorder_is_not_reserved_before_its_release_day_even_when_stock_arrives(shop, b):
    order_id = b.waiting_order({"DALLAH-BRASS": 1}, "kp")
    b.stock.adjust(WAREHOUSE, "adj-d", "DALLAH-BRASS", "jeddah-store", 5, "more dallahs")
    assert shop.orders.get(order_id).status == "CONFIRMED" and not shop.workflow.resumed
    wait = b.due(order_id)  # WaitForStock's timer: until the release day
    assert wait.timeout_s == int((datetime(2026, 12, 10, tzinfo=UTC) - shop.clock.now()).total_seconds())
    shop.clock.moment = datetime(2026, 12, 10, 0, 0, 5, tzinfo=UTC)  # the timer fires on the release day
    assert b.due(order_id).timeout_s == 1  # served (the whole list, oldest first): WaitForStock goes on at once
    order = shop.orders.get(order_id)
    assert order.status == "ALLOCATED" and order.shipments[0].location_id == "jeddah-store"
    # The timer's task token was spent by the timeout; the new WaitForStock finds the order reserved and goes on.
    assert b.park(order_id, "token-after") == {"waiting": False}
    assert shop.workflow.resumed["token-after"]["shipments"][0]["shipment_id"] == order.shipments[0].shipment_id


def test_ordinary_orders_and_stock_writes_never_look_at_a_waiting_list(shop, b):
    order_id = shop.place({"MUG-CLASSIC": 2}, key="key-ordinary")
    assert shop.orders.get(order_id).awaiting is None
    b.reserve(order_id)
    b.stock.adjust(WAREHOUSE, "adj-mug", "MUG-CLASSIC", "riyadh-dc", 10, "count")
    assert b.waiters.queries == 0 and b.waiters.entries == {}
    [placed] = [e for e in shop.orders.timeline(order_id) if e.kind == TimelineKind.ORDER_CONFIRMED]
    assert "awaiting" not in placed.detail and not deserves_message(placed)


# --- late stock ----------------------------------------------------------------------------------------------------
def test_late_stock_is_told_with_a_new_date_and_after_the_last_delay_the_order_is_cancelled(shop, b):
    order_id = b.waiting_order({"PRAYER-MAT": 1}, "kl")
    shop.clock.moment = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # the restock day: within the grace, nothing said
    assert b.due(order_id).timeout_s == 23 * 3600
    assert TimelineKind.STOCK_DELAYED.value not in shop.world.timeline_kinds(order_id)
    shop.clock.moment = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # past the grace: late
    assert b.due(order_id).timeout_s == 7 * 24 * 3600  # until the new date, a week on
    order = shop.orders.get(order_id)
    assert order.awaiting is not None and (order.awaiting.due, order.awaiting.delays) == (date(2026, 12, 9), 1)
    [late] = [e for e in shop.orders.timeline(order_id) if e.kind == TimelineKind.STOCK_DELAYED]
    assert late.detail["available_from"] == "2026-12-09" and late.detail["new_estimate"] == order.promised_by
    assert order.promised_by > "2026-12-09"
    assert b.due(order_id).timeout_s == 7 * 24 * 3600  # a retry says the same, tells nothing twice
    assert shop.world.timeline_kinds(order_id).count("stock_delayed") == 1
    assert shop.notify(late, sender="r") == "sent by email"
    [email] = shop.messenger.sent
    assert "2026-12-09" in email["text"] and "later than we said" in email["subject"]
    shop.clock.moment = datetime(2026, 12, 10, 0, 0, tzinfo=UTC)  # the new date and its grace passed
    b.due(order_id)  # the second delay: 2026-12-17
    assert shop.orders.get(order_id).awaiting.delays == 2
    shop.clock.moment = datetime(2026, 12, 18, 0, 0, tzinfo=UTC)
    with pytest.raises(StockNeverArrived):  # past the last: cancelled through the compensation
        b.due(order_id)
    shop.release(order_id)  # the workflow's ReleaseStock (nothing was reserved), then CancelOrder
    shop.cancel(order_id, "StockNeverArrived")
    cancelled = shop.orders.get(order_id)
    assert cancelled.status == "CANCELLED" and cancelled.payment.voided


def test_the_delay_notice_is_in_arabic_for_an_arabic_customer_and_escaped(shop, b):
    order_id = shop.place({"PRAYER-MAT": 1}, contact={"email": "huda@example.com", "language": "ar"},
                          shipping_address={"name": "<b>Huda</b>", "line1": "7 Tahlia St", "city": "Riyadh",
                                            "country": "SA"})
    with pytest.raises(AwaitingStock):
        b.reserve(order_id)
    shop.clock.moment = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)
    b.due(order_id)
    [late] = [e for e in shop.orders.timeline(order_id) if e.kind == TimelineKind.STOCK_DELAYED]
    shop.notify(late, sender="r")
    [email] = shop.messenger.sent
    assert "نعتذر" in email["subject"] and "2026-12-09" in email["text"]
    assert "<b>Huda</b>" not in email["html"] and "&lt;b&gt;Huda&lt;/b&gt;" in email["html"]


def test_a_cancellation_asked_while_waiting_fails_the_parked_task(shop, b):
    order_id = b.waiting_order({"PRAYER-MAT": 1}, "kx")
    order = shop.orders.get(order_id)
    order.request_cancellation("changed my mind", shop.clock.now().isoformat(), "req-1", by="customer")
    shop.uow.commit(order=order)
    assert b.park(order_id, "token-again") == {"waiting": False}
    assert shop.workflow.failed["token-again"][0] == "CancelledByCustomer"
    b.arrive("PRAYER-MAT", 1, "adj")  # the stock that comes next is not held for it
    assert shop.orders.get(order_id).status == "CONFIRMED" and b.waiters.waiting("PRAYER-MAT") == []


# --- the order page ---------------------------------------------------------------------------------------------------
def test_the_order_page_shows_what_a_waiting_order_waits_for_until_it_is_reserved(shop, b):
    send = SendOrderLink(FakeOrderSearch(shop.world), shop.orders, shop.uow, FakeRateLimits(), lambda: LINK_KEY,
                         shop.clock, ["SA"])
    page_site = CustomerSite(OpenOrderLink(shop.orders, lambda: LINK_KEY, shop.clock), send, shop.links,
                             RecordingActions(shop), Log())
    order_id = b.waiting_order({"DALLAH-BRASS": 1}, "kpage")
    token = shop.links.token(shop.orders.get(order_id))
    english = get(page_site, f"/my-order/{token}?lang=en")
    assert english.status == 200 and 'data-testid="awaiting" data-kind="preorder"' in english.body
    assert "Pre-order: released on" in english.body
    arabic = get(page_site, f"/my-order/{token}?lang=ar")
    assert "طلب مسبق: يُطرح في" in arabic.body
    shop.clock.moment = datetime(2026, 12, 10, 0, 0, 5, tzinfo=UTC)
    b.due(order_id)  # released and reserved
    assert 'data-testid="awaiting"' not in get(page_site, f"/my-order/{token}?lang=en").body


def test_stock_at_a_new_location_and_a_transfer_received_serve_the_waiting_order_too(shop, b):
    order_id = b.waiting_order({"PRAYER-MAT": 3}, "kt")
    b.arrive("PRAYER-MAT", 2, "adj-1")  # riyadh-dc: 2, not enough
    sent = b.stock.transfer(WAREHOUSE, "trf-1", "PRAYER-MAT", "riyadh-dc", "jeddah-store", 2, "to the store")
    assert shop.stock("PRAYER-MAT", "jeddah-store").waiting  # a new stock item carries its source's flag
    b.arrive("PRAYER-MAT", 1, "adj-2")  # riyadh-dc: 1, and 2 in transit: still not enough
    assert shop.orders.get(order_id).status == "CONFIRMED"
    assert sent.transfer is not None
    b.stock.receive(WAREHOUSE, "rcv-1", sent.transfer.transfer_id)  # 1 + 2: the order is served from both
    order = shop.orders.get(order_id)
    assert order.status == "ALLOCATED" and {s.location_id for s in order.shipments} == {"riyadh-dc", "jeddah-store"}
    assert "token-kt" in shop.workflow.resumed


def test_stock_counted_where_the_sku_was_never_kept_looks_at_the_list(shop, b):
    order_id = b.waiting_order({"PRAYER-MAT": 2}, "kn")
    b.stock.adjust(WAREHOUSE, "adj-new", "PRAYER-MAT", "dammam-3pl", 2, "found at the 3PL")  # a new stock item
    assert shop.orders.get(order_id).shipments[0].location_id == "dammam-3pl"


def test_an_order_joining_while_the_list_is_being_emptied_keeps_its_flag(shop, b):
    first = b.waiting_order({"PRAYER-MAT": 1}, "k1")
    shop.clock.advance(minutes=1)
    late = shop.place({"PRAYER-MAT": 1}, key="key-late")
    waiters, world = b.waiters, shop.world

    class Racing(type(waiters)):
        def unflag(self, sku):  # another order joins (entry and flags) after the list was found empty
            with pytest.raises(AwaitingStock):
                b.reserve(late)
            super().unflag(sku)  # ... and the serve clears the flags it just set

    racing = Racing(world)
    racing.entries = waiters.entries
    b.serve.waiters = b.reserve.waiters = racing
    b.arrive("PRAYER-MAT", 1, "adj")
    assert shop.orders.get(first).status == "ALLOCATED"
    assert [e.order_id for e in racing.waiting("PRAYER-MAT")] == [late]
    assert shop.stock("PRAYER-MAT", "riyadh-dc").waiting  # flagged again: the next arrival serves it
