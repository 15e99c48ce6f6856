"""Partners (a 3PL, a dropshipper) prepare the shipments of their location (dawra.contracts.partners has the protocol).

SendToPartner: ShipShipment hands a partner's shipment over once, before it waits for packing: a signed message on
the partner-outbound queue (SQS keeps it until the partner takes it, then its DLQ), then `partner_sent_at` on the
shipment. Sending twice (a retry after a lost commit) is harmless: the partner keys its work by the shipment id.

ApplyPartnerCallbacks: the partner's word, as the callback route stored it. Verified with that partner's own secret
(unsigned, forged, replayed, malformed, or about a shipment that is not at its location: rejected, dropped). Judged
against the shipment as it is, never against an earlier callback, so a replay or a word that arrives after a later
one changes nothing: "packed" packs it (with the partner's tracking number, if given) and answers the workflow's
wait; "picked" picks it if it is still waiting; "accepted" changes nothing. An order we cannot find is retried."""

from __future__ import annotations

import json
from collections.abc import Callable

from dawra.app.common import load, now_iso, retry_on_race
from dawra.app.warehouse import resume_packed
from dawra.contracts.partners import (
    PartnerCallback,
    PartnerLine,
    PartnerMessage,
    PartnerWebhookEnvelope,
    ShipmentForPartner,
    ShipTo,
    secret_name,
    sign,
    verify,
)
from dawra.contracts.webhook import within_limit
from dawra.domain.errors import IllegalTransition, TransientError, WebhookRejected
from dawra.domain.order import Order
from dawra.domain.shipment import Shipment
from dawra.ports import Clock, OrderRepository, PartnerOutbox, Secrets, UnitOfWork, Workflow


class SendToPartner:
    def __init__(self, outbox: PartnerOutbox, secrets: Secrets, clock: Clock,
                 name_of: Callable[[str], str] = secret_name):
        self.outbox, self.secrets, self.clock, self.name_of = outbox, secrets, clock, name_of

    def __call__(self, order: Order, shipment: Shipment) -> None:
        partner = shipment.location_id
        work = {line.sku: line.work for line in order.lines if line.work}
        address = order.shipping_address
        body = ShipmentForPartner(
            partner=partner, order_id=order.order_id, shipment_id=shipment.shipment_id,
            lines=[PartnerLine(sku=line.sku, quantity=line.quantity, work=work.get(line.sku))
                   for line in shipment.lines],
            ship_to=ShipTo(**address.model_dump(include=set(ShipTo.model_fields))), prepare_by=shipment.prepare_by,
            callback_path=f"/partners/{partner}/callbacks").model_dump_json(exclude_none=True).encode()
        secret = self.secrets.get(self.name_of(partner)).encode()
        signature = sign(body, secret, int(self.clock.now().timestamp()))
        self.outbox.send(partner, PartnerMessage.wrap(partner, body, signature).model_dump_json())


class ApplyPartnerCallbacks:
    def __init__(self, orders: OrderRepository, uow: UnitOfWork, workflow: Workflow, secrets: Secrets, clock: Clock,
                 name_of: Callable[[str], str] = secret_name):
        self.orders, self.uow, self.workflow, self.secrets, self.clock = orders, uow, workflow, secrets, clock
        self.name_of = name_of

    def handle_stored(self, stored: str) -> str:
        """A callback as the route stored it: its outcome, or "rejected: <reason>" (dropped for good)."""
        try:
            envelope, raw = PartnerWebhookEnvelope.opened(stored)
            self._verify(envelope.partner, within_limit(raw), envelope.signature, envelope.received_at_epoch_ms)
            try:
                callback = PartnerCallback.model_validate(json.loads(raw))
            except ValueError:
                raise WebhookRejected("malformed partner callback", "shape") from None
            return retry_on_race(lambda: self._apply(envelope.partner, callback),
                                 f"partner callback {callback.event_id}")
        except WebhookRejected as rejected:
            return f"rejected: {rejected.reason}"

    def _verify(self, partner: str, raw: bytes, signature: str | None, received_at_epoch_ms: int) -> None:
        try:
            secret = self.secrets.get(self.name_of(partner)).encode()
        except TransientError:
            raise
        except Exception:  # noqa: BLE001 - no secret for it: no such partner
            raise WebhookRejected(f"unknown partner {partner!r}", "carrier") from None
        verify(raw, signature, secret, received_at_epoch_ms)

    def _apply(self, partner: str, callback: PartnerCallback) -> str:
        order = load(self.orders, callback.order_id)  # not found: raised, and the queue retries it
        try:
            shipment = order.shipment(callback.shipment_id)
        except KeyError:
            raise WebhookRejected("no such shipment on that order", "shape") from None
        if shipment.location_id != partner:
            raise WebhookRejected("the shipment is not at that partner's location", "carrier")
        at = now_iso(self.clock)
        try:
            if callback.status == "packed":
                moved = order.pack(shipment.shipment_id, at, partner_tracking=callback.tracking_number,
                                   by_partner=True)
            elif callback.status == "picked":
                moved = order.pick(shipment.shipment_id, at)
            else:
                moved = False
        except IllegalTransition:  # cancelled meanwhile: it never leaves, whatever the partner says
            return "ignored: the shipment will not leave"
        if moved:
            self.uow.commit(order=order)
        resume_packed(self.workflow, order.shipment(shipment.shipment_id))
        return f"{callback.status}: {'applied' if moved else 'nothing to change'}"
