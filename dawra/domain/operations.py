"""The operations figures, computed from orders and their timelines alone (a pure function: plain data in, figures
out; dawra/app/operations.py reads the data).

Two populations:
- orders placed in the window (the last `days` days): counts by status, the on-time delivery, cancellation and return
  rates, the stage durations, and the feedback customers gave (average rating, NPS); the return figures from the whole
  orders (shipments and returns) of those with a parcel delivered, the only ones anything can be returned of;
- open orders (not completed or cancelled) of any age that were read: stuck orders and late shipments, since an order
  stuck for longer than the window is the one most worth seeing.

When an order entered its current status is read from its timeline (the latest event that leads into it; for
SHIPPED, the first parcel shipped). Each status an order should not stay in has an expected time (EXPECTED_TIME);
a shipped order is expected delivered by the end of its promised day plus the merchant's grace. Percentiles are
nearest-rank (an observed value, never an interpolation), in seconds."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from dawra.domain.accounts import OverdueInvoices
from dawra.domain.feedback import Feedback, FeedbackFigures, feedback_figures
from dawra.domain.order import Order, OrderStatus
from dawra.domain.pricing import delivery_deadline
from dawra.domain.returns import NOTHING_CAME_BACK, ClaimReason, ReturnReason, delivered_units
from dawra.domain.time import iso
from dawra.domain.timeline import TimelineEvent, TimelineKind

S, K = OrderStatus, TimelineKind
# How long an order may stay in a status before it is stuck. SHIPPED: until delivery_deadline(promised_by, grace).
EXPECTED_TIME: dict[OrderStatus, timedelta] = {
    S.CONFIRMED: timedelta(minutes=10),  # the workflow reserves stock within seconds
    S.ALLOCATED: timedelta(hours=24),  # picked, packed and handed to a carrier within a day
    S.ON_HOLD: timedelta(hours=48),  # somebody decides about a held order within two days
    S.NEEDS_ATTENTION: timedelta(hours=4),  # a person picks it up within a shift
}
OPEN: frozenset[OrderStatus] = frozenset({S.CONFIRMED, S.ALLOCATED, S.ON_HOLD, S.SHIPPED, S.NEEDS_ATTENTION})
FINISHED: frozenset[OrderStatus] = frozenset({S.COMPLETED, S.CANCELLED})
# The timeline events that lead into each status.
ENTERED_BY: dict[OrderStatus, frozenset[TimelineKind]] = {
    S.CONFIRMED: frozenset({K.ORDER_CONFIRMED}),
    S.ALLOCATED: frozenset({K.STOCK_RESERVED, K.ORDER_RELEASED}),
    S.ON_HOLD: frozenset({K.ORDER_ON_HOLD}),
    S.SHIPPED: frozenset({K.SHIPMENT_SHIPPED}),
    S.NEEDS_ATTENTION: frozenset({K.ORDER_NEEDS_ATTENTION}),
    S.COMPLETED: frozenset({K.ORDER_COMPLETED}),
    S.CANCELLED: frozenset({K.ORDER_CANCELLED}),
}


class Stage(enum.StrEnum):
    PLACED_TO_RESERVED = "placed_to_stock_reserved"  # placed -> stock reserved
    RESERVED_TO_SHIPPED = "stock_reserved_to_first_shipped"  # stock reserved -> first parcel shipped
    SHIPPED_TO_DELIVERED = "shipped_to_delivered"  # each parcel: shipped -> delivered
    PLACED_TO_COMPLETED = "placed_to_completed"  # placed -> completed


class StuckOrder(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    order_id: str
    status: OrderStatus
    since: str  # when it entered the status (UTC ISO-8601)
    stuck_for_s: int  # how long it has been in the status
    expected_by: str  # when it should have left the status
    overdue_s: int  # how long past that


class LateShipment(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    order_id: str
    status: OrderStatus
    promised_by: str  # the promised delivery date (YYYY-MM-DD)
    late_by_s: int  # since the end of the promised day (UTC)
    shipped: bool  # at least one parcel has left


class Rate(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    count: int
    of: int
    rate: float | None  # count / of, None when `of` is 0


class StageDuration(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    stage: Stage
    count: int  # how many durations were measured
    p50_s: float | None
    p95_s: float | None


class Duration(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    count: int  # how many durations were measured
    p50_s: float | None
    p95_s: float | None


class ReturnFigures(BaseModel):
    """Returns of the orders placed in the window. A return counts from its request unless it ended with nothing
    coming back (declined, expired unapproved, its label never used); its units are those it holds (not an item
    found wrong or missing at inspection). Rates are of what was delivered: units for units, orders for returns."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    delivered_orders: int  # orders placed in the window with at least one unit delivered
    delivered_units: int
    returns: int  # returns counted
    units: Rate  # units returned / units delivered
    orders: Rate  # returns / orders delivered
    by_reason: dict[ReturnReason, Rate]  # units returned for the reason / units delivered (every reason listed)
    by_sku: dict[str, Rate]  # per product delivered: its units returned / its units delivered; most returned first
    received_to_refunded: Duration  # each refunded return: its parcel received -> the money given back
    # Claims without a return (arrived damaged, an item missing) are not returns: counted apart, every claim from its
    # report (declined ones too: a problem was reported), of the orders delivered, by reason (every reason listed).
    claims: Rate = Rate(count=0, of=0, rate=None)  # claims / orders delivered
    claims_by_reason: dict[ClaimReason, Rate] = Field(default_factory=dict)


class OperationsFigures(BaseModel):
    """What the console's operations view draws. Rates are 0..1; durations in seconds."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    generated_at: str  # UTC ISO-8601
    days: int
    window_from: str  # orders placed at or after this count in the window (UTC ISO-8601)
    orders_read: int
    truncated: bool  # the read stopped at its bound: the figures cover the orders read, not all of them
    by_status: dict[OrderStatus, int]  # orders placed in the window, by current status (every status listed)
    open_by_status: dict[OrderStatus, int]  # open orders of any age that were read, by status
    stuck: list[StuckOrder]  # most overdue first
    late_shipments: list[LateShipment]  # the latest (longest past the promise) first
    on_time_delivery: Rate  # completed orders whose last parcel arrived by the promised date / completed orders
    cancellation: Rate  # cancelled / placed in the window
    returns: ReturnFigures
    stage_durations: list[StageDuration]
    feedback: FeedbackFigures  # the answers customers gave about orders placed in the window
    # Business accounts' invoices past their due date and unpaid, per customer (dawra.domain.accounts); None: the
    # view was built without business accounts.
    overdue_invoices: OverdueInvoices | None = None


def parse(at: str) -> datetime:
    moment = datetime.fromisoformat(at)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least p% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def rate(count: int, of: int) -> Rate:
    return Rate(count=count, of=of, rate=round(count / of, 4) if of else None)


def entered_at(order: Order, timeline: Sequence[TimelineEvent]) -> str:
    """When the order entered its current status (its placement when the timeline does not say)."""
    moments = [e.at for e in timeline if e.kind in ENTERED_BY[order.status]]
    if not moments:
        return order.placed_at
    return min(moments) if order.status == S.SHIPPED else max(moments)


def expected_by(order: Order, since: datetime, grace: timedelta) -> datetime | None:
    if order.status == S.SHIPPED:
        return delivery_deadline(date.fromisoformat(order.promised_by), grace)
    expected = EXPECTED_TIME.get(order.status)
    return since + expected if expected is not None else None


def _seconds(start: str, end: str) -> float:
    return round((parse(end) - parse(start)).total_seconds(), 3)


def _first(timeline: Sequence[TimelineEvent], kind: TimelineKind) -> str | None:
    return min((e.at for e in timeline if e.kind == kind), default=None)


def stage_samples(order: Order, timeline: Sequence[TimelineEvent]) -> dict[Stage, list[float]]:
    placed = _first(timeline, K.ORDER_CONFIRMED) or order.placed_at
    reserved, shipped = _first(timeline, K.STOCK_RESERVED), _first(timeline, K.SHIPMENT_SHIPPED)
    completed = _first(timeline, K.ORDER_COMPLETED)
    samples: dict[Stage, list[float]] = {stage: [] for stage in Stage}
    if reserved:
        samples[Stage.PLACED_TO_RESERVED].append(_seconds(placed, reserved))
        if shipped:
            samples[Stage.RESERVED_TO_SHIPPED].append(_seconds(reserved, shipped))
    if completed:
        samples[Stage.PLACED_TO_COMPLETED].append(_seconds(placed, completed))
    parcels_shipped = {e.shipment_id: e.at for e in timeline if e.kind == K.SHIPMENT_SHIPPED and e.shipment_id}
    for event in timeline:
        if event.kind == K.SHIPMENT_DELIVERED and event.shipment_id in parcels_shipped:
            samples[Stage.SHIPPED_TO_DELIVERED].append(_seconds(parcels_shipped[event.shipment_id], event.at))
    return samples


def counts_for_returns(order: Order, timeline: Sequence[TimelineEvent], window_from: datetime) -> bool:
    """Placed in the window and a parcel of it delivered: its whole order (shipments, returns) is read for the return
    figures."""
    return parse(order.placed_at) >= window_from and any(e.kind == K.SHIPMENT_DELIVERED for e in timeline)


def return_figures(orders: Sequence[Order]) -> ReturnFigures:
    """From whole orders (header, shipments, returns): what was delivered, what came (or is coming) back."""
    delivered: dict[str, int] = {}
    returned: dict[str, int] = {}
    by_reason = dict.fromkeys(ReturnReason, 0)
    claims = dict.fromkeys(ClaimReason, 0)
    counted = delivered_orders = 0
    refund_times: list[float] = []
    for order in orders:
        units, _ = delivered_units(order)
        if not sum(units.values()):
            continue
        delivered_orders += 1
        for sku, n in units.items():
            delivered[sku] = delivered.get(sku, 0) + n
        for ret in order.returns:
            if ret.is_claim:
                claims[ret.claim_reason or ClaimReason.ARRIVED_DAMAGED] += 1
                continue
            if ret.status in NOTHING_CAME_BACK:
                continue
            counted += 1
            for line in ret.lines:
                if line.holds_units:
                    returned[line.sku] = returned.get(line.sku, 0) + line.quantity
                    by_reason[line.reason] = by_reason.get(line.reason, 0) + line.quantity
            if ret.received_at and ret.refunded_at:
                refund_times.append(_seconds(ret.received_at, ret.refunded_at))
    total = sum(delivered.values())
    skus = sorted(delivered, key=lambda sku: (-returned.get(sku, 0) / delivered[sku], -returned.get(sku, 0), sku))
    return ReturnFigures(
        delivered_orders=delivered_orders, delivered_units=total, returns=counted,
        units=rate(sum(returned.values()), total), orders=rate(counted, delivered_orders),
        by_reason={reason: rate(n, total) for reason, n in by_reason.items()},
        by_sku={sku: rate(returned.get(sku, 0), delivered[sku]) for sku in skus},
        received_to_refunded=Duration(count=len(refund_times), p50_s=percentile(refund_times, 50),
                                      p95_s=percentile(refund_times, 95)),
        claims=rate(sum(claims.values()), delivered_orders),
        claims_by_reason={reason: rate(n, delivered_orders) for reason, n in claims.items()})


def delivered_on_time(order: Order, timeline: Sequence[TimelineEvent]) -> bool | None:
    """Whether a completed order's last parcel arrived by the promised date (UTC); None if no delivery is on record."""
    last = max((e.at for e in timeline if e.kind == K.SHIPMENT_DELIVERED), default=None)
    if last is None:
        return None
    return parse(last).astimezone(UTC).date() <= date.fromisoformat(order.promised_by)


def figures(orders: Sequence[Order], timelines: Mapping[str, Sequence[TimelineEvent]], now: datetime, *,
            days: int, grace: timedelta, truncated: bool = False,
            whole_orders: Mapping[str, Order] | None = None) -> OperationsFigures:
    """`whole_orders`: the orders (counts_for_returns) with their shipments and returns, by order id, that the return
    figures are computed from."""
    window_from = now - timedelta(days=days)
    windowed = [o for o in orders if parse(o.placed_at) >= window_from]
    by_status = dict.fromkeys(OrderStatus, 0)
    for order in windowed:
        by_status[order.status] += 1
    open_by_status = {status: 0 for status in OrderStatus if status in OPEN}

    stuck: list[StuckOrder] = []
    late: list[LateShipment] = []
    for order in orders:
        if order.status not in OPEN:
            continue
        open_by_status[order.status] += 1
        timeline = timelines.get(order.order_id, [])
        since = parse(entered_at(order, timeline))
        deadline = expected_by(order, since, grace)
        if deadline is not None and now > deadline:
            stuck.append(StuckOrder(order_id=order.order_id, status=order.status, since=iso(since),
                                    stuck_for_s=int((now - since).total_seconds()), expected_by=iso(deadline),
                                    overdue_s=int((now - deadline).total_seconds())))
        promised_end = delivery_deadline(date.fromisoformat(order.promised_by), timedelta(0))
        if now > promised_end:
            late.append(LateShipment(order_id=order.order_id, status=order.status, promised_by=order.promised_by,
                                     late_by_s=int((now - promised_end).total_seconds()),
                                     shipped=any(e.kind == K.SHIPMENT_SHIPPED for e in timeline)))

    samples: dict[Stage, list[float]] = {stage: [] for stage in Stage}
    on_time = delivered = 0
    for order in windowed:
        timeline = timelines.get(order.order_id, [])
        for stage, values in stage_samples(order, timeline).items():
            samples[stage] += values
        if order.status == S.COMPLETED:
            arrived = delivered_on_time(order, timeline)
            if arrived is not None:
                delivered += 1
                on_time += arrived
    placed = len(windowed)
    whole = whole_orders or {}
    answers = [Feedback.from_detail(event.detail) for order in windowed
               for event in timelines.get(order.order_id, []) if event.kind == K.FEEDBACK_RECEIVED]
    return OperationsFigures(
        generated_at=iso(now), days=days, window_from=iso(window_from), orders_read=len(orders), truncated=truncated,
        by_status=by_status, open_by_status=open_by_status,
        stuck=sorted(stuck, key=lambda s: (-s.overdue_s, s.order_id)),
        late_shipments=sorted(late, key=lambda s: (-s.late_by_s, s.order_id)),
        on_time_delivery=rate(on_time, delivered), cancellation=rate(by_status[S.CANCELLED], placed),
        returns=return_figures([whole[o.order_id] for o in windowed if o.order_id in whole]),
        stage_durations=[StageDuration(stage=stage, count=len(values), p50_s=percentile(values, 50),
                                       p95_s=percentile(values, 95)) for stage, values in samples.items()],
        feedback=feedback_figures(answers))
