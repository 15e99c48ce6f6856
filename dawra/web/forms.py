"""What an operator typed into a console form, turned into the back office's request models.

Every field is validated by the same contract models the admin API uses (dawra.contracts.admin); a form that does not
validate becomes a `FormInvalid` listing each field's problem, shown on the page with a 422."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import phonenumbers
from babel.numbers import get_currency_precision
from pydantic import BaseModel, ValidationError

from dawra.contracts.admin import AddressChange, AgentOrderRequest, NoteRequest, RefundRequest, WithReason
from dawra.ports import OrderQuery
from dawra.web.formatting import ARABIC_INDIC_DIGITS
from dawra.web.http import WebRequest

DEFAULT_PHONE_REGION = "SA"  # a number typed without +<country code> is read as a Saudi one
ORDER_LINE_ROWS = 4  # the place-order form's sku/quantity rows
M = TypeVar("M", bound=BaseModel)
# Arabic-Indic digits, the Arabic decimal and thousands separators and the minus sign, as typed on an Arabic keyboard
_TO_LATIN = str.maketrans(ARABIC_INDIC_DIGITS + "\u066b\u066c\u2212", "0123456789.,-")
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "region", "postal_code")


class FormInvalid(Exception):
    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))
        self.problems = problems


def _validate(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = [(".".join(str(part) for part in item["loc"]) or "form", item["msg"])
                    for item in error.errors(include_url=False, include_input=False)]
        raise FormInvalid(problems) from None


def _blank_is_none(value: str) -> str | None:
    value = value.strip()
    return value or None


def phone_e164(value: str) -> str:
    """A phone number as the orders are indexed by it (E.164); what cannot be read as one is searched as typed."""
    try:
        parsed = phonenumbers.parse(value, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return value.strip()
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _day_start(value: str) -> str | None:
    """A date input (YYYY-MM-DD) as the start of that UTC day; anything else is ignored."""
    value = value.strip()
    if len(value) != 10 or not value.replace("-", "").isdigit():
        return None
    return f"{value}T00:00:00.000Z"


def _day_after(value: str) -> str | None:
    start = _day_start(value)
    if start is None:
        return None
    try:
        return f"{(date.fromisoformat(value.strip()) + timedelta(days=1)).isoformat()}T00:00:00.000Z"
    except ValueError:
        return None


SEARCH_FIELDS = ("status", "placed_from", "placed_to", "reference", "email", "phone", "sku", "location")


def order_query(request: WebRequest) -> OrderQuery:
    """The orders page's filters. The date range is inclusive of both days the operator picked."""
    reference = request.arg("reference")
    if reference.startswith("#"):
        reference = reference[1:]
    phone = request.arg("phone")
    return OrderQuery(
        status=_blank_is_none(request.arg("status")),
        placed_from=_day_start(request.arg("placed_from")),
        placed_to=_day_after(request.arg("placed_to")),
        reference=_blank_is_none(reference),
        email=_blank_is_none(request.arg("email").lower()),
        phone=phone_e164(phone) if phone.strip() else None,
        sku=_blank_is_none(request.arg("sku").upper()),
        location=_blank_is_none(request.arg("location")))


def reason(request: WebRequest) -> str:
    return _validate(WithReason, {"reason": request.field("reason")}).reason


def note(request: WebRequest) -> str:
    return _validate(NoteRequest, {"note": request.field("note")}).note


def minor_units(text: str, currency: str) -> int:
    """An amount typed in the currency's major units ("12.50", or in Arabic-Indic digits with the Arabic decimal
    separator) as minor units (1250)."""
    normalised = text.strip().translate(_TO_LATIN).replace(",", "")
    try:
        amount = Decimal(normalised)
    except InvalidOperation:
        raise FormInvalid([("amount", "is not a number")]) from None
    minor = amount.scaleb(get_currency_precision(currency))
    if minor != minor.to_integral_value() or minor <= 0:
        raise FormInvalid([("amount", f"must be more than zero, with at most {get_currency_precision(currency)} "
                                      "decimals")])
    return int(minor)


def count(request: WebRequest, name: str) -> int:
    """A whole number of units (a stock delta may be negative), Arabic-Indic digits accepted."""
    text = request.field(name).strip().translate(_TO_LATIN)
    try:
        value = int(text)
    except ValueError:
        raise FormInvalid([(name, "is not a whole number")]) from None
    if value == 0 or abs(value) > 1_000_000:
        raise FormInvalid([(name, "must not be zero, and at most a million")])
    return value


def refund(request: WebRequest, currency: str) -> RefundRequest:
    amount = minor_units(request.field("amount"), currency)
    return _validate(RefundRequest, {"amount": amount, "reason": request.field("reason")})


def address_change(request: WebRequest, country: str) -> AddressChange:
    """The country cannot change (prices, tax and the promise depend on it): it comes from the order, not the form."""
    address: dict[str, Any] = {name: _blank_is_none(request.field(name)) for name in ADDRESS_FIELDS}
    return _validate(AddressChange, {"address": {**{k: v for k, v in address.items() if v is not None},
                                                 "country": country},
                                     "reason": request.field("reason")})


def agent_order(request: WebRequest) -> AgentOrderRequest:
    phone = request.field("phone").strip()
    lines = []
    for row in range(ORDER_LINE_ROWS):
        sku = request.field(f"sku_{row}").strip().upper()
        quantity = request.field(f"quantity_{row}").strip()
        if sku or quantity:
            lines.append({"sku": sku, "quantity": quantity or "1"})
    customer_id = request.field("customer_id").strip()
    if not customer_id and phone:
        customer_id = "phone-" + "".join(ch for ch in phone_e164(phone) if ch.isdigit())
    contact: dict[str, Any] = {"email": request.field("email").strip(),
                               "preferred_channel": request.field("preferred_channel") or "email",
                               "language": request.field("customer_language") or "en"}
    if phone:
        contact["phone"] = phone_e164(phone)
    address = {name: _blank_is_none(request.field(name)) for name in ADDRESS_FIELDS}
    data: dict[str, Any] = {
        "customer_id": customer_id,
        "contact": contact,
        "shipping_address": {**{k: v for k, v in address.items() if v is not None},
                             "country": request.field("country")},
        "shipping_method": request.field("shipping_method") or "standard",
        "lines": lines,
        "payment": request.field("payment"),
    }
    hold_reason = _blank_is_none(request.field("hold_reason"))
    if hold_reason:
        data["hold_reason"] = hold_reason
    if gift := _gift(request):
        data["gift"] = gift
    return _validate(AgentOrderRequest, data)


def _gift(request: WebRequest) -> dict[str, Any] | None:
    """The form's gift fieldset: a gift when ticked, or when wrapping, a message or a recipient was given."""
    wrap = request.field("gift_wrap") == "yes"
    message, recipient = request.field("gift_message"), request.field("gift_recipient")
    if request.field("gift") != "yes" and not (wrap or message.strip() or recipient.strip()):
        return None
    return {"wrap": wrap, "message": message, "recipient_name": recipient}


def level(request: WebRequest, name: str) -> int | None:
    """A stock level that may be zero or left empty (None), Arabic-Indic digits accepted."""
    text = request.field(name).strip().translate(_TO_LATIN)
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise FormInvalid([(name, "is not a whole number")]) from None
    if not 0 <= value <= 1_000_000:
        raise FormInvalid([(name, "must be between 0 and a million")])
    return value
