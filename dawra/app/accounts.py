"""Business accounts in the back office: a manager marks a customer as business (company, VAT number, credit limit,
payment terms) and changes it, records the payments its invoices receive, and everyone with the operations view sees
the overdue invoices.

Each change is authorised by role and committed with its audit entry in one transaction, once per request key (the
entry's id derives from the operator and the key; the same key with other values is refused). An account's details
are written over the version they were read at; its open balance is never written here: only the commits of its
orders on account move it (dawra.domain.accounts), a recorded payment included (ChangeOrder commits the order, and
the order's commit moves its account's balance)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dawra.app.changes import Change, ChangeOrder, Outcome, audit_id_for, request_fingerprint
from dawra.app.common import now_iso, retry_on_race
from dawra.domain.access import Actor, Permission, authorize
from dawra.domain.accounts import (
    AccountDetails,
    AccountNotFound,
    AccountPayment,
    BusinessAccount,
    OverdueInvoices,
    overdue,
)
from dawra.domain.audit import AuditEntry
from dawra.domain.errors import IdempotencyKeyReused, InvalidOrder
from dawra.domain.order import Order
from dawra.ports import AuditLog, Clock, CustomerAccounts, OrderRepository, UnitOfWork

ACCOUNT_ACTIONS = ("open_account", "change_account", "record_payment")  # as their audit entries name them


def account_subject(customer_id: str) -> str:
    return f"account:{customer_id}"


@dataclass(frozen=True)
class AccountOutcome:
    account: BusinessAccount
    audit: AuditEntry
    replayed: bool  # the request had already been applied: nothing was done twice


class BusinessAccounts:
    def __init__(self, accounts: CustomerAccounts, orders: OrderRepository, uow: UnitOfWork, audit: AuditLog,
                 clock: Clock):
        self.accounts, self.audit, self.clock = accounts, audit, clock
        self.change = ChangeOrder(orders, uow, audit, clock)

    def view(self, actor: Actor, customer_id: str) -> BusinessAccount:
        authorize(actor, Permission.VIEW_ORDERS)
        account = self.accounts.account(customer_id)
        if account is None:
            raise AccountNotFound(f"customer {customer_id} has no business account")
        return account

    def history(self, actor: Actor, customer_id: str) -> list[AuditEntry]:
        """Who opened and changed the account, oldest first."""
        authorize(actor, Permission.VIEW_ORDERS)
        return self.audit.for_subject(account_subject(customer_id))

    def save(self, actor: Actor, key: str, customer_id: str, details: AccountDetails, reason: str) -> AccountOutcome:
        """Mark a customer as business (a new account), or change its details; the open balance stays its
        orders'."""
        authorize(actor, Permission.MANAGE_ACCOUNTS)
        subject, audit_id = account_subject(customer_id), audit_id_for(actor, key)
        print_ = request_fingerprint("account", reason, {"customer_id": customer_id,
                                                         **details.model_dump(mode="json")})

        def attempt() -> AccountOutcome:
            done = self.audit.entry(subject, audit_id)
            if done is not None:
                if done.fingerprint not in (None, print_):
                    raise IdempotencyKeyReused("this Idempotency-Key was used for another change")
                return AccountOutcome(self.view(actor, customer_id), done, replayed=True)
            at = now_iso(self.clock)
            current = self.accounts.account(customer_id)
            if current is None:
                account = BusinessAccount(customer_id=customer_id, created_at=at, updated_at=at,
                                          **details.model_dump())
                before: dict[str, object] = {}
            else:
                account = current.changed(details, at)
                before = _details(current)
            after = _details(account)
            changed = [name for name in after if before.get(name) != after[name]]
            entry = AuditEntry(audit_id=audit_id, subject=subject,
                               action="open_account" if current is None else "change_account",
                               actor_id=actor.user_id, actor_name=actor.username, roles=sorted(actor.roles), at=at,
                               reason=reason, before={name: before[name] for name in changed if name in before},
                               after={name: after[name] for name in changed}, fingerprint=print_)
            self.accounts.save(account, entry)
            stored = self.accounts.account(customer_id)
            return AccountOutcome(stored or account, entry, replayed=False)

        return retry_on_race(attempt, f"account of {customer_id}")

    def record_payment(self, actor: Actor, order_id: str, key: str, amount: int, reference: str,
                       invoice_number: str | None = None) -> Outcome:
        """A payment received against an order's invoice (a transfer, a cheque): what the order owes goes down,
        and with it its account's open balance, in the same commit; never more than it owes."""
        authorize(actor, Permission.MANAGE_ACCOUNTS)

        def decide(order: Order, ref: str) -> Change:
            if invoice_number and invoice_number not in {d.number for d in order.documents}:
                raise InvalidOrder(f"order {order_id} has no invoice {invoice_number}", field="invoice_number")
            order.record_account_payment(AccountPayment(at=now_iso(self.clock), amount=amount, reference=reference,
                                                        invoice_number=invoice_number, by=actor.user_id))
            return Change(detail={"paid_now": amount, "owed": order.owed_on_account})

        return self.change(actor, order_id, key, "record_payment", reference, decide,
                           {"amount": amount, "invoice_number": invoice_number})

    def overdue(self, actor: Actor, today: date) -> OverdueInvoices:
        """Invoices past their due date and not paid, per customer, with totals."""
        authorize(actor, Permission.VIEW_OPERATIONS)
        return overdue(self.accounts.receivables(today.isoformat()), today)


def _details(account: BusinessAccount) -> dict[str, object]:
    return account.model_dump(mode="json", include={"company_name", "vat_number", "credit_limit", "terms_days"})
