"""The admin API's shapes for business accounts: a manager's account details, its view, and a payment received."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dawra.contracts.admin import AuditView, WithReason, audit_view
from dawra.domain.accounts import AccountDetails, BusinessAccount
from dawra.domain.audit import AuditEntry
from dawra.domain.customer import NO_CONTROL
from dawra.domain.money import Money


class AccountRequest(AccountDetails, WithReason):
    """Mark a customer as business, or change its account: company, VAT number, credit limit, terms; and why."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    def details(self) -> AccountDetails:
        return AccountDetails.model_validate(self.model_dump(exclude={"reason"}))


class AccountView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    customer_id: str
    company_name: str
    vat_number: str
    credit_limit: Money
    terms_days: int
    open_balance: Money = Field(description="What its orders on account still owe (placed, not paid, cancelled or "
                                            "refunded), pending approvals included")
    headroom: Money | None = Field(description="What may still be ordered on account without a manager's "
                                               "approval; null when the balance is over the limit")
    created_at: str
    updated_at: str
    history: list[AuditView] = Field(default_factory=list, description="Who opened and changed it, oldest first")


class AccountResult(BaseModel):
    model_config = ConfigDict(defer_build=True)

    account: AccountView
    audit: AuditView
    replayed: bool = Field(description="True when this Idempotency-Key was already applied: nothing was done twice")


class PaymentRequest(BaseModel):
    """A payment received against an invoiced order on account (a bank transfer, a cheque)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True)

    amount: int = Field(gt=0, description="Minor units, in the order's currency; never more than it owes (409)")
    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100,
                                                pattern=NO_CONTROL)] = Field(
        description="The bank's or the cheque's reference")
    invoice_number: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,4}-\d{4}-\d{6}$")] | None = Field(
        default=None, description="The invoice it pays (one of the order's), e.g. INV-2026-000123")


def account_view(account: BusinessAccount, history: list[AuditEntry] | None = None) -> dict[str, Any]:
    currency = account.currency
    return AccountView(
        **account.model_dump(include={"customer_id", "company_name", "vat_number", "credit_limit", "terms_days",
                                      "created_at", "updated_at"}),
        open_balance=Money(amount=max(0, account.open_balance), currency=currency),
        headroom=Money(amount=account.headroom, currency=currency) if account.headroom >= 0 else None,
        history=[AuditView.model_validate(audit_view(entry)) for entry in history or []]).model_dump(mode="json")


def account_result(account: BusinessAccount, audit: AuditEntry, replayed: bool) -> dict[str, Any]:
    return {"account": account_view(account), "audit": audit_view(audit), "replayed": replayed}
