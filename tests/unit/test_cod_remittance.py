"""Cash on delivery after the door: what the courier collected (from the carrier's delivered report), and a
courier's remittance file reconciled against the parcels (exact, short, unknown, duplicate rows and files, bad
rows, and parcels still owed after the merchant's days)."""

import json
import time
from datetime import timedelta

import pytest
from fakes import SECRET, FakeLater, FakeRemittanceImports, FakeSecrets

from dawra.adapters.carriers.sandbox import sign
from dawra.app.remittances import Remittances
from dawra.app.tracking import ApplyTracking
from dawra.domain.access import Actor, Role
from dawra.domain.cod import (
    RemittanceFileInvalid,
    RowOutcome,
    file_digest,
    read_remittance_file,
    to_minor,
)
from dawra.domain.errors import Forbidden
from dawra.domain.money import Money

MANAGER = Actor(user_id="mgr-1", username="maha", roles=frozenset({Role.MANAGER}))
AGENT = Actor(user_id="agent-1", username="adel", roles=frozenset({Role.AGENT}))
HEADER = "tracking_number,amount_collected,courier_fee,remittance_reference,remittance_date\n"


class Cod:
    """The unit tier's shop with a tracking consumer that alerts and schedules, and the remittances use case."""

    def __init__(self, shop):
        self.shop, self.later, self.imports = shop, FakeLater(), FakeRemittanceImports(shop.world)
        self.tracking = ApplyTracking(shop.orders, shop.uow, shop.workflow, shop.carriers,
                                      FakeSecrets({"sandbox-secret": SECRET}), {"sandbox": "sandbox-secret"},
                                      shop.rejections, shop.clock, shop.inventory, alerts=shop.alerts,
                                      later=self.later, remittance_days=7)
        self.remittances = Remittances(shop.orders, shop.uow, self.imports, shop.alerts, shop.clock,
                                       currency="SAR", remittance_days=7, workers=1)

    def shipped(self, lines=None) -> tuple[str, str, str]:
        """A cash-on-delivery order shipped: (order id, shipment id, tracking number)."""
        shop = self.shop
        order_id = shop.place(lines or {"MUG-CLASSIC": 1}, key=f"key-{len(shop.world.headers):08d}")
        [shipment] = shop.reserve(order_id).shipments
        number = shop.ship(order_id, shipment.shipment_id).tracking_number
        header = shop.world.headers[order_id]  # paid at the door (the unit tier's checkout takes cards)
        shop.world.headers[order_id] = header.model_copy(update={"payment": header.payment.model_copy(
            update={"provider": "cash_on_delivery"})})
        return order_id, shipment.shipment_id, number

    def deliver(self, number: str, collected: int | None, event_id: str = "evt-d") -> list[str]:
        body: dict = {"event_id": event_id, "tracking_number": number, "status": "DELIVERED",
                      "occurred_at": self.shop.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")}
        if collected is not None:
            body["cod_collected"] = {"amount": collected, "currency": "SAR"}
        raw = json.dumps(body).encode()
        now = int(time.time())
        return self.tracking.handle_webhook("sandbox", raw, sign(raw, SECRET.encode(), now), now * 1000)


@pytest.fixture
def cod(shop) -> Cod:
    return Cod(shop)


def due(cod: Cod, order_id: str, shipment_id: str) -> int:
    return cod.shop.orders.get(order_id).shipment(shipment_id).amount.amount


def sar(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


# --- collected on delivery ---------------------------------------------------------------------------------------
def test_the_amount_collected_is_recorded_once_and_a_mismatch_is_flagged(cod):
    order_id, shipment_id, number = cod.shipped()
    owed = due(cod, order_id, shipment_id)

    assert cod.deliver(number, owed - 500) == ["moved to delivered"]
    order = cod.shop.orders.get(order_id)
    shipment = order.shipment(shipment_id)
    assert shipment.cod_collected == Money(amount=owed - 500, currency="SAR")
    assert order.cod_collected.amount == owed - 500 and order.payment.provider == "cash_on_delivery"
    [event] = [e for e in cod.shop.orders.timeline(order_id) if e.kind == "cod_collected"]
    assert event.shipment_id == shipment_id
    assert event.detail == {"collected": str(owed - 500), "due": str(owed), "currency": "SAR", "mismatch": "true"}
    [(alerted, reason)] = cod.shop.alerts.alerts
    assert alerted == order_id and "collected" in reason and str(owed) in reason

    # The same report again, and another delivered report with another amount: nothing changes, nobody is told.
    assert cod.deliver(number, owed - 500) == ["duplicate"]
    assert cod.deliver(number, owed, event_id="evt-again") == ["recorded"]
    assert cod.shop.orders.get(order_id).shipment(shipment_id).cod_collected.amount == owed - 500
    assert len(cod.shop.alerts.alerts) == 1
    assert cod.shop.world.timeline_kinds(order_id).count("cod_collected") == 1


def test_an_exact_collection_raises_no_alert_and_a_remittance_check_is_scheduled(cod):
    order_id, shipment_id, number = cod.shipped()
    cod.deliver(number, due(cod, order_id, shipment_id))

    [event] = [e for e in cod.shop.orders.timeline(order_id) if e.kind == "cod_collected"]
    assert "mismatch" not in event.detail and cod.shop.alerts.alerts == []
    when, job = cod.later.pending[f"cod-remit-{shipment_id}"]
    assert job == {"kind": "check_cod_remittance", "order_id": order_id, "shipment_id": shipment_id}
    assert cod.later.queue_of(job) == "ops-jobs"  # it may alert operations: the function that may publish to them
    assert when - cod.shop.clock.now() == timedelta(days=7)


def test_a_card_order_delivered_schedules_nothing_and_records_no_cash(cod):
    shop = cod.shop
    order_id = shop.place({"MUG-CLASSIC": 1})
    [shipment] = shop.reserve(order_id).shipments
    number = shop.ship(order_id, shipment.shipment_id).tracking_number
    assert cod.deliver(number, 1234) == ["moved to delivered"]
    assert shop.orders.get(order_id).shipment(shipment.shipment_id).cod_collected is None
    assert cod.later.pending == {} and "cod_collected" not in shop.world.timeline_kinds(order_id)


def test_a_parcel_not_remitted_in_time_is_flagged_once_and_a_remitted_one_never(cod):
    order_id, shipment_id, number = cod.shipped()
    cod.deliver(number, None)
    cod.shop.clock.advance(days=8)
    [job] = cod.later.take_due(cod.shop.clock.now(), queue="ops-jobs")

    assert cod.remittances.check(job["order_id"], job["shipment_id"]) == "overdue"
    assert cod.remittances.check(order_id, shipment_id) == "nothing to flag"  # a repeated job
    assert cod.shop.world.timeline_kinds(order_id).count("cod_remittance_overdue") == 1
    assert [a for a, _ in cod.shop.alerts.alerts] == [order_id]

    other_id, other_shipment, other_number = cod.shipped()
    cod.deliver(other_number, None)
    cod.remittances.import_file(MANAGER, "f.csv", HEADER + f"{other_number},{sar(due(cod, other_id, other_shipment))},"
                                                           "5.00,R-1,2026-11-30\n")
    assert cod.remittances.check(other_id, other_shipment) == "nothing to flag"


# --- the remittance file -----------------------------------------------------------------------------------------
def test_a_file_is_reconciled_row_by_row_exact_short_unknown_and_bad(cod):
    exact_id, exact_shipment, exact_number = cod.shipped()
    short_id, short_shipment, short_number = cod.shipped()
    cod.deliver(exact_number, due(cod, exact_id, exact_shipment), "e1")
    cod.deliver(short_number, due(cod, short_id, short_shipment), "e2")
    exact_due, short_due = due(cod, exact_id, exact_shipment), due(cod, short_id, short_shipment)
    text = (HEADER
            + f"{exact_number},{sar(exact_due)},12.50,REM-77,2026-11-30\n"
            + f"{short_number},{sar(short_due - 1000)},12.50,REM-77,2026-11-30\n"
            + "SBX000000000000,10.00,1.00,REM-77,2026-11-30\n"
            + f"{exact_number},{sar(exact_due)},12.50,REM-77,2026-11-30\n"
            + "SBX111111111111,ten,1.00,REM-77,30/11/2026\n")

    report = cod.remittances.import_file(MANAGER, "aramex-2026-11-30.csv", text)

    by_line = {row.line: row for row in report.rows}
    assert [by_line[n].outcome for n in range(2, 7)] == [RowOutcome.EXACT, RowOutcome.SHORT, RowOutcome.UNKNOWN,
                                                        RowOutcome.DUPLICATE_ROW, RowOutcome.INVALID]
    assert by_line[3].difference == -1000 and by_line[3].order_id == short_id
    assert "amount_collected" in by_line[6].message and "remittance_date" in by_line[6].message
    assert report.counts["exact"] == 1 and report.short_by == Money(amount=1000, currency="SAR")
    assert report.total("fee").amount == 2500 and not report.duplicate

    remitted = cod.shop.orders.get(exact_id).shipment(exact_shipment).cod_remittance
    assert remitted is not None and remitted.reference == "REM-77" and remitted.fee.amount == 1250
    assert remitted.remitted.amount == exact_due - 1250 and remitted.file_digest == report.digest
    assert cod.shop.orders.get(short_id).cod_remitted.amount == short_due - 1000 - 1250
    [event] = [e for e in cod.shop.orders.timeline(short_id) if e.kind == "cod_remitted"]
    assert event.detail["outcome"] == "short" and event.detail["difference"] == "-1000"
    [(where, alert)] = cod.shop.alerts.alerts
    assert where == "remittance" and "1 short payment" in alert and "1 unknown" in alert
    assert cod.remittances.report(MANAGER, report.digest) == report


def test_the_same_file_again_is_a_duplicate_and_applies_nothing(cod):
    order_id, shipment_id, number = cod.shipped()
    cod.deliver(number, None)
    text = HEADER + f"{number},{sar(due(cod, order_id, shipment_id))},5.00,REM-1,2026-11-30\n"
    first = cod.remittances.import_file(MANAGER, "a.csv", text)
    versions = cod.shop.orders.get(order_id).shipment(shipment_id).version

    again = cod.remittances.import_file(MANAGER, "a-copy.csv", text.replace("\n", "\r\n") + "\n\n")
    assert again.duplicate and again.digest == first.digest and again.rows == first.rows
    assert cod.shop.orders.get(order_id).shipment(shipment_id).version == versions
    assert cod.shop.world.timeline_kinds(order_id).count("cod_remitted") == 1

    # The parcel in another file: reported as remitted already, never applied twice.
    other = cod.remittances.import_file(MANAGER, "b.csv", text.replace("REM-1", "REM-2"))
    assert [row.outcome for row in other.rows] == [RowOutcome.ALREADY_REMITTED]
    assert "REM-1" in other.rows[0].message
    assert cod.shop.orders.get(order_id).shipment(shipment_id).cod_remittance.reference == "REM-1"


def test_a_first_import_that_died_half_way_is_finished_by_the_same_file(cod):
    first_id, first_shipment, first_number = cod.shipped()
    second_id, second_shipment, second_number = cod.shipped()
    for number in (first_number, second_number):
        cod.deliver(number, None, f"d-{number}")
    text = (HEADER + f"{first_number},{sar(due(cod, first_id, first_shipment) - 100)},5.00,R-9,2026-11-30\n"
            + f"{second_number},{sar(due(cod, second_id, second_shipment))},5.00,R-9,2026-11-30\n")
    imports = cod.imports
    imports.record = lambda report: (_ for _ in ()).throw(RuntimeError("died before keeping the report"))
    with pytest.raises(RuntimeError):
        cod.remittances.import_file(MANAGER, "r.csv", text)
    del imports.record  # back to the class's own method

    report = cod.remittances.import_file(MANAGER, "r.csv", text)
    assert [row.outcome for row in report.rows] == [RowOutcome.SHORT, RowOutcome.EXACT] and not report.duplicate
    assert cod.shop.world.timeline_kinds(first_id).count("cod_remitted") == 1


def test_parcels_owed_after_the_merchants_days_are_listed_oldest_first(cod):
    old_id, _, old_number = cod.shipped()
    cod.deliver(old_number, None, "d-old")
    cod.shop.clock.advance(days=3)
    paid_id, paid_shipment, paid_number = cod.shipped()
    cod.deliver(paid_number, None, "d-paid")
    cod.remittances.import_file(MANAGER, "p.csv", HEADER + f"{paid_number},"
                                f"{sar(due(cod, paid_id, paid_shipment))},1.00,P-1,2026-11-30\n")
    _, _, recent_number = cod.shipped()
    cod.deliver(recent_number, None, "d-recent")
    cod.shop.clock.advance(days=5)  # old: 8 days, recent: 5 days

    overview = cod.remittances.overview(MANAGER, cod.shop.clock.now())
    assert [(p.order_id, p.days) for p in overview.owed] == [(old_id, 8)]
    assert overview.owed[0].tracking_number == old_number and overview.days == 7
    assert [r.file_name for r in overview.imports] == ["p.csv"]


def test_only_a_manager_reconciles(cod):
    with pytest.raises(Forbidden):
        cod.remittances.import_file(AGENT, "x.csv", HEADER)
    with pytest.raises(Forbidden):
        cod.remittances.overview(AGENT, cod.shop.clock.now())


# --- reading the file --------------------------------------------------------------------------------------------
def test_the_file_needs_its_columns_and_reads_amounts_in_the_currencys_minor_units():
    with pytest.raises(RemittanceFileInvalid, match="remittance_date"):
        read_remittance_file("tracking_number,amount_collected,courier_fee,remittance_reference\n", "SAR")
    with pytest.raises(RemittanceFileInvalid, match="empty"):
        read_remittance_file("", "SAR")
    rows, problems = read_remittance_file(
        "\ufeffRemittance Date,Tracking Number,Amount Collected,Courier-Fee,REMITTANCE REFERENCE\n"
        "2026-11-30,sbx0123456789ab,\"1,250.50\",10,R/1\n"
        "\n"
        "2026-11-30,SBX0123456789AC,5.00,6.00,R/1\n", "SAR")
    [row] = rows
    assert row.tracking_number == "SBX0123456789AB" and row.collected.amount == 125050 and row.fee.amount == 1000
    assert [(p.line, "courier_fee" in p.message) for p in problems] == [(4, True)]
    assert to_minor("12.345", "KWD") == 12345
    with pytest.raises(ValueError):
        to_minor("12.345", "SAR")
    with pytest.raises(ValueError):
        to_minor("-1.00", "SAR")
    assert file_digest("a,b\r\nc,d\r\n\r\n") == file_digest("\ufeffa,b\nc,d")


# --- the console's pages -----------------------------------------------------------------------------------------
def test_the_console_imports_a_file_and_shows_its_report_in_english_and_arabic(cod):
    from dataclasses import dataclass

    from console_desk import KEY, MANAGER_CLAIMS, console_over

    from dawra.web.http import WebRequest
    from dawra.web.security import SESSION_COOKIE, csrf_token

    claims = {**MANAGER_CLAIMS,
              "agent": {"sub": "u-agent", "cognito:username": "adel", "cognito:groups": "agent", "iat": 1}}

    @dataclass(frozen=True)
    class Office:
        remittances: Remittances

    console = console_over(Office(cod.remittances), claims)
    order_id, shipment_id, number = cod.shipped()
    cod.deliver(number, None)
    text = HEADER + f"{number},{sar(due(cod, order_id, shipment_id) - 250)},4.00,REM-5,2026-11-30\nBAD,x,y,z,w\n"
    form = {"csrf": [csrf_token(KEY, claims["manager"])], "key": ["form-key-0001"],
            "file_name": ["<script>alert(1)</script>.csv"], "content": [text]}

    posted = console.handle(WebRequest("POST", "/admin/cod/remittances", form=form,
                                       cookies={SESSION_COOKIE: "manager"}))
    assert posted.status == 303
    location = posted.headers["Location"]
    digest = location.split("/cod/remittances/")[1].split("?")[0]
    page = console.handle(WebRequest("GET", f"/admin/cod/remittances/{digest}", cookies={SESSION_COOKIE: "manager"}))
    assert page.status == 200
    body = str(page.body)
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body
    assert 'data-outcome="invalid"' in body and 'data-outcome="short"' in body and "Unreadable row" in body
    assert 'data-figure="short_by" data-value="250"' in body

    arabic = console.handle(WebRequest("GET", f"/admin/cod/remittances/{digest}",
                                       cookies={SESSION_COOKIE: "manager-ar"}))
    assert 'dir="rtl"' in str(arabic.body) and "ناقص" in str(arabic.body)
    overview = console.handle(WebRequest("GET", "/admin/cod", cookies={SESSION_COOKIE: "manager"}))
    assert overview.status == 200 and f'data-digest="{digest}"' in str(overview.body)
    assert console.handle(WebRequest("GET", "/admin/cod", cookies={SESSION_COOKIE: "agent"})).status == 403
