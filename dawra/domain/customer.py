"""Who an order is for and where it goes: validated value objects."""

from __future__ import annotations

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
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Address(Value):
    name: ShortText
    line1: ShortText
    line2: Annotated[str, typed_text(200)] | None = None
    city: ShortText
    region: Annotated[str, typed_text(100)] | None = None
    postal_code: Annotated[str, typed_text(20)] | None = None
    country: CountryCode


class Contact(Value):
    email: EmailStr
    phone: PhoneNumber | None = None
    preferred_channel: Literal["email", "sms"] = "email"
    language: Literal["en", "ar"] = "en"

    @model_validator(mode="after")
    def _sms_needs_phone(self) -> Contact:
        if self.preferred_channel == "sms" and not self.phone:
            raise ValueError("preferred_channel 'sms' needs a phone number")
        return self
