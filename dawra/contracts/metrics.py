"""Business metric names (namespace Dawra): emitted by the functions, graphed by the dashboard (infra)."""

from dawra.domain.errors import WebhookRejected

ORDERS_PLACED = "OrdersPlaced"
SHIPMENTS_PLANNED = "ShipmentsPlanned"
STOCK_RESERVATIONS_FAILED = "StockReservationsFailed"
UNITS_RELEASED = "UnitsReleased"
SHIPMENTS_SHIPPED = "ShipmentsShipped"
ORDERS_COMPLETED = "OrdersCompleted"
ORDERS_CANCELLED = "OrdersCancelled"
ORDERS_NEEDING_ATTENTION = "OrdersNeedingAttention"
TRACKING_EVENTS_PROCESSED = "TrackingEventsProcessed"
SHIPMENTS_DELIVERED = "ShipmentsDelivered"
WEBHOOKS_REJECTED = "WebhooksRejected"
NOTIFICATIONS_SENT = "NotificationsSent"
# One count per reason a webhook is rejected for (dawra.domain.errors.WebhookRejected.REASONS), beside the total.
WEBHOOKS_REJECTED_BY_REASON = {reason: f"WebhooksRejected{reason.capitalize()}" for reason in WebhookRejected.REASONS}

ALL = (ORDERS_PLACED, SHIPMENTS_PLANNED, STOCK_RESERVATIONS_FAILED, UNITS_RELEASED, SHIPMENTS_SHIPPED,
       ORDERS_COMPLETED, ORDERS_CANCELLED, ORDERS_NEEDING_ATTENTION, TRACKING_EVENTS_PROCESSED,
       SHIPMENTS_DELIVERED, WEBHOOKS_REJECTED, NOTIFICATIONS_SENT, *WEBHOOKS_REJECTED_BY_REASON.values())
