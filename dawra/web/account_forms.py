"""The console's business-account forms, read into the admin API's own request models (dawra.contracts.accounts):
an account's details (the credit limit typed in major units, in the currency chosen) and a payment received."""

from __future__ import annotations

from dawra.contracts.accounts import AccountRequest, PaymentRequest
from dawra.web.formatting import ARABIC_INDIC_DIGITS
from dawra.web.forms import FormInvalid, _validate, minor_units
from dawra.web.http import WebRequest

CURRENCIES = ("SAR", "AED", "KWD", "BHD", "QAR", "OMR", "USD")
_TO_LATIN = str.maketrans(ARABIC_INDIC_DIGITS, "0123456789")


def _amount(request: WebRequest, name: str, currency: str) -> int:
    try:
        return minor_units(request.field(name), currency)
    except FormInvalid as invalid:
        raise FormInvalid([(name, message) for _, message in invalid.problems]) from None


def account_request(request: WebRequest) -> tuple[str, AccountRequest]:
    """(customer id, what the manager set). Terms are whole days (0: due on issue)."""
    currency = request.field("currency").strip().upper()
    if currency not in CURRENCIES:
        raise FormInvalid([("currency", "choose a currency")])
    terms = request.field("terms_days").strip().translate(_TO_LATIN)
    if not terms.isdigit():
        raise FormInvalid([("terms_days", "is not a whole number of days")])
    return request.field("customer_id").strip(), _validate(AccountRequest, {
        "company_name": request.field("company_name"), "vat_number": request.field("vat_number"),
        "credit_limit": {"amount": _amount(request, "credit_limit", currency), "currency": currency},
        "terms_days": int(terms), "reason": request.field("reason")})


def payment_request(request: WebRequest, currency: str) -> PaymentRequest:
    return _validate(PaymentRequest, {"amount": _amount(request, "amount", currency),
                                      "reference": request.field("reference"),
                                      "invoice_number": request.field("invoice_number").strip() or None})
