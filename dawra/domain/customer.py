"""Who an order is for and where it goes: validated value objects."""

from __future__ import annotations

import re
from typing import Annotated, Literal

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, StringConstraints, model_validator

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"  # what a person typed never carries control characters
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_CONTROL)]


def typed_text(max_length: int) -> StringConstraints:
    """The constraints on an optional field a person typed: `Annotated[str, typed_text(200)] | None`."""
    return StringConstraints(strip_whitespace=True, max_length=max_length, pattern=NO_CONTROL)


def _e164(value: str) -> str:
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("must be a phone number in international format, e.g. +966501234567") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


PhoneNumber = Annotated[str, AfterValidator(_e164)]


class Value(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True)


class Address(Value):
    name: ShortText
    line1: ShortText
    line2: Annotated[str, typed_text(200)] | None = None
    city: ShortText
    region: Annotated[str, typed_text(100)] | None = None
    postal_code: Annotated[str, typed_text(20)] | None = None
    country: CountryCode
    phone: PhoneNumber | None = None  # the recipient's, for the courier (E.164)


class Contact(Value):
    email: EmailStr
    phone: PhoneNumber | None = None
    preferred_channel: Literal["email", "sms", "both"] = "email"
    language: Literal["en", "ar"] = "en"

    @model_validator(mode="after")
    def _sms_needs_phone(self) -> Contact:
        if self.preferred_channel in ("sms", "both") and not self.phone:
            raise ValueError(f"preferred_channel '{self.preferred_channel}' needs a phone number")
        return self


# How an address is written in each country the merchant ships to: the shape of its postal code, or None where the
# country has no postal codes (the UAE, Qatar). Checked when an address changes; a country missing here is not served.
POSTAL_CODES: dict[str, str | None] = {
    "SA": r"^\d{5}(-\d{4})?$",  # five digits, optionally the four-digit extension
    "AE": None,
    "KW": r"^\d{5}$",
    "BH": r"^\d{3,4}$",  # block numbers
    "OM": r"^\d{3}$",
    "QA": None,
}


def address_problem(address: Address) -> tuple[str, str] | None:
    """(field, why) when the address is not one the couriers of its country can use; None when it is. The phone, if
    given, is already E.164 and valid (the model checks it); here: a number of that country, which its couriers call."""
    country = address.country
    if country not in POSTAL_CODES:
        return "country", f"We do not deliver to {country}."
    shape = POSTAL_CODES[country]
    if address.postal_code and shape is None:
        return "postal_code", f"Addresses in {country} have no postal code: leave it empty."
    if address.postal_code and shape and not re.fullmatch(shape, address.postal_code):
        return "postal_code", f"{address.postal_code} is not a postal code in {country}."
    if address.phone and phonenumbers.region_code_for_number(phonenumbers.parse(address.phone)) != country:
        return "phone", f"The phone number must be one in {country}: the courier calls it there."
    return None
