"""What the customer's order page shows, as one model: the HTML page renders it and `GET /customer/order` answers it
as JSON (its OpenAPI document, docs/api/customer-openapi.json, is generated from it).

Only what the customer may see: no payment ids, no operator's reasons or notes, no internal timeline events (holds,
hand-overs to a person, resends); the contact shown masked (a link may be forwarded). `stage` is the order's status in
the customer's words (a code; the page words it in their language)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dawra.contracts.problems import PROBLEM_JSON, Problem
from dawra.domain.customer import Address
from dawra.domain.feedback import Feedback
from dawra.domain.gift import Gift
from dawra.domain.money import Money
from dawra.domain.notifications import NOTIFIED_KINDS
from dawra.domain.order import Order, OrderEvent, OrderLine, OrderStatus, Totals
from dawra.domain.pickup import spoken
from dawra.domain.returns import (
    ClaimReason,
    ClaimRemedy,
    InspectionOutcome,
    PickupWindow,
    RefundBreakdown,
    RefundMethod,
    Return,
    ReturnKind,
    ReturnMethod,
    ReturnReason,
    ReturnStatus,
    pickup_fixed,
)
from dawra.domain.shipment import Shipment, ShipmentLine, ShipmentStatus
from dawra.domain.timeline import TimelineEvent, TimelineKind
from dawra.rendering import order_reference

K = TimelineKind
# Timeline events the customer sees on their page (besides every kind they get a message about).
VISIBLE = frozenset({K.ORDER_CONFIRMED, K.STOCK_RESERVED, K.SHIPMENT_SHIPPED, K.SHIPMENT_IN_TRANSIT,
                     K.PICKUP_COLLECTED,
                     K.SHIPMENT_OUT_FOR_DELIVERY, K.SHIPMENT_DELIVERED, K.ORDER_COMPLETED, K.ORDER_CANCELLED,
                     K.CANCELLATION_REQUESTED, K.LINE_CANCELLED, K.ADDRESS_CHANGED, K.REFUNDED,
                     K.FEEDBACK_RECEIVED,
                     # Each step of the customer's returns (a few are not worth a message, all are worth a line).
                     K.RETURN_REQUESTED, K.RETURN_APPROVED, K.RETURN_DECLINED, K.RETURN_EXPIRED,
                     K.RETURN_LABEL_ISSUED, K.RETURN_AWAITING_DROP_OFF, K.RETURN_IN_TRANSIT, K.RETURN_RECEIVED,
                     K.RETURN_INSPECTED, K.RETURN_REFUNDED, K.RETURN_REJECTED, K.RETURN_LABEL_EXPIRED,
                     K.RETURN_CLOSED, K.CLAIM_RESHIP, K.CLAIM_CLOSED, K.COD_CONFIRMED})
# Never shown, whatever else is decided later: the operators' own steps, and this page's own bookkeeping.
INTERNAL = frozenset({K.ORDER_NEEDS_ATTENTION, K.ORDER_ON_HOLD, K.ORDER_RELEASED, K.MESSAGE_RESENT,
                      K.ORDER_LINK_REQUESTED})
# Each carrier's public tracking page (the number is appended, URL-quoted). Unknown carriers get no link.
TRACKING_PAGES = {"sandbox": "https://track.sandbox-carrier.dawra.example/"}
ACTIONS = ("cancel", "cancel_shipments", "change_address", "change_contact", "return", "claim")


class Stage(enum.StrEnum):
    RECEIVED = "received"
    PREPARING = "preparing"
    READY_TO_COLLECT = "ready_to_collect"  # store pickup: waiting at the store's desk for the customer's code
    PARTLY_SHIPPED = "partly_shipped"
    ON_ITS_WAY = "on_its_way"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    CANCELLING = "cancelling"
    BEING_CHECKED = "being_checked"


def stage_of(order: Order) -> Stage:
    """The order's status as its customer understands it (a hold or a hand-over to a person is not theirs to see)."""
    status = order.status
    if status == OrderStatus.CANCELLED:
        return Stage.CANCELLED
    if status == OrderStatus.COMPLETED:
        return Stage.DELIVERED
    if order.cancellation_requested:
        return Stage.CANCELLING
    if status == OrderStatus.NEEDS_ATTENTION:
        return Stage.BEING_CHECKED
    active = order.active_shipments
    if active and all(s.status == ShipmentStatus.READY_FOR_PICKUP for s in active):
        return Stage.READY_TO_COLLECT
    if status == OrderStatus.SHIPPED:
        waiting = [s for s in order.active_shipments if not s.has_shipped]
        return Stage.PARTLY_SHIPPED if waiting else Stage.ON_ITS_WAY
    return Stage.RECEIVED if status == OrderStatus.CONFIRMED else Stage.PREPARING


def visible(events: Iterable[TimelineEvent]) -> list[TimelineEvent]:
    return [e for e in events if e.kind not in INTERNAL and (e.kind in VISIBLE or e.kind in NOTIFIED_KINDS)]


def tracking_url(carrier: str | None, number: str | None) -> str | None:
    from urllib.parse import quote

    base = TRACKING_PAGES.get(carrier or "")
    return f"{base}{quote(number, safe='')}" if base and number else None


def promised_by(order: Order, shipment: Shipment) -> str:
    """The shipment's own promise when it has one, else the order's."""
    own: str | None = getattr(shipment, "promised_by", None)
    return own or order.promised_by


def mask_email(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}•••@{domain}"


def mask_phone(phone: str) -> str:
    return f"•••{phone[-4:]}"


class CustomerLine(BaseModel):
    model_config = ConfigDict(defer_build=True)

    sku: str
    title: str
    quantity: int
    line_total: Money


class CustomerPickup(BaseModel):
    """Store pickup: where and when to collect it, and (once it is ready) the code to give at the desk."""

    model_config = ConfigDict(defer_build=True)

    store_name: str
    location_id: str
    hours: str = Field(description="The store's opening hours, in the page's language")
    ready_at: str | None = None
    collect_by: str | None = Field(default=None, description="Not collected by then (UTC), it is cancelled")
    code: str | None = Field(default=None, description="The pickup code (XXXX-XXXX), once ready; also as a QR")


class CustomerShipment(BaseModel):
    model_config = ConfigDict(defer_build=True)

    shipment_id: str
    status: str = Field(description="allocated, picked, packed (pick and pack), label_created, in_transit, "
                        "out_for_delivery, delivered, cancelled; store pickup: ready_for_pickup, collected")
    lines: list[ShipmentLine]
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = Field(default=None, description="The carrier's tracking page, when it has one")
    promised_by: str = Field(description="UTC date (YYYY-MM-DD) this parcel is promised by")
    delivered_at: str | None = None
    pickup: CustomerPickup | None = Field(default=None, description="Store pickup: null when it is delivered")


class CustomerEvent(BaseModel):
    model_config = ConfigDict(defer_build=True)

    kind: str
    at: str
    shipment_id: str | None = None
    return_id: str | None = Field(default=None, description="The return the event is about, for return_* kinds")


class CustomerReturnLine(BaseModel):
    model_config = ConfigDict(defer_build=True)

    sku: str
    title: str
    quantity: int
    reason: ReturnReason
    comment: str = Field(default="", description="What the customer wrote about it")
    outcome: InspectionOutcome | None = Field(default=None, description="The warehouse's verdict, once inspected")
    exchange_sku: str | None = Field(default=None, description="An exchange: the size or variant sent instead")
    exchange_title: str | None = Field(default=None, description="An exchange: its title, in the customer's language")


class CustomerReturn(BaseModel):
    """One of the order's returns, as its customer follows it."""

    model_config = ConfigDict(defer_build=True)

    return_id: str
    status: str = Field(description="requested, approved, declined, expired, label_issued, awaiting_drop_off, "
                                    "in_transit, received, inspected, refunded, exchanged, rejected, "
                                    "label_expired, reshipping (a claim's items sent again), closed")
    kind: ReturnKind = Field(default=ReturnKind.RETURN, description=(
        "return (the items come back), or claim (they arrived damaged or missing: refunded or sent again, nothing "
        "comes back)"))
    method: ReturnMethod | None = Field(description=(
        "label (print a label), pickup (a courier collects), store (drop-off); null for a claim"))
    claim_reason: ClaimReason | None = Field(default=None, description="A claim: what was wrong with the parcel")
    claim_remedy: ClaimRemedy | None = Field(default=None, description="A claim: what the customer asked for")
    refund_method: RefundMethod
    location_id: str = Field(description="Where the items go back to (the store, for a drop-off)")
    lines: list[CustomerReturnLine]
    estimate: RefundBreakdown = Field(description="What the customer was told they would get back")
    refunded: Money | None = Field(default=None, description="What was given back, once settled")
    requested_at: str
    approval_required: bool
    decline_reason: str | None = Field(default=None, description="Why it was declined, in the agent's words")
    carrier: str | None = None
    tracking_number: str | None = None
    label_expires_at: str | None = Field(default=None, description="UTC: an unused label is refused from then on")
    label_available: bool = Field(default=False, description=(
        "A printable label can be downloaded now: GET /my-order/{token}/returns/{return_id}/label.pdf"))
    pickup_on: str | None = Field(default=None, description=(
        "A courier pickup: the day the courier comes (ISO date, the customer's local day), as chosen and then as "
        "the carrier booked it"))
    pickup_window: PickupWindow | None = Field(default=None, description=(
        "A courier pickup: morning (09:00-13:00) or afternoon (13:00-17:00), local time"))
    pickup_missed: bool = Field(default=False, description=(
        "A courier pickup: the carrier said its courier did not come on the day booked (`pickup_on`); choose another"))
    pickup_changeable: bool = Field(default=False, description=(
        "A courier pickup whose day can be changed now (its label is issued and nothing has been picked up): "
        "GET /my-order/{token}/returns/{return_id}/pickup offers the carrier's days"))
    replacement_shipment_id: str | None = Field(default=None, description=(
        "An exchange: the shipment (in `shipments`) that sends the replacement, once it is held"))


class CustomerContact(BaseModel):
    model_config = ConfigDict(defer_build=True)

    preferred_channel: str
    language: str
    email: str = Field(description="Masked: its first letter and its domain")
    phone: str | None = Field(default=None, description="Masked: its last four digits")


class CustomerFeedback(BaseModel):
    """The customer's own answer about the order (POST /my-order/{token}/feedback gives it, once)."""

    model_config = ConfigDict(defer_build=True)

    rating: int = Field(ge=1, le=5, description="1 (poor) to 5 (excellent)")
    recommend: int = Field(ge=0, le=10, description="How likely they are to recommend the shop, 0 to 10")
    comment: str | None = None
    at: str


class CustomerAwaiting(BaseModel):
    """What a backordered or preordered order waits for, while it waits."""

    model_config = ConfigDict(defer_build=True)

    kind: Literal["backorder", "preorder"] = Field(description="backorder: expected in stock; preorder: released")
    available_from: str = Field(description="UTC date (YYYY-MM-DD) the stock is expected (restock or release)")
    delays: int = Field(description="How many times the date was moved (each time the customer was told)")


class CustomerOrderView(BaseModel):
    """GET /customer/order's answer: the order as its customer's page shows it."""

    model_config = ConfigDict(defer_build=True)

    reference: str = Field(description="The short reference every message names, e.g. #1A2B3C4D")
    status: str = Field(description="The order's status (CONFIRMED, ALLOCATED, ...)")
    stage: Stage = Field(description="The status in the customer's words")
    placed_at: str
    promised_by: str
    contact: CustomerContact
    shipping_address: Address
    lines: list[CustomerLine]
    cancelled_lines: list[CustomerLine]
    totals: Totals
    refunded: Money
    shipments: list[CustomerShipment]
    timeline: list[CustomerEvent] = Field(description="Oldest first; only what concerns the customer")
    actions: list[str] = Field(description=f"What the customer may do now: a subset of {', '.join(ACTIONS)}")
    feedback_open: bool = Field(default=False, description="The order is delivered and its feedback not yet given")
    feedback: CustomerFeedback | None = Field(default=None, description="The answer given, once it is")
    returns: list[CustomerReturn] = Field(default_factory=list, description="The order's returns, newest first")
    gift: Gift | None = Field(default=None, description="The gift details, as placed; null: not a gift")
    gift_receipt_url: str | None = Field(default=None, description=(
        "A gift's receipt without prices, for its recipient: a link of its own that opens only the receipt "
        "(never this page), so it can be passed on"))
    awaiting: CustomerAwaiting | None = Field(default=None, description=(
        "The order waits for stock before it can be sent (a back order, a pre-order); null: it does not"))


def feedback_of(timeline: Iterable[TimelineEvent]) -> CustomerFeedback | None:
    """The answer on the order's timeline, if the customer gave one."""
    event = next((e for e in timeline if e.kind == K.FEEDBACK_RECEIVED), None)
    if event is None:
        return None
    answer = Feedback.from_detail(event.detail)
    return CustomerFeedback(rating=answer.rating, recommend=answer.recommend, comment=answer.comment, at=event.at)


def _shipment_status(order: Order, shipment: Shipment) -> str:
    """A parcel that will never leave (its lines cancelled, or the whole order cancelled before it shipped) is
    cancelled to the customer, whatever the warehouse's own status for it."""
    never_leaves = order.status == OrderStatus.CANCELLED and not shipment.has_shipped
    return "cancelled" if shipment.cancelled or never_leaves else shipment.status.value


def label_available(ret: Return) -> bool:
    """A label to print exists and can still be used (the customer's page offers its PDF)."""
    return ret.status == ReturnStatus.LABEL_ISSUED and ret.tracking_number is not None and \
        ret.method != ReturnMethod.STORE


def customer_return(order: Order, ret: Return, language: str) -> CustomerReturn:
    titles = {line.sku: line.title_in(language) for line in order.lines}
    return CustomerReturn(
        return_id=ret.return_id, status=ret.status.value, kind=ret.kind, method=ret.method,
        claim_reason=ret.claim_reason, claim_remedy=ret.claim_remedy, refund_method=ret.refund_method,
        location_id=ret.location_id, estimate=ret.estimate, refunded=ret.refunded, requested_at=ret.requested_at,
        approval_required=ret.approval_required, decline_reason=ret.decline_reason, carrier=ret.carrier,
        tracking_number=ret.tracking_number, label_expires_at=ret.label_expires_at,
        label_available=label_available(ret), replacement_shipment_id=ret.replacement_id,
        pickup_on=ret.pickup_on, pickup_window=ret.pickup_window,
        pickup_missed=ret.pickup_on is not None and ret.pickup_missed_on == ret.pickup_on,
        pickup_changeable=pickup_fixed(ret) is None,
        lines=[CustomerReturnLine(sku=line.sku, title=titles.get(line.sku, line.sku), quantity=line.quantity,
                                  reason=line.reason, comment=line.comment, outcome=line.outcome,
                                  exchange_sku=line.exchange.sku if line.exchange else None,
                                  exchange_title=line.exchange.title_in(language) if line.exchange else None)
               for line in ret.lines])


def _pickup(shipment: Shipment, language: str) -> CustomerPickup | None:
    desk = shipment.pickup
    if desk is None:
        return None
    waiting = shipment.status == ShipmentStatus.READY_FOR_PICKUP and desk.code is not None
    return CustomerPickup(store_name=desk.store_name, location_id=shipment.location_id, hours=desk.hours_in(language),
                          ready_at=desk.ready_at, collect_by=desk.collect_by,
                          code=spoken(desk.code) if waiting and desk.code else None)


def _line(line: OrderLine, language: str) -> CustomerLine:
    return CustomerLine(sku=line.sku, title=line.title_in(language), quantity=line.quantity,
                        line_total=line.line_total)


def customer_view(order: Order, timeline: list[TimelineEvent], actions: Iterable[str],
                  language: str | None = None, gift_receipt_url: str | None = None) -> CustomerOrderView:
    """The order for its customer; product titles in `language` (by default the customer's own)."""
    contact, language = order.contact, language or order.contact.language
    return CustomerOrderView(
        reference=order_reference(order.order_id), status=order.status.value, stage=stage_of(order),
        placed_at=order.placed_at, promised_by=order.promised_by,
        awaiting=CustomerAwaiting(kind=order.awaiting.kind, available_from=order.awaiting.due.isoformat(),
                                  delays=order.awaiting.delays)
        if order.awaiting is not None and not order.shipments and order.status.value == "CONFIRMED" else None,
        contact=CustomerContact(preferred_channel=contact.preferred_channel, language=contact.language,
                                email=mask_email(str(contact.email)),
                                phone=mask_phone(contact.phone) if contact.phone else None),
        shipping_address=order.shipping_address,
        lines=[_line(line, language) for line in order.lines],
        cancelled_lines=[_line(line, language) for line in order.cancelled_lines],
        totals=order.totals, refunded=order.payment.refunded,
        shipments=[CustomerShipment(
            shipment_id=s.shipment_id, status=_shipment_status(order, s), lines=s.lines,
            carrier=s.carrier, tracking_number=s.tracking_number,
            tracking_url=tracking_url(s.carrier, s.tracking_number), promised_by=promised_by(order, s),
            delivered_at=s.delivered_at, pickup=_pickup(s, language)) for s in order.shipments],
        timeline=[CustomerEvent(kind=e.kind.value, at=e.at, shipment_id=e.shipment_id,
                                return_id=e.detail.get("return_id")) for e in visible(timeline)],
        actions=[action for action in ACTIONS if action in set(actions)],
        feedback_open=order.can(OrderEvent.GIVE_FEEDBACK) and not order.feedback_at,
        feedback=feedback_of(timeline),
        returns=[customer_return(order, ret, language)
                 for ret in sorted(order.returns, key=lambda r: (r.requested_at, r.return_id), reverse=True)],
        gift=order.gift, gift_receipt_url=gift_receipt_url if order.gift is not None else None)


class OrderLinkRequest(BaseModel):
    """POST /customer/order-link: a guest asks for their order's link."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True,
                              json_schema_extra={"examples": [{"reference": "#1A2B3C4D",
                                                               "contact": "sara@example.com"}]})

    reference: Annotated[str, StringConstraints(min_length=1, max_length=20)] = Field(
        description="The order reference from any message, e.g. #1A2B3C4D")
    contact: Annotated[str, StringConstraints(min_length=1, max_length=254)] = Field(
        description="The email address or mobile number the order was placed with")


class LinkRequested(BaseModel):
    """The answer to a lookup: the same whether or not anything matched."""

    model_config = ConfigDict(defer_build=True)

    accepted: bool = True
    detail: str = ("If the reference and the contact match an order, its link was sent to the contact on that order.")


def _problems(**described: str) -> dict[int, dict[str, Any]]:
    return {int(status[1:]): {"description": why, "content": {PROBLEM_JSON: {"model": Problem}}}
            for status, why in described.items()}


_UNAVAILABLE = {"description": "Temporarily unavailable: retry after Retry-After seconds",
                "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
                "content": {PROBLEM_JSON: {"model": Problem}}}
CUSTOMER_ORDER_RESPONSES: dict[int, dict[str, Any]] = {
    200: {"description": "The order", "content": {"application/json": {"model": CustomerOrderView}}},
    **_problems(s404="The token opens no order (forged, altered, expired, revoked: always this one answer)",
                s422="The request is not valid", s500="Something went wrong on our side"),
    503: _UNAVAILABLE,
}
ORDER_LINK_RESPONSES: dict[int, dict[str, Any]] = {
    202: {"description": "Accepted: the same answer whether or not an order matched",
          "content": {"application/json": {"model": LinkRequested}}},
    **_problems(s400="The body is not JSON, is not UTF-8, or nests too deeply", s413="The body is too large",
                s415="The body is not application/json",
                s422="What was sent cannot be an order reference or a contact (errors lists each field)",
                s500="Something went wrong on our side"),
    429: {"description": "Too many lookups from here or for this contact: retry later",
          "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
          "content": {PROBLEM_JSON: {"model": Problem}}},
    503: _UNAVAILABLE,
}
