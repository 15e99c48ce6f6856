"""The storefront API's request and response models (the OpenAPI document is generated from them)."""

from __future__ import annotations

import enum
import ipaddress
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    field_validator,
    model_validator,
)

from dawra.contracts.problems import PROBLEM_JSON, Problem, StockProblem
from dawra.domain.accounts import PoNumber
from dawra.domain.customer import Address, Contact
from dawra.domain.gift import Gift
from dawra.domain.money import Money
from dawra.domain.order import Order, OrderLine, Totals
from dawra.domain.pricing import DEFAULT_POLICY, RequestedLine
from dawra.domain.shipment import ShipmentLine
from dawra.domain.timeline import TimelineEvent

ShippingMethod = Literal["standard", "express"]
ORDER_ID_PATTERN = r"^ord_[a-f0-9]{32}$"
EXAMPLE_ORDER: dict[str, JsonValue] = {
    "customer_id": "cust-1",
    "contact": {"email": "sara@example.com", "preferred_channel": "email", "language": "en"},
    "shipping_address": {"name": "Sara", "line1": "12 Olaya St", "city": "Riyadh", "country": "SA"},
    "shipping_method": "standard",
    "lines": [{"sku": "MUG-CLASSIC", "quantity": 2}],
    "payment_token": "tok_sandbox_approve",
}


if TYPE_CHECKING:  # the members come from the pricing policy at import time, which mypy cannot enumerate
    ServedCountry = enum.StrEnum
else:
    ServedCountry = enum.StrEnum("ServedCountry", {code: code for code in sorted(DEFAULT_POLICY.tax_bps_by_country)})


class ShippingAddress(Address):
    country: ServedCountry = Field(description="ISO 3166-1 alpha-2; only the countries the merchant ships to")


class OrderDetails(BaseModel):
    """Who and where an order is for and what is in it: what every checkout asks (the storefront's, an agent's)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True)

    customer_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    contact: Contact
    shipping_address: ShippingAddress
    shipping_method: ShippingMethod = "standard"
    lines: list[RequestedLine] = Field(min_length=1, max_length=50)
    gift: Gift | None = Field(default=None, description=(
        "A gift: packed without prices, with a gift receipt to share; wrapped for the pricing policy's gift wrap "
        "fee (one per order, taxed), with a message for the recipient"))

    @field_validator("lines")
    @classmethod
    def _one_line_per_sku(cls, lines: list[RequestedLine]) -> list[RequestedLine]:
        seen: set[str] = set()
        for line in lines:
            if line.sku in seen:
                raise ValueError(f"sku {line.sku} appears twice; send one line with the total quantity")
            seen.add(line.sku)
        return lines


CardToken = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]


class PickupAtStore(BaseModel):
    """Store pickup (click and collect): the customer collects the order at one of the shop's stores with a pickup
    desk (GET /availability lists them as "pickup" options)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    method: Literal["pickup"]
    location_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")] = Field(
        description="The store's location id")


class PlaceOrderRequest(OrderDetails):
    """What a storefront sends to POST /orders. Prices are never taken from the client."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True,
                              json_schema_extra={"examples": [EXAMPLE_ORDER]})

    payment_token: CardToken | None = Field(
        default=None, description="The card's token from the payment provider; required to pay by card")
    payment_method: Literal["card", "on_account", "cash_on_delivery"] = Field(default="card", description=(
        "card (payment_token required), or on_account: a business customer's order on its terms (nothing charged "
        "now; invoiced, due after the account's terms; po_number required; over the credit limit it is placed "
        "and held for a manager's approval), or cash_on_delivery: paid to the courier at the door (nothing "
        "authorised; offered per country up to a maximum total, with a fee that is a line of the totals, "
        "totals.cod_fee; refused with 422 cash_on_delivery_refused otherwise)"))
    po_number: PoNumber | None = Field(default=None, description=(
        "The customer's purchase order number, printed on the invoice; required to pay on account"))
    client_ip: Annotated[str, StringConstraints(min_length=2, max_length=45)] | None = Field(
        default=None, description=("The shopper's IPv4 or IPv6 address as the storefront saw it (fraud screening "
                                   "counts orders per address; kept only as a keyed digest)"),
        json_schema_extra={"anyOf": [{"type": "string", "format": "ipv4"}, {"type": "string", "format": "ipv6"},
                                     {"type": "null"}]})
    billing_address: Address | None = Field(default=None, description=(
        "The card's billing address, when the storefront has it (fraud screening compares its country with the "
        "shipping country)"))
    delivery: PickupAtStore | None = Field(default=None, description=(
        "Store pickup: {\"method\": \"pickup\", \"location_id\": ...}: no shipping charge (shipping_method is "
        "ignored), reserved at that store only (409 out_of_stock when it cannot cover the order), promised on its "
        "dispatch day; collected with the code the customer gets when the store has it ready. Refused with 422 "
        "pickup_not_offered when the store has no pickup desk, is in another country than shipping_address, or the "
        "order is paid in cash on delivery. Absent: delivered to shipping_address"))

    @field_validator("client_ip")
    @classmethod
    def _an_ip_address(cls, value: str | None) -> str | None:
        return None if value is None else str(ipaddress.ip_address(value))  # ValueError: not an address

    @model_validator(mode="after")
    def _what_the_payment_needs(self) -> PlaceOrderRequest:
        if self.payment_method == "card" and self.payment_token is None:
            raise ValueError("payment_token is required to pay by card")
        if self.payment_method == "on_account" and self.po_number is None:
            raise ValueError("po_number is required to pay on account")
        return self


class OrderSummary(BaseModel):
    """POST /orders' answer."""

    model_config = ConfigDict(defer_build=True)

    order_id: str
    status: str
    placed_at: str
    promised_by: str = Field(description=(
        "The date (YYYY-MM-DD) delivery is promised by: at checkout an estimate from the locations the stock "
        "would ship from; once the stock is reserved, the latest of the shipments' promises"))
    lines: list[OrderLine]
    totals: Totals
    gift: Gift | None = Field(default=None, description="The gift details, as placed; null: not a gift")


class PaymentView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    authorized: Money
    captured: Money
    refunded: Money
    voided: bool


class ShipmentView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    shipment_id: str
    location_id: str
    lines: list[ShipmentLine]
    amount: Money
    status: str
    carrier: str | None = None
    tracking_number: str | None = None
    label_url: str | None = None
    last_tracking_at: str | None = None
    delivered_at: str | None = None
    promised_by: str | None = Field(default=None, description=(
        "The date (YYYY-MM-DD) this parcel is promised by, from its location's handling time and cut-off, the "
        "carrier's service level and the destination's business days; absent on shipments reserved before "
        "promises were per shipment (the order's promised_by stands)"))


class TimelineEntry(BaseModel):
    model_config = ConfigDict(defer_build=True)

    event_id: str
    kind: str
    at: str
    shipment_id: str | None = None
    detail: dict[str, str]


class OrderView(OrderSummary):
    """GET /orders/{order_id}'s answer."""

    customer_id: str
    shipping_method: str
    payment: PaymentView
    cancellation_reason: str | None = None
    attention_reason: str | None = None
    shipments: list[ShipmentView]
    timeline: list[TimelineEntry]


def order_summary(order: Order) -> dict[str, Any]:
    return OrderSummary.model_validate(order.model_dump(include=set(OrderSummary.model_fields))).model_dump(
        mode="json")


def order_view(order: Order, timeline: list[TimelineEvent]) -> dict[str, Any]:
    view = OrderView.model_validate({
        **order.model_dump(include=set(OrderView.model_fields) - {"payment", "shipments", "timeline"}),
        "payment": order.payment.model_dump(include=set(PaymentView.model_fields)),
        "shipments": [s.model_dump(include=set(ShipmentView.model_fields))
                      for s in sorted(order.shipments, key=lambda s: s.shipment_id)],
        "timeline": [e.model_dump(include=set(TimelineEntry.model_fields)) for e in timeline],
    })
    return view.model_dump(mode="json")


def _problems(**described: str) -> dict[int, dict[str, Any]]:
    """{"s422": "why"} -> OpenAPI responses carrying a problem document."""
    return {int(status[1:]): {"description": why, "content": {PROBLEM_JSON: {"model": Problem}}}
            for status, why in described.items()}


_UNAVAILABLE = {"description": "Temporarily unavailable: retry after Retry-After seconds, with the same key",
                "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
                "content": {PROBLEM_JSON: {"model": Problem}}}
PLACE_ORDER_RESPONSES: dict[int, dict[str, Any]] = {
    201: {"description": "Order placed (or, for a replayed Idempotency-Key, the order it placed)",
          "headers": {"Location": {"description": "The order's URL", "schema": {"type": "string"}}},
          "content": {"application/json": {"model": OrderSummary}}},
    **_problems(s400="The body is not JSON, is not UTF-8, or nests too deeply", s402="The payment was declined",
                s403="Refused by the fraud screening (code refused_by_risk_screening): nothing was charged or "
                     "written, and the problem says no more (which rule or threshold is never told)"),
    409: {"description": "Out of stock: the stock of every location together cannot cover a line (availability "
                         "lists each short line; nothing was charged or written, and the Idempotency-Key may be used "
                         "again), or an item the catalog cannot sell (the problem names the SKU)",
          "content": {PROBLEM_JSON: {"model": StockProblem}}},
    **_problems(s413="The body is too large", s415="The body is not application/json",
                s422="Invalid request (errors lists each field), or the Idempotency-Key was used for another "
                     "request", s500="Something went wrong on our side; nothing was half-applied"),
    503: _UNAVAILABLE,
}
VIEW_ORDER_RESPONSES: dict[int, dict[str, Any]] = {
    200: {"description": "The order", "content": {"application/json": {"model": OrderView}}},
    **_problems(s404="No such order", s422="The order id is not valid", s500="Something went wrong on our side"),
    503: _UNAVAILABLE,
}
