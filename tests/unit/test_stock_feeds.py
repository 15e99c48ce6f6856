"""Stock feeds: absolute or delta stock per sku x location from an ERP or a 3PL, CSV or JSON; a row-level report;
idempotent by feed id; each row applied alone with its audit entry; reservations never broken."""

from __future__ import annotations

import json

import pytest
from fakes import (
    FakeAuditLog,
    FakeInventory,
    FakeOpsAlerts,
    FakeStockFeeds,
    FakeUnitOfWork,
    FixedClock,
    World,
)

from dawra.app.stock_feeds import StockFeedImports
from dawra.domain.access import Actor, Role
from dawra.domain.audit import stock_subject
from dawra.domain.errors import ConcurrentChange, Forbidden
from dawra.domain.inventory import Reservation, hold
from dawra.domain.stock_feeds import (
    MAX_ROWS,
    FeedFormat,
    FeedIdReused,
    FeedInvalid,
    FeedMode,
    RowOutcome,
    read_feed,
)
from dawra.local.seed import CATALOG, LOCATIONS, STOCK

MANAGER = Actor(user_id="u-mgr", username="majed", roles=frozenset({Role.MANAGER}))
WAREHOUSE = Actor(user_id="u-wh", username="wafa", roles=frozenset({Role.WAREHOUSE}))
CSV, JSON = FeedFormat.CSV, FeedFormat.JSON


@pytest.fixture
def world() -> World:
    world = World(catalog={item.sku: item for item in CATALOG}, locations=list(LOCATIONS))
    for (sku, location_id), units in STOCK.items():
        world.set_stock(sku, location_id, units)
    return world


@pytest.fixture
def feeds() -> FakeStockFeeds:
    return FakeStockFeeds()


@pytest.fixture
def alerts() -> FakeOpsAlerts:
    return FakeOpsAlerts()


@pytest.fixture
def imports(world, feeds, alerts) -> StockFeedImports:
    return StockFeedImports(FakeInventory(world), feeds, FakeUnitOfWork(world), FakeAuditLog(world), alerts,
                            FixedClock(), workers=1)


def on_hand(world: World, sku: str, location: str) -> int:
    return world.stock[(sku, location)].on_hand


def reserve(world: World, sku: str, location: str, quantity: int) -> None:
    FakeUnitOfWork(world).commit(stock=[hold(Reservation(order_id="ord-1", shipment_id="shp-1", sku=sku,
                                                         location_id=location, quantity=quantity))])


def outcomes(report) -> dict[int, tuple[str, str | None, str | None]]:
    return {row.line: (row.outcome.value, row.field, row.message) for row in report.rows}


# --- reading --------------------------------------------------------------------------------------------------


def test_a_csv_feed_reads_each_row_and_reports_each_bad_one_with_its_line_and_field():
    text = ("sku,location_id,on_hand\n"
            "MUG-CLASSIC,riyadh-dc,30\n"
            "DATES-1KG,riyadh-dc,ten\n"
            "PRAYER-MAT,riyadh-dc,-2\n"
            ",riyadh-dc,4\n"
            "MUG-CLASSIC,riyadh-dc,31\n")
    rows, refused = read_feed(text, CSV)
    assert [(r.line, r.sku, r.mode, r.quantity) for r in rows] == [(2, "MUG-CLASSIC", FeedMode.ABSOLUTE, 30)]
    assert [(r.line, r.field) for r in refused] == [(3, "on_hand"), (4, "on_hand"), (5, "sku"), (6, "sku")]
    assert "not an integer" in refused[0].message and "negative" in refused[1].message
    assert "already in this feed (line 2)" in refused[3].message


def test_a_feed_is_one_mode_and_a_row_of_the_other_is_refused_as_mixed():
    text = ("sku,location_id,on_hand,delta\n"
            "MUG-CLASSIC,riyadh-dc,,+5\n"
            "DATES-1KG,riyadh-dc,12,\n"
            "PRAYER-MAT,riyadh-dc,3,-1\n"
            "DALLAH-BRASS,jeddah-store,,\u22122\n")
    rows, refused = read_feed(text, CSV)
    assert [(r.line, r.mode, r.quantity) for r in rows] == [(2, FeedMode.DELTA, 5), (5, FeedMode.DELTA, -2)]
    assert [(r.line, r.field) for r in refused] == [(3, "on_hand"), (4, "delta")]
    assert all("mixed modes" in r.message for r in refused)


def test_a_json_feed_is_a_list_of_rows_or_an_object_with_rows():
    listed = json.dumps([{"sku": "MUG-CLASSIC", "location_id": "riyadh-dc", "delta": -3},
                         {"sku": "DATES-1KG", "location": "riyadh-dc", "delta": "4"},
                         {"sku": "PRAYER-MAT", "location_id": "riyadh-dc", "delta": 1.5},
                         {"sku": "DALLAH-BRASS", "location_id": "jeddah-store", "delta": True}, "junk"])
    rows, refused = read_feed(listed, JSON)
    assert [(r.line, r.quantity) for r in rows] == [(1, -3), (2, 4)]
    assert [(r.line, r.field) for r in refused] == [(3, "delta"), (4, "delta"), (5, "row")]
    wrapped, _ = read_feed(json.dumps({"feed_id": "x", "rows": [{"sku": "A", "location_id": "b", "on_hand": 0}]}),
                           JSON)
    assert wrapped[0].mode == FeedMode.ABSOLUTE


@pytest.mark.parametrize("text, fmt, why", [
    ("", CSV, "empty"),
    ("sku,quantity\nA,1\n", CSV, "header"),
    ("sku,location_id,on_hand\n", CSV, "no rows"),
    ("{not json", JSON, "not JSON"),
    ('{"rows": 3}', JSON, "list of rows"),
])
def test_a_feed_that_cannot_be_read_at_all_is_refused_whole(text, fmt, why):
    with pytest.raises(FeedInvalid, match=why):
        read_feed(text, fmt)


def test_a_feed_over_the_row_limit_is_refused_whole():
    text = "sku,location_id,delta\n" + "".join(f"S{i},riyadh-dc,1\n" for i in range(MAX_ROWS + 1))
    with pytest.raises(FeedInvalid, match="more than"):
        read_feed(text, CSV)


# --- importing ------------------------------------------------------------------------------------------------


def test_an_absolute_feed_sets_on_hand_and_audits_each_row(world, imports):
    report = imports.upload(MANAGER, "erp-2026-05-01", "stock.csv", CSV,
                            "sku,location_id,on_hand\nMUG-CLASSIC,riyadh-dc,32\nDATES-1KG,riyadh-dc,25\n"
                            "DALLAH-BRASS,riyadh-dc,4\n")
    assert outcomes(report) == {2: ("applied", None, None), 3: ("unchanged", None, None), 4: ("applied", None, None)}
    assert (on_hand(world, "MUG-CLASSIC", "riyadh-dc"), world.stock[("MUG-CLASSIC", "riyadh-dc")].available) == (32, 32)
    assert on_hand(world, "DALLAH-BRASS", "riyadh-dc") == 4  # created: a catalog sku at a known location
    entries = FakeAuditLog(world).for_subject(stock_subject("MUG-CLASSIC", "riyadh-dc"))
    assert [(e.action, e.actor_id, e.before["on_hand"], e.after["on_hand"], e.after["line"]) for e in entries] == [
        ("stock_feed", "u-mgr", 40, 32, 2)]
    assert report.mode == FeedMode.ABSOLUTE and report.rows[0].on_hand_before == 40


def test_a_delta_feed_moves_on_hand_and_available_and_leaves_reserved(world, imports):
    reserve(world, "MUG-CLASSIC", "riyadh-dc", 5)
    report = imports.upload(MANAGER, "3pl-77", "moves.json", JSON, json.dumps(
        {"rows": [{"sku": "MUG-CLASSIC", "location_id": "riyadh-dc", "delta": "+10"},
                  {"sku": "DATES-1KG", "location_id": "dammam-3pl", "delta": -4}]}))
    assert report.count(RowOutcome.APPLIED) == 2
    mug = world.stock[("MUG-CLASSIC", "riyadh-dc")]
    assert (mug.on_hand, mug.reserved, mug.available) == (50, 5, 45)
    assert on_hand(world, "DATES-1KG", "dammam-3pl") == 6


def test_unknown_skus_and_locations_are_reported_and_the_good_rows_applied(world, imports):
    report = imports.upload(MANAGER, "erp-3", "stock.csv", CSV,
                            "sku,location_id,delta\nNO-SUCH,riyadh-dc,1\nMUG-CLASSIC,mars,1\nMUG-CLASSIC,riyadh-dc,1\n")
    assert outcomes(report) == {2: ("refused", "sku", "unknown SKU NO-SUCH"),
                                3: ("refused", "location_id", "unknown location mars"),
                                4: ("applied", None, None)}
    assert on_hand(world, "MUG-CLASSIC", "riyadh-dc") == 41


def test_a_row_lowering_on_hand_below_reserved_is_reported_and_not_applied(world, imports):
    reserve(world, "MUG-CLASSIC", "jeddah-store", 4)
    report = imports.upload(MANAGER, "count-1", "count.csv", CSV,
                            "sku,location_id,on_hand\nMUG-CLASSIC,jeddah-store,3\nDATES-1KG,riyadh-dc,20\n")
    line, outcome = report.rows[0], report.rows[1]
    assert (line.outcome, line.field) == (RowOutcome.REFUSED, "on_hand")
    assert line.message == "on hand 3 would leave fewer than the 4 reserved units (on hand is 5)"
    mug = world.stock[("MUG-CLASSIC", "jeddah-store")]
    assert (mug.on_hand, mug.reserved, mug.available) == (5, 4, 1)  # untouched
    assert outcome.outcome == RowOutcome.APPLIED and on_hand(world, "DATES-1KG", "riyadh-dc") == 20
    assert not FakeAuditLog(world).for_subject(stock_subject("MUG-CLASSIC", "jeddah-store"))


def test_a_delta_taking_more_than_is_free_is_refused(world, imports):
    reserve(world, "PRAYER-MAT", "riyadh-dc", 1)
    report = imports.upload(MANAGER, "d-1", "d.csv", CSV, "sku,location_id,delta\nPRAYER-MAT,riyadh-dc,-2\n")
    assert report.rows[0].message == "on hand 0 would leave fewer than the 1 reserved units (on hand is 2)"
    assert on_hand(world, "PRAYER-MAT", "riyadh-dc") == 2


def test_a_replayed_feed_applies_nothing_and_answers_the_first_report(world, imports):
    text = "sku,location_id,delta\nMUG-CLASSIC,riyadh-dc,+3\nNO-SUCH,riyadh-dc,1\n"
    first = imports.upload(MANAGER, "erp-9", "d.csv", CSV, text)
    again = imports.upload(MANAGER, "erp-9", "d.csv", CSV, text)
    assert on_hand(world, "MUG-CLASSIC", "riyadh-dc") == 43  # once
    assert again.duplicate and not first.duplicate
    assert again.model_copy(update={"duplicate": False}) == first
    with pytest.raises(FeedIdReused):
        imports.upload(MANAGER, "erp-9", "d.csv", CSV, text + "DATES-1KG,riyadh-dc,1\n")


def test_a_first_import_that_died_half_way_is_finished_by_the_same_feed(world, feeds):
    """The first import applied line 2, then its process died before line 3 and before keeping its report."""
    class DiesAfterOne(FakeUnitOfWork):
        commits = 0

        def commit(self, **kwargs):
            DiesAfterOne.commits += 1
            if DiesAfterOne.commits == 2:
                raise RuntimeError("the function timed out")
            super().commit(**kwargs)

    text = "sku,location_id,delta\nMUG-CLASSIC,riyadh-dc,+3\nDATES-1KG,riyadh-dc,+2\n"
    dying = StockFeedImports(FakeInventory(world), feeds, DiesAfterOne(world), FakeAuditLog(world), FakeOpsAlerts(),
                             FixedClock(), workers=1)
    with pytest.raises(RuntimeError):
        dying.upload(MANAGER, "erp-10", "d.csv", CSV, text)
    assert on_hand(world, "MUG-CLASSIC", "riyadh-dc") == 43 and feeds.feed(feeds_ref("erp-10")).report is None
    again = StockFeedImports(FakeInventory(world), feeds, FakeUnitOfWork(world), FakeAuditLog(world),
                             FakeOpsAlerts(), FixedClock(), workers=1)
    report = again.upload(MANAGER, "erp-10", "d.csv", CSV, text)
    assert [row.outcome for row in report.rows] == [RowOutcome.APPLIED, RowOutcome.APPLIED] and not report.duplicate
    assert (on_hand(world, "MUG-CLASSIC", "riyadh-dc"), on_hand(world, "DATES-1KG", "riyadh-dc")) == (43, 27)


def feeds_ref(feed_id: str) -> str:
    from dawra.domain.stock_feeds import feed_ref

    return feed_ref(feed_id)


def test_a_row_that_races_a_reservation_is_decided_again_on_fresh_counters(world, feeds):
    """A reservation lands between the row's read and its commit: the commit is refused and the row re-read, so the
    absolute count never overwrites the reservation's counters."""
    class RacedOnce(FakeUnitOfWork):
        raced = False

        def commit(self, **kwargs):
            if not RacedOnce.raced:
                RacedOnce.raced = True
                reserve(world, "MUG-CLASSIC", "riyadh-dc", 2)
            super().commit(**kwargs)

    imports = StockFeedImports(FakeInventory(world), feeds, RacedOnce(world), FakeAuditLog(world), FakeOpsAlerts(),
                               FixedClock(), workers=1)
    report = imports.upload(MANAGER, "erp-11", "c.csv", CSV, "sku,location_id,on_hand\nMUG-CLASSIC,riyadh-dc,30\n")
    mug = world.stock[("MUG-CLASSIC", "riyadh-dc")]
    assert report.rows[0].outcome == RowOutcome.APPLIED
    assert (mug.on_hand, mug.reserved, mug.available) == (30, 2, 28)
    assert report.rows[0].on_hand_before == 40


def test_the_race_itself_is_what_the_fake_refuses(world):
    """The fake's commit refuses a counter change decided on counters that moved (what the race test relies on)."""
    from dawra.domain.stock_feeds import FeedRow, decide

    before = world.stock[("MUG-CLASSIC", "riyadh-dc")]
    change = decide(before, FeedRow(line=2, sku="MUG-CLASSIC", location_id="riyadh-dc", mode=FeedMode.ABSOLUTE,
                                    quantity=30))
    reserve(world, "MUG-CLASSIC", "riyadh-dc", 2)
    with pytest.raises(ConcurrentChange):
        FakeUnitOfWork(world).commit(stock=[change])


def test_only_a_manager_imports_feeds(imports):
    with pytest.raises(Forbidden):
        imports.upload(WAREHOUSE, "erp-12", "s.csv", CSV, "sku,location_id,delta\nMUG-CLASSIC,riyadh-dc,1\n")


def test_an_unreadable_upload_keeps_nothing_so_the_same_id_can_be_sent_again_corrected(world, imports, feeds):
    with pytest.raises(FeedInvalid):
        imports.upload(MANAGER, "erp-13", "s.csv", CSV, "sku,qty\nMUG-CLASSIC,1\n")
    assert feeds.claims == {}
    report = imports.upload(MANAGER, "erp-13", "s.csv", CSV, "sku,location_id,delta\nMUG-CLASSIC,riyadh-dc,1\n")
    assert report.count(RowOutcome.APPLIED) == 1


def test_a_bucket_feed_is_named_by_key_and_etag_and_its_refusals_alert_operations(world, imports, alerts):
    text = "sku,location_id,delta\nMUG-CLASSIC,riyadh-dc,2\nMUG-CLASSIC,mars,1\n"
    report = imports.from_bucket("erp/2026-05-01.csv", "etag-1", text)
    assert report.feed_id == "s3:erp/2026-05-01.csv#etag-1" and report.source == "s3"
    assert alerts.alerts == [("stock-feed", f"stock feed {report.ref} (erp/2026-05-01.csv): 1 row(s) refused, "
                                            "1 applied")]
    assert imports.from_bucket("erp/2026-05-01.csv", "etag-1", text).duplicate  # a notification delivered twice
    assert on_hand(world, "MUG-CLASSIC", "riyadh-dc") == 42 and len(alerts.alerts) == 1
    imports.from_bucket("erp/2026-05-01.csv", "etag-2", text)  # a new upload under the same key: a new feed
    assert on_hand(world, "MUG-CLASSIC", "riyadh-dc") == 44


def test_an_unreadable_bucket_feed_is_kept_as_a_report_saying_why(imports, alerts):
    report = imports.from_bucket("erp/stock.xlsx", "e1", "PK\x03\x04")
    assert [(r.line, r.field, r.message) for r in report.refused] == [(0, "file",
                                                                      "a feed's key ends in .csv or .json")]
    assert imports.report(MANAGER, report.ref) == report
    assert len(alerts.alerts) == 1


# --- the console's pages ----------------------------------------------------------------------------------------


def test_the_console_imports_a_feed_and_shows_its_report_in_english_and_arabic(world, imports):
    from dataclasses import dataclass

    from console_desk import KEY, MANAGER_CLAIMS, console_over

    from dawra.web.http import WebRequest
    from dawra.web.security import SESSION_COOKIE, csrf_token

    claims = {**MANAGER_CLAIMS,
              "warehouse": {"sub": "u-wh", "cognito:username": "wafa", "cognito:groups": "warehouse", "iat": 1}}

    @dataclass(frozen=True)
    class Office:
        stock_feeds: StockFeedImports

    console = console_over(Office(imports), claims)

    def post(who: str, fields: dict[str, str]):
        form = {"csrf": [csrf_token(KEY, claims[who])], "key": ["form-key-0001"],
                **{name: [value] for name, value in fields.items()}}
        return console.handle(WebRequest("POST", "/admin/feeds", form=form, cookies={SESSION_COOKIE: who}))

    text = "sku,location_id,on_hand\nMUG-CLASSIC,riyadh-dc,12\n<script>x</script>,riyadh-dc,1\n"
    posted = post("manager", {"feed_id": "erp-console-1", "file_name": "<b>stock</b>.csv", "content": text})
    assert posted.status == 303, posted.body
    location = posted.headers["Location"]
    assert "done=feed_imported" in location
    ref = location.split("/feeds/")[1].split("?")[0]
    page = console.handle(WebRequest("GET", f"/admin/feeds/{ref}", cookies={SESSION_COOKIE: "manager"}))
    body = str(page.body)
    assert page.status == 200
    assert "<script>x</script>" not in body and "&lt;script&gt;x&lt;/script&gt;" in body
    assert "<b>stock</b>" not in body
    assert 'data-line="2" data-outcome="applied"' in body and 'data-line="3" data-outcome="refused"' in body
    assert on_hand(world, "MUG-CLASSIC", "riyadh-dc") == 12
    assert post("manager", {"feed_id": "erp-console-1", "file_name": "s.csv", "content": text}).headers[
        "Location"].endswith("done=feed_duplicate")
    listing = str(console.handle(WebRequest("GET", "/admin/feeds", cookies={SESSION_COOKIE: "manager"})).body)
    assert f'data-ref="{ref}"' in listing
    arabic = str(console.handle(WebRequest("GET", f"/admin/feeds/{ref}", cookies={SESSION_COOKIE: "manager-ar"})).body)
    assert 'dir="rtl"' in arabic and "مرفوض" in arabic and "طُبّق" in arabic
    refused = post("warehouse", {"feed_id": "erp-console-2", "file_name": "s.csv", "content": text})
    assert refused.status == 403
    unreadable = post("manager", {"feed_id": "erp-console-3", "file_name": "s.csv", "content": "nothing,here\n1,2\n"})
    assert unreadable.status == 422 and "the header needs sku" in str(unreadable.body)
