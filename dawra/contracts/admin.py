"""What crosses the back office's boundary: who the caller is (from the identity provider's claims), and the admin
API's request and response shapes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from dawra.contracts.api import OrderDetails, OrderView, ShippingAddress, order_view
from dawra.domain.access import Actor, Role
from dawra.domain.audit import AuditEntry
from dawra.domain.customer import NO_CONTROL, Address, Contact, typed_text
from dawra.domain.errors import Unauthenticated
from dawra.domain.money import Money
from dawra.domain.order import Order, OrderLine
from dawra.domain.timeline import TimelineEvent

LANGUAGE_CLAIM = "custom:locale"  # "ar" or "en": the console's language for this operator


def _groups(value: Any) -> list[str]:
    """cognito:groups arrives as a list in a verified token and as one string through API Gateway's authorizer
    ("agent,manager" or "[agent manager]")."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,\[\]]+", value) if part]
    return []


def actor_from_claims(claims: Mapping[str, Any]) -> Actor:
    """The operator the identity provider vouched for (an ID token's cognito:username, an access token's username).
    Groups that are not roles are ignored; no role, no access beyond what every operator may do (which is nothing
    but seeing their own identity). Claims that describe no user are Unauthenticated."""
    roles = frozenset(Role(group) for group in _groups(claims.get("cognito:groups")) if group in Role._value2member_map_)
    language = claims.get(LANGUAGE_CLAIM)
    try:
        return Actor(user_id=claims.get("sub") or "", username=claims.get("cognito:username") or claims.get(
            "username") or "", roles=roles, language=language if language in ("ar", "en") else "en")
    except ValidationError:
        raise Unauthenticated("the token does not describe a user") from None


class AgentOrderRequest(OrderDetails):
    """An order an agent places for a customer (on the phone, in a chat). The customer pays the courier (cash on
    delivery) or through a link the agent sends; a link order waits on hold until its payment is confirmed."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    payment: Literal["cash_on_delivery", "payment_link"]
    hold_reason: Annotated[str, typed_text(200)] | None = None  # hold it before shipping, e.g. "customer to confirm"


# --- the admin API's shapes ----------------------------------------------------------------------------------------
Reason = Annotated[str, typed_text(300)]


class WithReason(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300,
                                             pattern=NO_CONTROL)]


class RefundRequest(WithReason):
    amount: int = Field(gt=0, description="Minor units, in the order's currency")


class AddressChange(WithReason):
    address: ShippingAddress


class NoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000,
                                           pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$")]  # newlines allowed


class Me(BaseModel):
    user_id: str
    username: str
    roles: list[str]
    permissions: list[str]
    language: str


class AuditView(BaseModel):
    audit_id: str
    action: str
    actor_id: str
    actor_name: str
    roles: list[str]
    at: str
    reason: str | None = None
    before: dict[str, Any]
    after: dict[str, Any]
    subject: str


class AdminOrderView(OrderView):
    """An order as an operator sees it: the customer's view plus contact, address, who placed it, holds, requests,
    cancelled lines and the audit trail (notes are the entries whose action is add_note)."""

    contact: Contact
    shipping_address: Address
    placed_by: str | None = None
    hold_reason: str | None = None
    held_at: str | None = None
    cancellation_requested: str | None = None
    cancelled_lines: list[OrderLine]
    payment_provider: str
    audit: list[AuditView]


class OrderRow(BaseModel):
    order_id: str
    status: str
    placed_at: str
    promised_by: str
    customer_name: str
    email: str
    phone: str | None = None
    total: Money
    lines: int


class OrderList(BaseModel):
    orders: list[OrderRow]
    cursor: str | None = None


class ActionResult(BaseModel):
    order: AdminOrderView
    audit: AuditView
    replayed: bool = Field(description="True when this Idempotency-Key was already applied: nothing was done twice")


class PlacedForCustomer(BaseModel):
    order: AdminOrderView
    payment_link: str | None = None


class AuditList(BaseModel):
    entries: list[AuditView]
    cursor: str | None = None


def audit_view(entry: AuditEntry) -> dict[str, Any]:
    return AuditView.model_validate(entry.model_dump()).model_dump(mode="json")


def admin_order_view(order: Order, timeline: list[TimelineEvent], audit: list[AuditEntry]) -> dict[str, Any]:
    view = AdminOrderView.model_validate({
        **order_view(order, timeline),
        **order.model_dump(include={"contact", "shipping_address", "placed_by", "hold_reason", "held_at",
                                    "cancellation_requested", "cancelled_lines"}, mode="json"),
        "payment_provider": order.payment.provider,
        "audit": [audit_view(entry) for entry in audit],
    })
    return view.model_dump(mode="json")


def order_row(order: Order) -> dict[str, Any]:
    return OrderRow(order_id=order.order_id, status=order.status.value, placed_at=order.placed_at,
                    promised_by=order.promised_by, customer_name=order.shipping_address.name,
                    email=str(order.contact.email), phone=order.contact.phone, total=order.totals.total,
                    lines=len(order.lines)).model_dump(mode="json")


class StockAdjustment(WithReason):
    sku: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    location_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    delta: int = Field(description="Units to add (positive) or take away (negative); never below what is reserved")


class StockTransferRequest(WithReason):
    sku: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    from_location: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    to_location: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    quantity: int = Field(gt=0)


class QuarantineAction(WithReason):
    """Quarantined units (returned damaged or tampered) written off, or released to sellable."""

    sku: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    location_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    quantity: int = Field(gt=0, le=1_000_000, description="Units; never more than are quarantined there (409)")


class ReceiptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    reason: Annotated[str, typed_text(300)] | None = None
