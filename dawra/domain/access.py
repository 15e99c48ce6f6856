"""Who may do what in the back office: four roles, one table of permissions, one rule about refund size.

Identity (who the operator is, which Cognito groups they belong to) is established outside the domain: API Gateway's
Cognito authorizer, or the console's verified session. Here an `Actor` is just what that established, and
`authorize` is the one check every back-office use case makes before it reads or changes anything."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field

from dawra.domain.errors import Forbidden
from dawra.domain.money import Money


class Role(enum.StrEnum):
    AGENT = "agent"  # customer-facing: find orders, cancel, change the address, resend, notes, holds, small refunds
    WAREHOUSE = "warehouse"  # stock: levels, adjustments, transfers; pick/pack and inspection as they are built
    MANAGER = "manager"  # everything, refunds of any size, the operations view
    STORE = "store"  # a store's staff: its pickup desk (mark ready, hand over by code), orders and stock to read


class Permission(enum.StrEnum):
    VIEW_ORDERS = "view_orders"
    CANCEL = "cancel"
    REFUND = "refund"
    CHANGE_ADDRESS = "change_address"
    RESEND_MESSAGE = "resend_message"
    ADD_NOTE = "add_note"
    HOLD = "hold"
    PLACE_ORDER = "place_order"
    VIEW_STOCK = "view_stock"
    ADJUST_STOCK = "adjust_stock"
    TRANSFER_STOCK = "transfer_stock"
    VIEW_OPERATIONS = "view_operations"
    VIEW_AUDIT = "view_audit"
    RECONCILE_COD = "reconcile_cod"  # import couriers' cash-on-delivery remittance files, read their reconciliation
    CONFIRM_PAYMENT = "confirm_payment"  # say a payment link was paid (releases the order it held)
    REVIEW_RISK = "review_risk"  # approve or reject an order the risk screening held for review
    APPROVE_CREDIT = "approve_credit"  # approve or refuse a business account's order over its credit limit
    MANAGE_ACCOUNTS = "manage_accounts"  # business accounts: credit limit and terms; payments received on account
    IMPORT_STOCK_FEEDS = "import_stock_feeds"  # an ERP's or 3PL's stock feed uploaded, the feeds' reports
    PLAN_REPLENISHMENT = "plan_replenishment"  # reorder points and targets; a suggested transfer approved
    PREPARE_SHIPMENTS = "prepare_shipments"  # pick and pack: the picking list, work tasks done, picked, packed
    SERVE_PICKUPS = "serve_pickups"  # store pickup: a store's desk, an order marked ready, handed over by its code


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset({P.VIEW_ORDERS, P.CANCEL, P.REFUND, P.CHANGE_ADDRESS, P.RESEND_MESSAGE, P.ADD_NOTE, P.HOLD,
                           P.PLACE_ORDER, P.VIEW_STOCK, P.REVIEW_RISK}),
    Role.WAREHOUSE: frozenset({P.VIEW_ORDERS, P.ADD_NOTE, P.VIEW_STOCK, P.ADJUST_STOCK, P.TRANSFER_STOCK,
                               P.PREPARE_SHIPMENTS}),
    Role.MANAGER: frozenset(Permission),
    Role.STORE: frozenset({P.VIEW_ORDERS, P.ADD_NOTE, P.VIEW_STOCK, P.SERVE_PICKUPS}),
}
# An agent refunds up to this many minor units per refund; above it, a manager does (per currency, default below).
AGENT_REFUND_LIMIT: dict[str, int] = {"SAR": 50_000, "AED": 50_000, "USD": 15_000}
DEFAULT_AGENT_REFUND_LIMIT = 15_000


class Actor(BaseModel):
    """An operator as the identity provider vouched for them."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    user_id: str = Field(min_length=1, max_length=128)  # the identity provider's subject: stable, not an email
    username: str = Field(min_length=1, max_length=128)
    roles: frozenset[Role]
    language: str = "en"

    def may(self, permission: Permission) -> bool:
        return any(permission in ROLE_PERMISSIONS[role] for role in self.roles)

    @property
    def permissions(self) -> frozenset[Permission]:
        return frozenset(p for p in Permission if self.may(p))


def authorize(actor: Actor, permission: Permission) -> None:
    if not actor.may(permission):
        roles = ", ".join(sorted(actor.roles)) or "no role"
        raise Forbidden(f"{permission.value.replace('_', ' ')} is not allowed for {roles}")


def authorize_refund(actor: Actor, amount: Money, already_refunded: Money | None = None) -> None:
    """An agent refunds an order up to the limit in all (so several small refunds cannot add up past it)."""
    authorize(actor, Permission.REFUND)
    if Role.MANAGER in actor.roles:
        return
    limit = AGENT_REFUND_LIMIT.get(amount.currency, DEFAULT_AGENT_REFUND_LIMIT)
    total = amount.amount + (already_refunded.amount if already_refunded else 0)
    if total > limit:
        raise Forbidden(f"refunds above {limit} minor units of {amount.currency} per order need a manager")
