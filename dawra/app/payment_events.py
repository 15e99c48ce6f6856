"""A payment provider's webhooks: verify a stored one, read its events, and apply each once.

Storage first, as the carriers' (dawra.app.tracking): the route puts the raw request on the payment-events queue and
this runs from there. A webhook that can never be processed (unsigned or forged, outside the replay window, an
unknown provider, malformed, too large, about an authorisation that is not the order's) is rejected: recorded with
its reason and dropped. An event about an order we cannot find yet is retried (then the DLQ), as a carrier's unknown
tracking number is.

Each event is applied once: a marker keyed by provider and event id is committed with its effect (its line on the
order's timeline, at the provider's time). Events arrive twice and in any order, and each is judged against the
order as it is, never against an earlier event: a payment link paid ends the order's "awaiting payment" hold
(released, or never taken when the stock is not reserved yet; after a cancellation it is recorded and a person is
told, to give the money back); a capture or refund that failed, and a dispute, are told to operations (again for a
duplicate: an alert may repeat, it is never lost); a settlement is recorded."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from dawra.app.common import load, retry_on_race
from dawra.contracts.webhook import PaymentWebhookEnvelope, within_limit
from dawra.domain.errors import ConcurrentChange, TransientError, WebhookRejected
from dawra.domain.order import Order
from dawra.domain.payment_events import ALERTING, PaymentEvent, PaymentEventKind, key_hash_of
from dawra.domain.time import iso
from dawra.ports import (
    AppliedPaymentEvent,
    Clock,
    OpsAlerts,
    OrderRepository,
    PaymentEventSource,
    Secrets,
    UnitOfWork,
    WebhookRejections,
    Workflow,
)

ALERTS = {PaymentEventKind.CAPTURE_FAILED: "the payment provider reports a capture failed: collect the payment",
          PaymentEventKind.REFUND_FAILED: "the payment provider reports a refund failed: pay the customer back",
          PaymentEventKind.DISPUTE_OPENED: "the customer disputed the payment with their bank (a chargeback)"}
PAID_AFTER_CANCELLATION = "the customer paid the payment link of a cancelled order: give the money back"


class ApplyPaymentEvents:
    def __init__(self, orders: OrderRepository, uow: UnitOfWork, workflow: Workflow,
                 sources: Mapping[str, PaymentEventSource], secrets: Secrets, secret_names: Mapping[str, str],
                 rejections: WebhookRejections, alerts: OpsAlerts, clock: Clock):
        self.orders, self.uow, self.workflow, self.sources = orders, uow, workflow, dict(sources)
        self.secrets, self.secret_names, self.rejections = secrets, dict(secret_names), rejections
        self.alerts, self.clock = alerts, clock

    def handle_stored(self, stored: str, message_id: str) -> list[str]:
        """A webhook as the route stored it: applied, or rejected for good (recorded with its reason, dropped)."""
        provider = "?"
        try:
            envelope, raw = PaymentWebhookEnvelope.opened(stored)
            provider = envelope.provider
            return self.handle_webhook(provider, within_limit(raw), envelope.signature,
                                       envelope.received_at_epoch_ms)
        except WebhookRejected as rejected:
            # Recorded beside the carriers' rejections, the sender named as a payment provider.
            self.rejections.record(f"payments:{provider[:23]}", rejected.reason, rejected.message[:200],
                                   self.clock.now(), message_id)
            return [f"rejected: {rejected.reason}"]

    def handle_webhook(self, provider: str, raw_body: bytes, signature: str | None,
                       received_at_epoch_ms: int) -> list[str]:
        source, secret_name = self.sources.get(provider), self.secret_names.get(provider)
        if source is None or not secret_name:
            raise WebhookRejected(f"no payment provider {provider[:32]!r} sends webhooks here", "carrier")
        source.verify(raw_body, signature, self.secrets.get(secret_name).encode(), received_at_epoch_ms)
        received_at = iso(datetime.fromtimestamp(received_at_epoch_ms / 1000, UTC))
        return [self.apply(event, received_at) for event in source.parse(raw_body)]

    def apply(self, event: PaymentEvent, received_at: str) -> str:
        order_id = self._order_of(event)
        outcome = retry_on_race(lambda: self._record(order_id, event, received_at), f"payment event {order_id}")
        if event.kind == PaymentEventKind.LINK_PAID and outcome in ("released", "duplicate"):
            self._resume(order_id)  # duplicates too: the first may have died before resuming
        if event.kind in ALERTING and outcome in ("recorded", "duplicate"):
            self.alerts.alert(order_id, ALERTS[event.kind])
        if outcome == "paid after cancellation":
            self.alerts.alert(order_id, PAID_AFTER_CANCELLATION)
        return outcome

    def _order_of(self, event: PaymentEvent) -> str:
        key = key_hash_of(event.payment_reference)
        if key is None:
            raise WebhookRejected("the payment reference is not one of our checkouts'", "shape")
        record = self.orders.idempotency_record(key)
        if record is None:  # the checkout's commit may not be visible yet: retried, then the DLQ
            raise TransientError("no order has this payment reference (yet)")
        return record.order_id

    def _record(self, order_id: str, event: PaymentEvent, received_at: str) -> str:
        order = load(self.orders, order_id)
        payment = order.payment
        if event.authorization_id not in (payment.authorization_id, *payment.earlier_authorizations):
            raise WebhookRejected("the event's authorisation is not the order's", "shape")
        order.record_payment_event(event, received_at)
        outcome = "recorded"
        if event.kind == PaymentEventKind.LINK_PAID:
            outcome = self._link_paid(order, event, received_at)
        try:
            self.uow.commit(order=order, markers=[AppliedPaymentEvent(order_id=order_id, event=event)])
        except ConcurrentChange as race:
            if "marker" in race.parts:
                return "duplicate"  # applied before (perhaps by us, the answer lost)
            raise
        return outcome

    @staticmethod
    def _link_paid(order: Order, event: PaymentEvent, received_at: str) -> str:
        if order.paid_by_link(received_at, f"paid-{event.event_id}"):
            return "released"
        if order.is_terminal or order.cancellation_requested:
            return "paid after cancellation"
        return "recorded"  # a manager confirmed it already

    def _resume(self, order_id: str) -> None:
        order = load(self.orders, order_id)
        if order.held_as is None:
            for token in order.waiting_tokens():
                self.workflow.resume(token, {"released": True})
