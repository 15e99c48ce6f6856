"""The operations figures, from hand-made orders and timelines: counts, stuck orders, late shipments, rates and stage
durations (nearest-rank percentiles); and the view that reads them, bounded and authorised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fakes import FakeOrderHistory, World

from dawra.app.operations import OperationsView
from dawra.domain.access import Actor, Role
from dawra.domain.customer import Address, Contact
from dawra.domain.errors import Forbidden
from dawra.domain.money import Money
from dawra.domain.operations import Stage, figures, percentile
from dawra.domain.order import Order, OrderLine, OrderStatus, PaymentState, Totals
from dawra.domain.timeline import TimelineEvent, TimelineKind

S, K = OrderStatus, TimelineKind
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
GRACE = timedelta(hours=48)
MANAGER = Actor(user_id="u-mgr", username="majed", roles=frozenset({Role.MANAGER}))
WAREHOUSE = Actor(user_id="u-wh", username="wafa", roles=frozenset({Role.WAREHOUSE}))


def sar(amount: int) -> Money:
    return Money(amount=amount, currency="SAR")


BASE = Order.place(
    order_id="ord_base", customer_id="c", placed_at="2026-11-01T00:00:00.000Z", promised_by="2026-11-05",
    contact=Contact(email="a@example.com"), shipping_address=Address(name="N", line1="L", city="Riyadh", country="SA"),
    shipping_method="standard",
    lines=[OrderLine(sku="A", title="A", quantity=1, unit_price=sar(1000), line_total=sar(1000), tax=sar(0))],
    totals=Totals(subtotal=sar(1000), shipping=sar(0), tax=sar(0), total=sar(1000)),
    payment=PaymentState(provider="sandbox", authorization_id="auth", authorized=sar(1000), captured=sar(0),
                         refunded=sar(0)))


def order(order_id: str, status: OrderStatus, placed_at: str, promised_by: str) -> Order:
    return Order.model_validate({**BASE.model_dump(), "order_id": order_id, "status": status,
                                 "placed_at": placed_at, "promised_by": promised_by, "version": 1})


def events(order_id: str, *happened: tuple[TimelineKind, str] | tuple[TimelineKind, str, str]) -> list[TimelineEvent]:
    return [TimelineEvent(event_id=f"{kind.value}:{order_id}:{i}", order_id=order_id, kind=kind, at=at,
                          shipment_id=rest[0] if rest else None)
            for i, (kind, at, *rest) in enumerate(happened)]


def shop() -> tuple[list[Order], dict[str, list[TimelineEvent]]]:
    """Eleven orders on 2026-11-30 at noon; two finished and one stuck order lie outside the 30-day window."""
    made = [
        (order("o1-on-time", S.COMPLETED, "2026-11-20T10:00:00.000Z", "2026-11-24"), [
            (K.ORDER_CONFIRMED, "2026-11-20T10:00:00.000Z"), (K.STOCK_RESERVED, "2026-11-20T10:00:30.000Z"),
            (K.SHIPMENT_SHIPPED, "2026-11-20T14:00:30.000Z", "s1"),
            (K.SHIPMENT_DELIVERED, "2026-11-22T14:00:30.000Z", "s1"), (K.ORDER_COMPLETED, "2026-11-22T14:00:31.000Z")]),
        (order("o2-late", S.COMPLETED, "2026-11-21T10:00:00.000Z", "2026-11-23"), [
            (K.ORDER_CONFIRMED, "2026-11-21T10:00:00.000Z"), (K.STOCK_RESERVED, "2026-11-21T10:01:00.000Z"),
            (K.SHIPMENT_SHIPPED, "2026-11-21T12:01:00.000Z", "s1"),
            (K.SHIPMENT_DELIVERED, "2026-11-24T12:01:00.000Z", "s1"), (K.ORDER_COMPLETED, "2026-11-24T12:01:01.000Z")]),
        (order("o3-cancelled", S.CANCELLED, "2026-11-25T09:00:00.000Z", "2026-11-28"), [
            (K.ORDER_CONFIRMED, "2026-11-25T09:00:00.000Z"), (K.ORDER_CANCELLED, "2026-11-25T09:00:03.000Z")]),
        (order("o4-stuck-confirmed", S.CONFIRMED, "2026-11-30T11:00:00.000Z", "2026-12-03"), [
            (K.ORDER_CONFIRMED, "2026-11-30T11:00:00.000Z")]),
        (order("o5-fresh", S.CONFIRMED, "2026-11-30T11:55:00.000Z", "2026-12-03"), [
            (K.ORDER_CONFIRMED, "2026-11-30T11:55:00.000Z")]),
        (order("o6-held", S.ON_HOLD, "2026-11-26T08:00:00.000Z", "2026-12-02"), [
            (K.ORDER_CONFIRMED, "2026-11-26T08:00:00.000Z"), (K.STOCK_RESERVED, "2026-11-26T08:00:10.000Z"),
            (K.ORDER_ON_HOLD, "2026-11-26T08:00:10.000Z")]),
        (order("o7-released", S.ALLOCATED, "2026-11-29T09:00:00.000Z", "2026-12-03"), [
            (K.ORDER_CONFIRMED, "2026-11-29T09:00:00.000Z"), (K.STOCK_RESERVED, "2026-11-29T09:00:05.000Z"),
            (K.ORDER_ON_HOLD, "2026-11-29T09:00:05.000Z"), (K.ORDER_RELEASED, "2026-11-30T10:00:00.000Z")]),
        (order("o8-shipped-overdue", S.SHIPPED, "2026-11-20T09:00:00.000Z", "2026-11-25"), [
            (K.ORDER_CONFIRMED, "2026-11-20T09:00:00.000Z"), (K.STOCK_RESERVED, "2026-11-20T09:00:40.000Z"),
            (K.SHIPMENT_SHIPPED, "2026-11-20T12:00:00.000Z", "s1"),
            (K.SHIPMENT_SHIPPED, "2026-11-21T12:00:00.000Z", "s2")]),
        (order("o9-attention-old", S.NEEDS_ATTENTION, "2026-10-01T09:00:00.000Z", "2026-10-06"), [
            (K.ORDER_CONFIRMED, "2026-10-01T09:00:00.000Z"), (K.ORDER_NEEDS_ATTENTION, "2026-10-05T00:00:00.000Z")]),
        (order("o10-late-unshipped", S.ALLOCATED, "2026-11-27T09:00:00.000Z", "2026-11-29"), [
            (K.ORDER_CONFIRMED, "2026-11-27T09:00:00.000Z"), (K.STOCK_RESERVED, "2026-11-27T09:00:20.000Z")]),
        (order("o11-old-completed", S.COMPLETED, "2026-09-01T09:00:00.000Z", "2026-09-04"), [
            (K.ORDER_CONFIRMED, "2026-09-01T09:00:00.000Z"), (K.STOCK_RESERVED, "2026-09-01T09:00:01.000Z"),
            (K.SHIPMENT_SHIPPED, "2026-09-01T10:00:00.000Z", "s1"),
            (K.SHIPMENT_DELIVERED, "2026-09-10T10:00:00.000Z", "s1"), (K.ORDER_COMPLETED, "2026-09-10T10:00:01.000Z")]),
    ]
    return [o for o, _ in made], {o.order_id: events(o.order_id, *happened) for o, happened in made}


def test_nearest_rank_percentiles():
    assert percentile([], 50) is None
    assert percentile([7.0], 95) == 7.0
    values = [float(v) for v in range(20, 0, -1)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 100)) == (10.0, 19.0, 20.0)
    assert percentile([5.0, 10.0, 20.0, 30.0, 40.0, 60.0], 50) == 20.0


def test_counts_and_rates_cover_the_orders_placed_in_the_window():
    result = figures(*shop(), NOW, days=30, grace=GRACE)
    assert result.window_from == "2026-10-31T12:00:00.000Z" and result.orders_read == 11
    assert result.by_status == {S.CONFIRMED: 2, S.ALLOCATED: 2, S.SHIPPED: 1, S.ON_HOLD: 1, S.NEEDS_ATTENTION: 0,
                                S.COMPLETED: 2, S.CANCELLED: 1}
    assert result.open_by_status == {S.CONFIRMED: 2, S.ALLOCATED: 2, S.SHIPPED: 1, S.ON_HOLD: 1,
                                     S.NEEDS_ATTENTION: 1}
    assert (result.on_time_delivery.count, result.on_time_delivery.of, result.on_time_delivery.rate) == (1, 2, 0.5)
    assert (result.cancellation.count, result.cancellation.of, result.cancellation.rate) == (1, 9, 0.1111)
    # Return figures come from whole orders (tests/unit/test_operations_returns.py): none given, none counted.
    assert (result.returns.delivered_orders, result.returns.returns, result.returns.units.rate) == (0, 0, None)
    assert not result.truncated


def test_stuck_orders_are_those_past_their_status_expected_time_most_overdue_first():
    result = figures(*shop(), NOW, days=30, grace=GRACE)
    stuck = {s.order_id: s for s in result.stuck}
    assert [s.order_id for s in result.stuck] == ["o9-attention-old", "o8-shipped-overdue", "o6-held",
                                                   "o10-late-unshipped", "o4-stuck-confirmed"]
    assert stuck["o4-stuck-confirmed"].model_dump() == {
        "order_id": "o4-stuck-confirmed", "status": S.CONFIRMED, "since": "2026-11-30T11:00:00.000Z",
        "stuck_for_s": 3600, "expected_by": "2026-11-30T11:10:00.000Z", "overdue_s": 3000}
    # Shipped: expected delivered by the end of the promised day plus the grace; since the first parcel left.
    assert (stuck["o8-shipped-overdue"].since, stuck["o8-shipped-overdue"].expected_by) == (
        "2026-11-20T12:00:00.000Z", "2026-11-28T00:00:00.000Z")
    assert stuck["o6-held"].since == "2026-11-26T08:00:10.000Z" and stuck["o6-held"].overdue_s == 187190
    # Released from its hold two hours ago: allocated since then, not stuck (24 h).
    assert "o7-released" not in stuck and "o5-fresh" not in stuck


def test_late_shipments_are_open_orders_past_their_promised_day_shipped_or_not():
    late = figures(*shop(), NOW, days=30, grace=GRACE).late_shipments
    assert [(s.order_id, s.late_by_s, s.shipped) for s in late] == [
        ("o9-attention-old", 4_708_800, False), ("o8-shipped-overdue", 388_800, True),
        ("o10-late-unshipped", 43_200, False)]


def test_stage_durations_come_from_the_timelines_of_the_window():
    durations = {d.stage: d for d in figures(*shop(), NOW, days=30, grace=GRACE).stage_durations}
    placed_to_reserved = durations[Stage.PLACED_TO_RESERVED]  # 30, 60, 10, 5, 40, 20 seconds
    assert (placed_to_reserved.count, placed_to_reserved.p50_s, placed_to_reserved.p95_s) == (6, 20.0, 60.0)
    reserved_to_shipped = durations[Stage.RESERVED_TO_SHIPPED]  # 14400, 7200, 10760
    assert (reserved_to_shipped.count, reserved_to_shipped.p50_s, reserved_to_shipped.p95_s) == (3, 10760.0, 14400.0)
    delivered = durations[Stage.SHIPPED_TO_DELIVERED]  # per parcel: 2 days, 3 days
    assert (delivered.count, delivered.p50_s, delivered.p95_s) == (2, 172_800.0, 259_200.0)
    completed = durations[Stage.PLACED_TO_COMPLETED]
    assert (completed.count, completed.p50_s, completed.p95_s) == (2, 187_231.0, 266_461.0)


def test_no_orders_no_figures_but_no_errors():
    result = figures([], {}, NOW, days=7, grace=GRACE)
    assert result.on_time_delivery.rate is None and result.cancellation.rate is None
    assert all(d.count == 0 and d.p50_s is None for d in result.stage_durations)
    assert result.stuck == [] and sum(result.by_status.values()) == 0


# --- the view -----------------------------------------------------------------------------------------------------

@pytest.fixture
def history() -> FakeOrderHistory:
    world = World()
    orders, timelines = shop()
    for o in orders:
        world.headers[o.order_id] = o
        world.events[o.order_id] = {e.event_id: e for e in timelines[o.order_id]}
    return FakeOrderHistory(world)


def test_the_view_reads_open_orders_of_any_age_and_finished_ones_of_the_window(history):
    result = OperationsView(history, GRACE)(MANAGER, NOW, days=30)
    orders, timelines = shop()
    read = [o for o in orders if o.order_id != "o11-old-completed"]  # finished before the window: not read
    assert result == figures(read, timelines, NOW, days=30, grace=GRACE) and result.orders_read == 10
    reads = {status: placed_from for status, placed_from, _ in history.reads}
    assert reads == {"CONFIRMED": None, "ALLOCATED": None, "SHIPPED": None, "ON_HOLD": None, "NEEDS_ATTENTION": None,
                     "COMPLETED": "2026-10-31T12:00:00.000Z", "CANCELLED": "2026-10-31T12:00:00.000Z"}


def test_the_view_is_bounded_and_says_so(history):
    result = OperationsView(history, GRACE, max_orders=4)(MANAGER, NOW)
    assert result.orders_read == 4 and result.truncated
    assert sum(limit for _, _, limit in history.reads) <= 4 + len(history.reads)
    assert not OperationsView(history, GRACE, max_orders=10)(MANAGER, NOW).truncated


def test_only_managers_see_the_operations_view(history):
    with pytest.raises(Forbidden):
        OperationsView(history, GRACE)(WAREHOUSE, NOW)


def test_feedback_figures_come_from_the_answers_on_the_window_orders_timelines():
    orders, timelines = shop()

    def answered(order_id: str, rating: str, recommend: str) -> None:
        timelines[order_id].append(TimelineEvent(
            event_id=f"feedback_received:{order_id}", order_id=order_id, kind=K.FEEDBACK_RECEIVED,
            at="2026-11-28T10:00:00.000Z", detail={"rating": rating, "recommend": recommend, "comment": "ok"}))

    answered("o1-on-time", "5", "10")
    answered("o2-late", "2", "4")
    answered("o11-old-completed", "5", "10")  # placed before the window: not counted
    feedback = figures(orders, timelines, NOW, days=30, grace=GRACE).feedback
    assert (feedback.responses, feedback.average_rating, feedback.nps) == (2, 3.5, 0)
    assert (feedback.promoters, feedback.passives, feedback.detractors) == (1, 0, 1)
    assert figures(orders, timelines, NOW, days=1, grace=GRACE).feedback.responses == 0
