"""Partners (decision 97): a shipment at a "partner" location is sent to the partner, signed, before it waits; the
partner's signed callback says packed, once, in any order; forged, replayed or misdirected callbacks are dropped."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from fakes import FakeSecrets

from dawra.app.partners import ApplyPartnerCallbacks, SendToPartner
from dawra.app.ship import AwaitPacking, ShipShipment
from dawra.contracts.partners import PartnerMessage, ShipmentForPartner, secret_name, sign
from dawra.domain.shipment import ShipmentStatus

PARTNER_KEY = "partner-key-0123456789"


class RecordingOutbox:
    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    def send(self, partner: str, message: str) -> None:
        self.sent.append((partner, message))


@pytest.fixture
def partner(shop):
    """The shop whose dammam-3pl is the only place with the dates (so the order goes there), with the partner's key."""
    shop.world.set_stock("DATES-1KG", "riyadh-dc", 0)
    shop.outbox = RecordingOutbox()
    secrets = FakeSecrets({secret_name("dammam-3pl"): PARTNER_KEY})
    shop.ship_to_partner = ShipShipment(shop.orders, shop.inventory, shop.uow, shop.carriers, shop.payments,
                                        shop.clock, shop.ship.delivery_grace,
                                        partners=SendToPartner(shop.outbox, secrets, shop.clock))
    shop.callbacks = ApplyPartnerCallbacks(shop.orders, shop.uow, shop.workflow, secrets, shop.clock)
    shop.await_packing = AwaitPacking(shop.orders, shop.uow, shop.workflow)
    return shop


def placed(shop):
    order_id = shop.place({"DATES-1KG": 2})
    (planned,) = shop.reserve(order_id).shipments
    assert planned.location_id == "dammam-3pl"
    return order_id, planned.shipment_id


def stored(shop, body: dict, key: str = PARTNER_KEY, partner: str = "dammam-3pl", skew_s: int = 0) -> str:
    raw = json.dumps(body).encode()
    now = int(shop.clock.now().timestamp())
    return json.dumps({"partner": partner, "body_b64": base64.b64encode(raw).decode(),
                       "signature": sign(raw, key.encode(), now - skew_s), "received_at_epoch_ms": now * 1000})


def callback(order_id, shipment_id, status="packed", event_id="evt-1", **extra):
    return {"event_id": event_id, "order_id": order_id, "shipment_id": shipment_id, "status": status,
            "occurred_at": "2026-11-23T10:00:00Z", **extra}


def test_the_partner_gets_the_shipment_signed_once_and_nothing_is_booked(partner):
    order_id, shipment_id = placed(partner)
    assert partner.ship_to_partner(order_id, shipment_id).outcome == "preparing"
    assert partner.ship_to_partner(order_id, shipment_id).outcome == "preparing"  # the task retried: sent once
    ((to, message),) = partner.outbox.sent
    sent = PartnerMessage.model_validate_json(message)
    raw = base64.b64decode(sent.body_b64)
    t, v1 = (part.split("=", 1)[1] for part in sent.signature.split(","))
    assert to == "dammam-3pl" and hmac.compare_digest(
        v1, hmac.new(PARTNER_KEY.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest())
    body = ShipmentForPartner.model_validate_json(raw)
    assert (body.shipment_id, [(line.sku, line.quantity) for line in body.lines]) == (shipment_id, [("DATES-1KG", 2)])
    assert body.callback_path == "/partners/dammam-3pl/callbacks" and body.ship_to.city == "Riyadh"
    order = partner.orders.get(order_id)
    assert order.shipment(shipment_id).partner_sent_at and order.payment.captured.amount == 0


def test_packed_by_callback_resumes_the_wait_and_a_replay_or_a_late_word_changes_nothing(partner):
    order_id, shipment_id = placed(partner)
    partner.ship_to_partner(order_id, shipment_id)
    partner.await_packing(order_id, shipment_id, "tok-1")
    packed = stored(partner, callback(order_id, shipment_id, tracking_number="DMM-123"))
    assert partner.callbacks.handle_stored(packed) == "packed: applied"
    assert partner.workflow.resumed == {"tok-1": {"packed": True}}
    assert partner.callbacks.handle_stored(packed) == "packed: nothing to change"  # replayed
    late = stored(partner, callback(order_id, shipment_id, status="picked", event_id="evt-0"))
    assert partner.callbacks.handle_stored(late) == "picked: nothing to change"  # out of order: after packed
    shipment = partner.orders.get(order_id).shipment(shipment_id)
    assert (shipment.status, shipment.partner_tracking) == (ShipmentStatus.PACKED, "DMM-123")
    assert partner.ship_to_partner(order_id, shipment_id).outcome == "shipped"


def test_accepted_then_picked_then_packed_in_any_order_ends_packed(partner):
    order_id, shipment_id = placed(partner)
    partner.ship_to_partner(order_id, shipment_id)
    outcomes = [partner.callbacks.handle_stored(stored(partner, callback(order_id, shipment_id, status, f"e-{n}")))
                for n, status in enumerate(["picked", "accepted", "packed"])]
    assert outcomes == ["picked: applied", "accepted: nothing to change", "packed: applied"]


@pytest.mark.parametrize(("tamper", "reason"), [
    ({"key": "not-the-partners-key"}, "signature"),
    ({"skew_s": 3600}, "replay"),
    ({"partner": "riyadh-dc"}, "carrier"),  # no key for it: not a partner
])
def test_forged_replayed_or_unknown_callbacks_are_refused(partner, tamper, reason):
    order_id, shipment_id = placed(partner)
    partner.ship_to_partner(order_id, shipment_id)
    assert partner.callbacks.handle_stored(stored(partner, callback(order_id, shipment_id), **tamper)) \
        == f"rejected: {reason}"
    assert partner.orders.get(order_id).shipment(shipment_id).status == ShipmentStatus.ALLOCATED


def test_a_partner_cannot_pack_another_locations_shipment(partner):
    order_id = partner.place({"MUG-CLASSIC": 1})
    (planned,) = partner.reserve(order_id).shipments
    assert planned.location_id == "riyadh-dc"
    assert partner.callbacks.handle_stored(stored(partner, callback(order_id, planned.shipment_id))) \
        == "rejected: carrier"


def test_an_unsigned_or_malformed_callback_is_refused(partner):
    order_id, shipment_id = placed(partner)
    envelope = json.loads(stored(partner, callback(order_id, shipment_id)))
    assert partner.callbacks.handle_stored(json.dumps({**envelope, "signature": None})) == "rejected: signature"
    raw = b'{"status": "shipped"}'
    now = int(partner.clock.now().timestamp())
    bad = {**envelope, "body_b64": base64.b64encode(raw).decode(), "signature": sign(raw, PARTNER_KEY.encode(), now)}
    assert partner.callbacks.handle_stored(json.dumps(bad)) == "rejected: shape"
