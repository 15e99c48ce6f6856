"""Shapes of API responses (shared by the handlers and the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from dawra.models import Order, Shipment, TimelineEvent


def order_view(order: Order, shipments: list[Shipment], timeline: list[TimelineEvent]) -> dict:
    return {
        "order_id": order.order_id,
        "status": order.status.value,
        "placed_at": order.placed_at,
        "promised_by": order.promised_by,
        "customer_id": order.customer_id,
        "shipping_method": order.shipping_method,
        "lines": [line.model_dump(mode="json") for line in order.lines],
        "totals": order.totals.model_dump(mode="json"),
        "payment": {
            "authorized": order.payment.authorized.model_dump(),
            "captured": order.payment.captured.model_dump(),
            "refunded": order.payment.refunded.model_dump(),
            "voided": order.payment.voided,
        },
        "cancellation_reason": order.cancellation_reason,
        "shipments": [shipment.model_dump(mode="json", exclude={"order_id"}) for shipment in shipments],
        "timeline": [event.model_dump(mode="json", exclude={"order_id"}) for event in timeline],
    }


def validation_error_body(errors: list[dict[str, Any]]) -> dict:
    """Field-level messages: {"field": "body.lines.0.quantity", "message": "..."}."""
    fields = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        fields.append({"field": ".".join(location) or "body", "message": error.get("msg", "invalid")})
    return {"error": {"code": "invalid_request", "message": "the request is not valid", "fields": fields}}
