"""Admin API: business accounts (a manager's: company, VAT number, credit limit, terms), payments received against
an order's invoice, and the invoices past their due date. Every change is audited in the same commit."""

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from office import ORDER, Key, OrderId, acted, caller, office

from dawra.app.accounts import BusinessAccounts
from dawra.contracts import accounts as contract
from dawra.contracts import admin
from dawra.domain.accounts import OverdueInvoices

router = APIGatewayRouter()
CustomerId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


def business() -> BusinessAccounts:
    if office.accounts is None:  # pragma: no cover - bootstrap always builds it
        raise RuntimeError("business accounts are not configured")
    return office.accounts


@router.get("/admin/api/accounts/<customer_id>", summary="A business account: terms, open balance, history")
def account(customer_id: CustomerId) -> contract.AccountView:
    actor = caller(router)
    found = business().view(actor, customer_id)
    return contract.AccountView.model_validate(contract.account_view(found, business().history(actor, customer_id)))


@router.post("/admin/api/accounts/<customer_id>", summary="Mark a customer as business, or change its account")
def save(customer_id: CustomerId, body: Annotated[contract.AccountRequest, Body()], key: Key) -> contract.AccountResult:
    outcome = business().save(caller(router), key, customer_id, body.details(), body.reason)
    return contract.AccountResult.model_validate(contract.account_result(outcome.account, outcome.audit,
                                                                          outcome.replayed))


@router.post(f"{ORDER}/payments", summary="Record a payment received against an order's invoice (on account)")
def payment(order_id: OrderId, body: Annotated[contract.PaymentRequest, Body()], key: Key) -> admin.ActionResult:
    actor = caller(router)
    outcome = business().record_payment(actor, order_id, key, body.amount, body.reference, body.invoice_number)
    return admin.ActionResult.model_validate(acted(actor, outcome))


@router.get("/admin/api/receivables/overdue", summary="Invoices past their due date and unpaid, per customer")
def overdue() -> OverdueInvoices:
    return business().overdue(caller(router), datetime.now(UTC).date())
