"""Pydantic models for everything that crosses an edge: API bodies, stored items, task payloads, events."""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from typing import Annotated, Literal

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

# --- Scalars ------------------------------------------------------------------------------------------------------

CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Sku = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
OpaqueId = Annotated[str, StringConstraints(pattern=r"^[a-z]+_[A-Za-z0-9]{8,64}$")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _e164(value: str) -> str:
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("must be a phone number in international format, e.g. +966501234567") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


PhoneNumber = Annotated[str, AfterValidator(_e164)]


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """UTC ISO-8601 with a Z and millisecond precision (sortable as a string)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Money(Strict):
    """An amount in integer minor units (halalas, cents, fils) with its ISO 4217 currency."""

    amount: int = Field(ge=0, description="Integer minor units, e.g. 1999 for 19.99")
    currency: CurrencyCode

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(amount=self.amount + other.amount, currency=self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(amount=0, currency=currency)


# --- Checkout request ---------------------------------------------------------------------------------------------


class Address(Strict):
    name: ShortText
    line1: ShortText
    line2: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    city: ShortText
    region: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = None
    country: CountryCode


class Contact(Strict):
    email: EmailStr
    phone: PhoneNumber | None = None
    preferred_channel: Literal["email", "sms"] = "email"
    language: Literal["en", "ar"] = "en"

    @model_validator(mode="after")
    def _sms_needs_phone(self) -> Contact:
        if self.preferred_channel == "sms" and not self.phone:
            raise ValueError("preferred_channel 'sms' needs a phone number")
        return self


class RequestedLine(Strict):
    sku: Sku
    quantity: int = Field(ge=1, le=100)


ShippingMethod = Literal["standard", "express"]


class PlaceOrderRequest(Strict):
    """What a storefront sends to POST /orders. Prices are never taken from the client."""

    customer_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    contact: Contact
    shipping_address: Address
    shipping_method: ShippingMethod = "standard"
    lines: list[RequestedLine] = Field(min_length=1, max_length=50)
    payment_token: Annotated[str, StringConstraints(min_length=1, max_length=128)]

    @field_validator("lines")
    @classmethod
    def _one_line_per_sku(cls, lines: list[RequestedLine]) -> list[RequestedLine]:
        seen: set[str] = set()
        for line in lines:
            if line.sku in seen:
                raise ValueError(f"sku {line.sku} appears twice; send one line with the total quantity")
            seen.add(line.sku)
        return lines


# --- The order aggregate ------------------------------------------------------------------------------------------


class OrderStatus(enum.StrEnum):
    CONFIRMED = "CONFIRMED"  # placed and paid (authorised)
    ALLOCATED = "ALLOCATED"  # stock reserved
    SHIPPED = "SHIPPED"  # at least one shipment handed to a carrier
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class CatalogItem(Strict):
    sku: Sku
    title: ShortText
    unit_price: Money
    tax_class: Literal["standard", "zero"] = "standard"
    weight_g: int = Field(ge=0)


class OrderLine(Strict):
    sku: Sku
    title: str
    quantity: int = Field(ge=1)
    unit_price: Money
    line_total: Money  # unit_price * quantity, before tax
    tax: Money


class Totals(Strict):
    subtotal: Money
    shipping: Money
    tax: Money
    total: Money


class PaymentState(Strict):
    provider: str
    authorization_id: str
    authorized: Money
    captured: Money
    refunded: Money
    voided: bool = False


class Order(Strict):
    order_id: OpaqueId
    customer_id: str
    status: OrderStatus
    placed_at: str
    promised_by: str  # UTC date (YYYY-MM-DD) the customer was promised delivery by
    contact: Contact
    shipping_address: Address
    shipping_method: ShippingMethod
    lines: list[OrderLine]
    totals: Totals
    payment: PaymentState
    cancellation_reason: str | None = None
    version: int = 1


class ShipmentLine(Strict):
    sku: Sku
    quantity: int = Field(ge=1)


class ShipmentStatus(enum.StrEnum):
    ALLOCATED = "allocated"
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"


class Shipment(Strict):
    shipment_id: OpaqueId
    order_id: OpaqueId
    location_id: str
    lines: list[ShipmentLine]
    amount: Money  # this shipment's share of the order total, captured when it ships
    status: ShipmentStatus = ShipmentStatus.ALLOCATED
    carrier: str | None = None
    tracking_number: str | None = None
    label_url: str | None = None
    last_tracking_at: str | None = None
    delivered_at: str | None = None


class TimelineKind(enum.StrEnum):
    ORDER_CONFIRMED = "order_confirmed"
    STOCK_RESERVED = "stock_reserved"
    SHIPMENT_SHIPPED = "shipment_shipped"
    SHIPMENT_IN_TRANSIT = "shipment_in_transit"
    SHIPMENT_OUT_FOR_DELIVERY = "shipment_out_for_delivery"
    SHIPMENT_DELIVERED = "shipment_delivered"
    ORDER_COMPLETED = "order_completed"
    ORDER_CANCELLED = "order_cancelled"


# The timeline events a customer hears about (the notifier's rules; the stream mapping filters on them too).
NOTIFIED_KINDS: tuple[TimelineKind, ...] = (
    TimelineKind.ORDER_CONFIRMED,
    TimelineKind.SHIPMENT_SHIPPED,
    TimelineKind.SHIPMENT_DELIVERED,
    TimelineKind.ORDER_CANCELLED,
)


class TimelineEvent(Strict):
    """A customer-visible change, appended to the order in the same write as the change itself."""

    event_id: str
    order_id: OpaqueId
    kind: TimelineKind
    at: str
    shipment_id: str | None = None
    detail: dict[str, str] = Field(default_factory=dict)


_EVENT_ID = re.compile(r"^[A-Za-z0-9:._-]{1,128}$")


def timeline_event_id(kind: TimelineKind, *parts: str) -> str:
    """A deterministic event id: the same change always yields the same id, so a retried write cannot duplicate it."""
    event_id = ":".join([kind.value, *parts])
    if not _EVENT_ID.match(event_id):
        raise ValueError(f"bad event id {event_id!r}")
    return event_id


__all__ = [
    "NOTIFIED_KINDS",
    "Address",
    "CatalogItem",
    "Contact",
    "Money",
    "OpaqueId",
    "Order",
    "OrderLine",
    "OrderStatus",
    "PaymentState",
    "PlaceOrderRequest",
    "RequestedLine",
    "Shipment",
    "ShipmentLine",
    "ShipmentStatus",
    "TimelineEvent",
    "TimelineKind",
    "Totals",
    "iso_utc",
    "timeline_event_id",
    "utc_now",
]
