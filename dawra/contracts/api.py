"""The storefront API's request and response models (the OpenAPI document is generated from them)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from dawra.domain.customer import Address, Contact
from dawra.domain.order import Order
from dawra.domain.pricing import RequestedLine
from dawra.domain.timeline import TimelineEvent

ShippingMethod = Literal["standard", "express"]
ORDER_ID_PATTERN = r"^ord_[a-f0-9]{32}$"


class PlaceOrderRequest(BaseModel):
    """What a storefront sends to POST /orders. Prices are never taken from the client."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

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


def order_summary(order: Order) -> dict:
    """POST /orders' answer."""
    return {
        "order_id": order.order_id,
        "status": order.status.value,
        "placed_at": order.placed_at,
        "promised_by": order.promised_by,
        "lines": [line.model_dump(mode="json") for line in order.lines],
        "totals": order.totals.model_dump(mode="json"),
    }


def order_view(order: Order, timeline: list[TimelineEvent]) -> dict:
    """GET /orders/{order_id}'s answer."""
    return {
        **order_summary(order),
        "customer_id": order.customer_id,
        "shipping_method": order.shipping_method,
        "payment": {
            "authorized": order.payment.authorized.model_dump(),
            "captured": order.payment.captured.model_dump(),
            "refunded": order.payment.refunded.model_dump(),
            "voided": order.payment.voided,
        },
        "cancellation_reason": order.cancellation_reason,
        "attention_reason": order.attention_reason,
        "shipments": [shipment.model_dump(mode="json", exclude={"order_id", "resume_token", "version"})
                      for shipment in sorted(order.shipments, key=lambda s: s.shipment_id)],
        "timeline": [event.model_dump(mode="json", exclude={"order_id"}) for event in timeline],
    }
