"""Applying carrier tracking events to shipments. Logic layer.

Webhooks arrive twice, late and out of order: every carrier event is applied at most once (a marker per carrier
event id, written in the same transaction as its effect), a shipment never moves backwards, and delivery resumes the
order's execution whichever of the two (the webhook, or the WaitForDelivery task storing its token) comes last."""

from __future__ import annotations

from dawra.adapters.dynamo import ConditionFailed
from dawra.adapters.lifecycle import Lifecycle
from dawra.adapters.orders import OrdersStore
from dawra.carriers import carrier_named
from dawra.errors import TransientError
from dawra.models import ShipmentStatus, TimelineEvent, TimelineKind, timeline_event_id
from dawra.models.webhook import CarrierWebhookEnvelope
from dawra.tracking import PROGRESS_RANK, TrackingEvent, TrackingStatus, moves_forward, rank

TIMELINE_KIND = {
    TrackingStatus.IN_TRANSIT: TimelineKind.SHIPMENT_IN_TRANSIT,
    TrackingStatus.OUT_FOR_DELIVERY: TimelineKind.SHIPMENT_OUT_FOR_DELIVERY,
    TrackingStatus.DELIVERED: TimelineKind.SHIPMENT_DELIVERED,
}


class TrackingUpdates:
    def __init__(self, orders: OrdersStore, lifecycle: Lifecycle, secret_for):
        self.orders = orders
        self.lifecycle = lifecycle
        self.secret_for = secret_for  # carrier name -> HMAC key bytes

    def handle_webhook(self, envelope: CarrierWebhookEnvelope) -> list[str]:
        """Verify, normalise and apply one stored webhook; returns what happened to each event."""
        carrier = carrier_named(envelope.carrier)
        raw = envelope.raw_body
        carrier.verify(raw, envelope.signature, self.secret_for(carrier.name), envelope.received_at_epoch_ms)
        return [self.apply(event) for event in carrier.parse(raw)]

    def apply(self, event: TrackingEvent) -> str:
        found = self.orders.find_shipment_by_tracking(event.tracking_number)
        if found is None:
            # Our booking may not be committed yet; retrying (then the DLQ) is right for an unknown number.
            raise TransientError(f"no shipment has tracking number {event.tracking_number} (yet)")
        order_id, shipment_id = found
        shipment, _ = self.orders.get_shipment(order_id, shipment_id)
        marker = self.orders.put_marker(order_id, f"TRACKING#{event.carrier}#{event.event_id}", {
            "status": event.status.value, "carrier_status": event.carrier_status, "occurred_at": event.occurred_at,
            "shipment_id": shipment_id})
        items = [marker]
        outcome = "recorded"
        if moves_forward(shipment.status, event.status):
            lower = [status.value for status in ShipmentStatus if rank(status.value) < PROGRESS_RANK[event.status]]
            fields = {"status": event.status.value, "last_tracking_at": event.occurred_at}
            if event.status == TrackingStatus.DELIVERED:
                fields["delivered_at"] = event.occurred_at
            condition_values = {f"s{i}": status for i, status in enumerate(lower)}
            items.append(self.orders.update_shipment(
                order_id, shipment_id, fields,
                condition=f"#status IN ({', '.join(':' + k for k in condition_values)})",
                condition_values=condition_values))
            kind = TIMELINE_KIND.get(event.status)
            if kind is not None:
                items.append(self.orders.put_event(TimelineEvent(
                    event_id=timeline_event_id(kind, order_id, shipment_id), order_id=order_id, kind=kind,
                    at=event.occurred_at, shipment_id=shipment_id,
                    detail={"tracking_number": event.tracking_number, "carrier": event.carrier})))
            outcome = f"moved to {event.status.value}"
        try:
            self.orders.transact(items)
        except ConditionFailed as failure:
            if failure.codes[0] == "ConditionalCheckFailed":
                outcome = "duplicate"  # this carrier event was applied before
            else:
                # The shipment moved on concurrently (or was already at/after this status): record the event only.
                try:
                    self.orders.transact([marker])
                    outcome = "recorded (superseded)"
                except ConditionFailed:
                    outcome = "duplicate"
        if event.status == TrackingStatus.DELIVERED:
            self._resume_if_waiting(order_id, shipment_id)
        return outcome

    def _resume_if_waiting(self, order_id: str, shipment_id: str) -> None:
        shipment, raw = self.orders.get_shipment(order_id, shipment_id)
        token = raw.get("task_token")
        if shipment.status == ShipmentStatus.DELIVERED and token:
            self.lifecycle.resume(token, {"shipment_id": shipment_id, "delivered_at": shipment.delivered_at})
            self.orders.clear_task_token(order_id, shipment_id, token)

