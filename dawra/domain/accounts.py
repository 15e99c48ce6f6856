"""Business accounts on terms: a customer who orders on account (nothing charged up front; invoiced, paid later)
within a credit limit, with payment terms (net N days), a company name and a VAT number.

The account's `open_balance` is what its orders on account still owe: every such order counts from the moment it is
placed (held for approval or not) until it is paid, cancelled or refunded. It is a counter on the customer's
profile item that the order's own commits move (the unit of work adds the change of `Order.owed_on_account`), so it
can never drift from the orders. Checkout checks `open balance + order <= credit limit`: within it, the order is
placed and its commit adds its total only while the balance is still at most `limit - total` (two orders racing
for the last of the limit cannot both pass: the loser is decided again, and held); over it, the order is placed but
held for a manager's approval (the `credit_approval` hold), and counts all the same.

An invoiced order becomes a receivable due `terms_days` after its first invoice; one past its due date and not paid
is overdue (the operations view lists them per customer, with totals). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dawra.domain.customer import ShortText
from dawra.domain.errors import DomainError, InvalidOrder
from dawra.domain.holds import Hold, HoldKind, HoldReason
from dawra.domain.money import CurrencyCode, Money

ON_ACCOUNT = "on_account"  # the payment provider of orders on account: nothing charged up front, invoiced
MAX_TERMS_DAYS = 180
PoNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                            pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._/#-]*$")]
VatNumber = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z0-9]{5,20}$")]
CustomerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class AccountNotFound(DomainError):
    """The customer has no business account."""


class AccountDetails(BaseModel):
    """What a manager sets on a business account."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True)

    company_name: ShortText
    vat_number: VatNumber
    credit_limit: Money
    terms_days: int = Field(ge=0, le=MAX_TERMS_DAYS, description="Net days: an invoice is due this many days after "
                                                                 "it is issued (0: due on issue)")


class BusinessAccount(AccountDetails):
    """A customer marked as business: the details a manager set, and the balance its orders keep."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    customer_id: CustomerId
    open_balance: int = Field(default=0, description="Minor units its orders on account still owe (placed, not "
                                                     "yet paid, cancelled or refunded), in the limit's currency")
    created_at: str
    updated_at: str
    version: int = 0  # of the details; the balance is a counter the orders' commits move, outside the version

    @property
    def currency(self) -> str:
        return self.credit_limit.currency

    @property
    def headroom(self) -> int:
        """What may still be ordered on account without a manager's approval (negative: over the limit)."""
        return self.credit_limit.amount - self.open_balance

    def check(self, total: Money) -> CreditCheck:
        """Open balance + this order <= credit limit? Either way the order is placed; over it, it is held."""
        if total.currency != self.currency:
            raise InvalidOrder(f"this business account is kept in {self.currency}; the order is in {total.currency}",
                               field="payment_method")
        return CreditCheck(within=self.open_balance + total.amount <= self.credit_limit.amount,
                           balance=self.open_balance, limit=self.credit_limit.amount, total=total.amount)

    def terms(self, po_number: str, check: CreditCheck) -> AccountTerms:
        """What an order placed on this account carries for its invoice and its receivable."""
        return AccountTerms(po_number=po_number, company_name=self.company_name, vat_number=self.vat_number,
                            terms_days=self.terms_days, over_limit=not check.within)

    def changed(self, details: AccountDetails, at: str) -> BusinessAccount:
        if details.credit_limit.currency != self.currency and self.open_balance:
            raise InvalidOrder(f"the account owes {self.open_balance} {self.currency} minor units: its currency "
                               "cannot change until that is paid", field="credit_limit")
        return self.model_copy(update={**details.model_dump(), "credit_limit": details.credit_limit,
                                       "updated_at": at})


@dataclass(frozen=True)
class CreditCheck:
    within: bool
    balance: int  # the open balance it was decided on
    limit: int
    total: int

    @property
    def ceiling(self) -> int:
        """The highest open balance the order may still be added to (its commit's condition)."""
        return self.limit - self.total


@dataclass(frozen=True)
class OnAccount:
    """Checkout's decision for an order on account: the terms it carries, the hold it waits in when it is over the
    credit limit, or else the ceiling its commit is conditioned on."""

    terms: AccountTerms
    hold: Hold | None
    ceiling: int | None


def decide(account: BusinessAccount, po_number: str, total: Money) -> OnAccount:
    check = account.check(total)
    terms = account.terms(po_number, check)
    if check.within:
        return OnAccount(terms, None, check.ceiling)
    over = check.balance + check.total - check.limit
    money = f"{over / 100:.2f} {account.currency}"  # operators' words (minor units of 2-decimal currencies)
    return OnAccount(terms, Hold(kind=HoldKind.CREDIT_APPROVAL, reason=f"over the credit limit by {money}", reasons=[
        HoldReason(code="credit_limit", en=f"The open balance with this order is {money} over the credit limit",
                   ar=f"الرصيد المفتوح مع هذا الطلب يتجاوز حد الائتمان بمقدار {money}")]), None)


class AccountPayment(BaseModel):
    """A payment a manager recorded against an order's invoice (a bank transfer, a cheque)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    at: str
    amount: int = Field(gt=0)
    reference: str  # the bank's or the cheque's reference, as typed
    invoice_number: str | None = None
    by: str  # the operator's id


class AccountTerms(BaseModel):
    """What an order on account carries: its PO number, the account's terms when it was placed, its due date once
    invoiced, and what was paid against it."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    po_number: str
    company_name: str
    vat_number: str
    terms_days: int
    over_limit: bool = False  # placed over the credit limit: held for a manager's approval
    invoiced_on: str | None = None  # the UTC date of its first invoice (its first parcel shipped)
    due_on: str | None = None  # invoiced_on + terms_days
    paid: int = 0
    payments: list[AccountPayment] = Field(default_factory=list)

    def invoiced(self, on: date) -> AccountTerms:
        """The first invoice makes the order a receivable due `terms_days` later; later invoices keep that date."""
        if self.invoiced_on:
            return self
        return self.model_copy(update={"invoiced_on": on.isoformat(),
                                       "due_on": (on + timedelta(days=self.terms_days)).isoformat()})

    def due_for(self, issued_at: str) -> str:
        """An invoice issued at `issued_at` (UTC ISO-8601) is due `terms_days` later (a UTC date)."""
        return (date.fromisoformat(issued_at[:10]) + timedelta(days=self.terms_days)).isoformat()

    def with_payment(self, payment: AccountPayment) -> AccountTerms:
        return self.model_copy(update={"paid": self.paid + payment.amount, "payments": [*self.payments, payment]})


class Receivable(BaseModel):
    """An invoiced order on account not yet paid in full: what the overdue list reads (one item per order)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    customer_id: str
    order_id: str
    company_name: str
    po_number: str
    invoiced_on: str
    due_on: str
    outstanding: int = Field(gt=0)
    currency: CurrencyCode


class OverdueInvoice(BaseModel):
    model_config = ConfigDict(defer_build=True)

    order_id: str
    po_number: str
    invoiced_on: str
    due_on: str
    days_overdue: int
    outstanding: Money


class OverdueCustomer(BaseModel):
    model_config = ConfigDict(defer_build=True)

    customer_id: str
    company_name: str
    invoices: list[OverdueInvoice]  # the longest overdue first
    totals: list[Money]  # per currency


class OverdueInvoices(BaseModel):
    """Invoices past their due date and unpaid, per customer (the most owed first), with totals."""

    model_config = ConfigDict(defer_build=True)

    customers: list[OverdueCustomer]
    totals: list[Money]  # per currency, every customer together
    count: int


def overdue(receivables: Sequence[Receivable], today: date) -> OverdueInvoices:
    """The receivables due before `today` (an invoice due today is not late yet), grouped per customer."""
    by_customer: dict[str, list[Receivable]] = {}
    for receivable in receivables:
        if date.fromisoformat(receivable.due_on) < today:
            by_customer.setdefault(receivable.customer_id, []).append(receivable)
    customers = []
    for customer_id, owed in by_customer.items():
        owed.sort(key=lambda r: (r.due_on, r.order_id))
        customers.append(OverdueCustomer(
            customer_id=customer_id, company_name=owed[-1].company_name, totals=_totals(owed),
            invoices=[OverdueInvoice(order_id=r.order_id, po_number=r.po_number, invoiced_on=r.invoiced_on,
                                     due_on=r.due_on, days_overdue=(today - date.fromisoformat(r.due_on)).days,
                                     outstanding=Money(amount=r.outstanding, currency=r.currency)) for r in owed]))
    customers.sort(key=lambda c: (-sum(m.amount for m in c.totals), c.customer_id))
    every = [r for owed in by_customer.values() for r in owed]
    return OverdueInvoices(customers=customers, totals=_totals(every), count=len(every))


def _totals(receivables: Sequence[Receivable]) -> list[Money]:
    sums: dict[str, int] = {}
    for receivable in receivables:
        sums[receivable.currency] = sums.get(receivable.currency, 0) + receivable.outstanding
    return [Money(amount=amount, currency=currency) for currency, amount in sorted(sums.items())]
