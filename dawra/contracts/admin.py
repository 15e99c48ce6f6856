"""What crosses the back office's boundary: who the caller is (from the identity provider's claims), and the admin
API's request and response shapes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from dawra.contracts.api import OrderDetails, OrderView, ShippingAddress, order_view
from dawra.domain.access import Actor, Role
from dawra.domain.accounts import AccountTerms
from dawra.domain.audit import AuditEntry
from dawra.domain.cod import RemittanceReport, RowResult
from dawra.domain.customer import NO_CONTROL, Address, Contact, typed_text
from dawra.domain.errors import Unauthenticated
from dawra.domain.holds import HoldKind, HoldReason
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
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True)

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300,
                                             pattern=NO_CONTROL)]


class RefundRequest(WithReason):
    amount: int = Field(gt=0, description="Minor units, in the order's currency")


class AddressChange(WithReason):
    address: ShippingAddress


class NoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True)

    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000,
                                           pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$")]  # newlines allowed


class Me(BaseModel):
    model_config = ConfigDict(defer_build=True)

    user_id: str
    username: str
    roles: list[str]
    permissions: list[str]
    language: str


class AuditView(BaseModel):
    model_config = ConfigDict(defer_build=True)

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
    hold_kind: HoldKind | None = Field(default=None, description=(
        "The kind of hold the order is on (operator, awaiting_link_payment, fraud_review, cod_confirmation, "
        "credit_approval): who may release or reject it, and what its timeout does; null when not held"))
    hold_reasons: list[HoldReason] = Field(default_factory=list, description=(
        "Why it is held, as codes (a fraud rule's: risk.<rule id>) and words in English and Arabic"))
    account: AccountTerms | None = Field(default=None, description=(
        "Placed on a business account's terms: the PO number, the terms, whether it was over the credit limit "
        "(held for approval), its due date once invoiced, and the payments received; null for other orders"))


class OrderRow(BaseModel):
    model_config = ConfigDict(defer_build=True)

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
    model_config = ConfigDict(defer_build=True)

    orders: list[OrderRow]
    cursor: str | None = None


class ActionResult(BaseModel):
    model_config = ConfigDict(defer_build=True)

    order: AdminOrderView
    audit: AuditView
    replayed: bool = Field(description="True when this Idempotency-Key was already applied: nothing was done twice")


class PlacedForCustomer(BaseModel):
    model_config = ConfigDict(defer_build=True)

    order: AdminOrderView
    payment_link: str | None = None


class AuditList(BaseModel):
    model_config = ConfigDict(defer_build=True)

    entries: list[AuditView]
    cursor: str | None = None


def audit_view(entry: AuditEntry) -> dict[str, Any]:
    return AuditView.model_validate(entry.model_dump()).model_dump(mode="json")


def admin_order_view(order: Order, timeline: list[TimelineEvent], audit: list[AuditEntry]) -> dict[str, Any]:
    view = AdminOrderView.model_validate({
        **order_view(order, timeline),
        **order.model_dump(include={"contact", "shipping_address", "placed_by", "hold_reason", "held_at",
                                    "cancellation_requested", "cancelled_lines", "account"}, mode="json"),
        "payment_provider": order.payment.provider,
        "audit": [audit_view(entry) for entry in audit],
        "hold_kind": order.held_as, "hold_reasons": [r.model_dump() for r in order.hold_reasons or []],
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


class ReplenishmentPlanRequest(WithReason):
    """A stock item's reorder point and target (both null: no longer planned)."""

    sku: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    location_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    reorder_point: int | None = Field(ge=0, le=1_000_000, description="Alert and reorder below this available")
    target: int | None = Field(ge=0, le=1_000_000, description="Reorder up to this; at least the reorder point")


class SuggestedTransferApproval(BaseModel):
    """A transfer the replenishment report suggests, approved (at most the quantity it suggests now)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    sku: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    from_location: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    to_location: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    quantity: int = Field(gt=0, le=1_000_000)


class QuarantineAction(WithReason):
    """Quarantined units (returned damaged or tampered) written off, or released to sellable."""

    sku: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    location_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    quantity: int = Field(gt=0, le=1_000_000, description="Units; never more than are quarantined there (409)")


class ReceiptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True)

    reason: Annotated[str, typed_text(300)] | None = None


# --- cash on delivery: couriers' remittance files (dawra.domain.cod) -----------------------------------------------
class RemittanceUpload(BaseModel):
    """A courier's remittance file, as text (CSV with a header: tracking_number, amount_collected, courier_fee,
    remittance_reference, remittance_date; optional currency). Amounts in the currency's major units ("189.75")."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    file_name: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_CONTROL)]
    content: Annotated[str, StringConstraints(min_length=1, max_length=60 * 1024)]


class RemittanceReportView(BaseModel):
    """A file's reconciliation. `duplicate`: the same file was imported before; this is its first report, and
    nothing was applied now."""

    model_config = ConfigDict(defer_build=True)

    digest: str = Field(description="Names the file (a digest of its content): GET .../remittances/{digest}")
    file_name: str
    imported_at: str
    imported_by: str
    currency: str
    duplicate: bool
    counts: dict[str, int] = Field(description="Rows per outcome: exact, short, over, unknown, not_cod, "
                                               "already_remitted, duplicate_row, invalid")
    collected: Money = Field(description="What the applied rows say the couriers collected")
    fees: Money
    remitted: Money = Field(description="What reached the merchant: collected less fees")
    short_by: Money = Field(description="What the short rows lack altogether")
    rows: list[RowResult] = Field(description="Every row, by its line in the file (the header is line 1)")


def remittance_view(report: RemittanceReport) -> dict[str, Any]:
    return RemittanceReportView(
        digest=report.digest, file_name=report.file_name, imported_at=report.imported_at,
        imported_by=report.imported_by, currency=report.currency, duplicate=report.duplicate, counts=report.counts,
        collected=report.total("collected"), fees=report.total("fee"), remitted=report.total("remitted"),
        short_by=report.short_by, rows=report.rows).model_dump(mode="json")


class OwedParcelView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    order_id: str
    shipment_id: str
    carrier: str
    tracking_number: str
    delivered_at: str
    due: Money
    collected_at_door: Money | None = None
    days: int = Field(description="Whole days since delivery")


class RemittanceOverviewView(BaseModel):
    """Parcels paid in cash at the door, delivered more than `days` days ago and not remitted (oldest first), and
    the latest files imported."""

    model_config = ConfigDict(defer_build=True)

    days: int
    owed: list[OwedParcelView]
    truncated: bool
    imports: list[RemittanceReportView]


# --- holds and fraud screening (dawra.domain.holds, dawra.domain.risk) ------------------------------------------------
class HeldRow(BaseModel):
    """An order waiting on a hold (the review queue's row): what held it and since when."""

    model_config = ConfigDict(defer_build=True)

    order_id: str
    placed_at: str
    held_at: str | None = None
    hold_kind: HoldKind
    hold_reason: str | None = None
    hold_reasons: list[HoldReason]
    customer_name: str
    total: Money
    payment_provider: str


class HeldList(BaseModel):
    model_config = ConfigDict(defer_build=True)

    orders: list[HeldRow] = Field(description="Oldest hold first")


class RefusalView(BaseModel):
    """A checkout the fraud screening refused (kept 30 days): the rules that refused it; no personal data, only the
    first characters of the keyed digests of its email, phone, card and IP (two refusals of one email share it)."""

    model_config = ConfigDict(defer_build=True)

    refusal_id: str
    at: str
    rules_version: str
    reasons: list[HoldReason]
    country: str
    total: Money
    cash_on_delivery: bool
    placed_by: str | None = None
    signals: dict[str, str]


class RefusalList(BaseModel):
    model_config = ConfigDict(defer_build=True)

    day: str
    refusals: list[RefusalView] = Field(description="Newest first")


def held_row(order: Order) -> dict[str, Any]:
    return HeldRow(order_id=order.order_id, placed_at=order.placed_at, held_at=order.held_at,
                   hold_kind=order.held_as or HoldKind.OPERATOR, hold_reason=order.hold_reason,
                   hold_reasons=order.hold_reasons or [], customer_name=order.shipping_address.name,
                   total=order.totals.total, payment_provider=order.payment.provider).model_dump(mode="json")
