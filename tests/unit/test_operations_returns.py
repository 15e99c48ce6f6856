"""The operations view's return figures, from orders delivered and returned through the use cases (in-memory fakes):
the return rate overall (units and orders), by reason and by product, over the orders placed in the window, and the
time from a return's parcel received to its money given back (nearest-rank p50/p95)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fakes import FakeOrderHistory
from returning import AGENT, MANAGER, WAREHOUSE, Returns, asking, delivered

from dawra.app.operations import OperationsView
from dawra.domain.operations import Duration, Rate, figures, return_figures
from dawra.domain.returns import InspectionOutcome, ReturnReason, ReturnStatus
from dawra.web.console import Console
from dawra.web.http import WebRequest
from dawra.web.security import SESSION_COOKIE

R = ReturnReason
GRACE = timedelta(hours=48)


def rate(count: int, of: int, value: float | None) -> Rate:
    return Rate(count=count, of=of, rate=value)


def refunded(returns: Returns, order_id: str, return_id: str, outcome: InspectionOutcome, after: timedelta,
             key: str) -> None:
    """The return's parcel is received now, inspected, and its money given back `after` later."""
    returns.back(order_id, return_id)
    returns.shop.clock.advance(seconds=after.total_seconds())
    returns.inspect(WAREHOUSE, order_id, return_id, key, {
        line.sku: (outcome, None if outcome == InspectionOutcome.SELLABLE else "seen")
        for line in returns.get(order_id, return_id).lines})
    assert returns.refund(order_id, return_id).status == ReturnStatus.REFUNDED


def test_return_rates_by_reason_and_product_and_the_time_to_refund(shop):
    returns = Returns(shop)
    shop.world.set_stock("PRAYER-MAT", "riyadh-dc", 20)
    # Placed 40 days before the view, delivered and returned: outside the 30-day window, so not counted.
    old = delivered(shop, {"PRAYER-MAT": 1}, key="key-old-0001")
    returns.request(old, "ret-old-1", asking({"PRAYER-MAT": (1, R.CHANGED_MIND)}))
    shop.clock.advance(days=40)

    a = delivered(shop, {"PRAYER-MAT": 2, "MUG-CLASSIC": 1}, key="key-a-000001")
    b = delivered(shop, {"PRAYER-MAT": 1}, key="key-b-000001")
    c = delivered(shop, {"MUG-CLASSIC": 2}, key="key-c-000001")
    d = delivered(shop, {"DATES-1KG": 1}, key="key-d-000001")  # final sale: delivered, never returned
    shop.place({"DATES-1KG": 1}, key="key-e-000001")  # not delivered: nothing of it counts

    r1 = returns.request(a, "ret-a-1", asking({"PRAYER-MAT": (1, R.CHANGED_MIND)}))
    refunded(returns, a, r1.return_id, InspectionOutcome.SELLABLE, timedelta(hours=3), "inspect-a1")
    r2 = returns.request(b, "ret-b-1", asking({"PRAYER-MAT": (1, R.DAMAGED)}))
    refunded(returns, b, r2.return_id, InspectionOutcome.DAMAGED, timedelta(days=1), "inspect-b1")
    # Homeware needs an agent: a declined request brings nothing back and is not counted; the next one is.
    r3 = returns.request(c, "ret-c-1", asking({"MUG-CLASSIC": (2, R.WRONG_SIZE)}))
    returns.decide.decline(AGENT, c, r3.return_id, "decide-c1", "used")
    r4 = returns.request(c, "ret-c-2", asking({"MUG-CLASSIC": (1, R.NOT_AS_DESCRIBED)}))
    returns.decide.approve(AGENT, c, r4.return_id, "decide-c2")  # approved, its parcel not back yet

    history = FakeOrderHistory(shop.world)
    result = OperationsView(history, GRACE)(MANAGER, shop.clock.now(), days=30).returns

    # Delivered: a (2 mats, 1 mug), b (1 mat), c (2 mugs), d (1 dates) = 4 orders, 7 units; returns r1, r2, r4.
    assert (result.delivered_orders, result.delivered_units, result.returns) == (4, 7, 3)
    assert result.units == rate(3, 7, 0.4286)
    assert result.orders == rate(3, 4, 0.75)
    assert result.by_reason == {R.CHANGED_MIND: rate(1, 7, 0.1429), R.WRONG_SIZE: rate(0, 7, 0.0),
                                R.NOT_AS_DESCRIBED: rate(1, 7, 0.1429), R.DAMAGED: rate(1, 7, 0.1429),
                                R.WRONG_ITEM: rate(0, 7, 0.0), R.OTHER: rate(0, 7, 0.0)}
    assert list(result.by_sku.items()) == [("PRAYER-MAT", rate(2, 3, 0.6667)), ("MUG-CLASSIC", rate(1, 3, 0.3333)),
                                           ("DATES-1KG", rate(0, 1, 0.0))]
    assert result.received_to_refunded == Duration(count=2, p50_s=10_800.0, p95_s=86_400.0)
    # Only the delivered orders of the window were read whole: one query each, never the old one nor the undelivered.
    assert [sorted(ids) for ids in history.whole_reads] == [sorted([a, b, c, d])]


def test_a_wrong_item_found_at_inspection_is_not_a_returned_unit(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 2})
    ret = returns.request(order_id, "ret-1", asking({"PRAYER-MAT": (2, R.CHANGED_MIND)}))
    returns.back(order_id, ret.return_id)
    returns.inspect(WAREHOUSE, order_id, ret.return_id, "inspect-1",
                    {"PRAYER-MAT": (InspectionOutcome.WRONG_ITEM, "a towel")})
    assert returns.refund(order_id, ret.return_id).status == ReturnStatus.REJECTED
    result = return_figures([shop.orders.get(order_id)])
    assert (result.returns, result.units, result.by_reason[R.CHANGED_MIND]) == (1, rate(0, 2, 0.0), rate(0, 2, 0.0))
    assert result.received_to_refunded == Duration(count=0, p50_s=None, p95_s=None)  # rejected: never refunded


def test_no_deliveries_no_return_figures_but_every_reason_listed():
    result = figures([], {}, datetime(2026, 11, 30, 12, 0, tzinfo=UTC), days=30, grace=GRACE).returns
    assert (result.delivered_orders, result.delivered_units, result.returns) == (0, 0, 0)
    assert result.units == rate(0, 0, None) and result.orders == rate(0, 0, None)
    assert set(result.by_reason) == set(ReturnReason) and result.by_sku == {}
    assert result.received_to_refunded.count == 0


# --- the console's operations page ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Office:
    operations: OperationsView


class Log:
    def info(self, msg: str, *args: Any, **kwargs: Any) -> None: ...

    exception = info


def operations_page(shop: Any, language: str) -> str:
    claims = {"sub": "u-mgr", "cognito:username": "manager", "cognito:groups": "manager", "iat": 1,
              "custom:locale": language}
    console = Console(Office(OperationsView(FakeOrderHistory(shop.world), GRACE)),  # type: ignore[arg-type]
                      lambda token: claims, lambda *_: None, lambda: b"key", Log())  # type: ignore[arg-type]
    answer = console.handle(WebRequest("GET", "/admin/operations", cookies={SESSION_COOKIE: "manager"}))
    assert answer.status == 200
    return str(answer.body)


def rows(html: str, testid: str) -> list[str]:
    table = re.search(rf'data-testid="{testid}".*?</table>', html, re.S)
    assert table, testid
    return re.findall(r"<tr data-[^>]*>.*?</tr>", table.group(0), re.S)


def test_the_operations_page_shows_the_return_figures_in_english_and_arabic(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 2})
    ret = returns.request(order_id, "ret-1", asking({"PRAYER-MAT": (1, R.WRONG_SIZE)}))
    refunded(returns, order_id, ret.return_id, InspectionOutcome.SELLABLE, timedelta(hours=2), "inspect-1")

    english = operations_page(shop, "en")
    assert 'data-figure="units" data-count="1" data-of="2"' in english
    assert 'data-figure="orders" data-count="1" data-of="1"' in english
    [wrong_size] = [row for row in rows(english, "returns-by-reason") if 'data-reason="wrong_size"' in row]
    assert "Wrong size" in wrong_size and "50.0%" in wrong_size
    assert [re.search(r'data-sku="([^"]+)"', row).group(1) for row in rows(english, "returns-by-sku")] == [
        "PRAYER-MAT"]
    [refund_time] = rows(english, "returns-refund-time")
    assert 'data-count="1"' in refund_time and refund_time.count("2 h") == 2  # p50 and p95 of one return
    assert "No returns yet." not in english and '"reasons"' in english  # the chart's data

    arabic = operations_page(shop, "ar")
    assert "نسبة الإرجاع حسب السبب" in arabic and "مقاس غير مناسب" in arabic and 'dir="rtl"' in arabic


def test_with_no_returns_the_section_shows_zeros_and_says_so(shop):
    delivered(shop, {"PRAYER-MAT": 1})
    english = operations_page(shop, "en")
    assert 'data-figure="units" data-count="0" data-of="1"' in english and "No returns yet." in english
    assert 'data-testid="returns-by-reason"' not in english and 'id="chart-reasons"' not in english
    assert "لا مرتجعات بعد." in operations_page(shop, "ar")
