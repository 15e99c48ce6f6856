"""Dawra's partner protocol: how a 3PL or dropshipper gets a shipment to prepare, and how it says it is packed.

Outbound: when a shipment at a "partner" location is ready to be prepared, Dawra puts a signed message on the
partner-outbound queue (its DLQ keeps what the partner never took); the body is `ShipmentForPartner` as JSON and
`signature` is `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`, the secret being the partner's own
(Secrets Manager, `secret_name(partner)`). A message may come twice: the partner keys its work by `shipment_id`.

Inbound: the partner posts `PartnerCallback` to `POST /partners/{partner}/callbacks`, signed the same way in
X-Partner-Signature. The route stores it raw on the partner-callbacks queue (storage first, as carriers' webhooks);
its consumer verifies, applies once, in any order (dawra.app.partners)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from dawra.contracts import webhook
from dawra.contracts.webhook import StoredWebhook, _encoded

PARTNER_SIGNATURE_HEADER = "X-Partner-Signature"
sign = webhook.sign  # Dawra's messages and the partner's callbacks are signed as webhooks are


def secret_name(partner: str) -> str:
    """The partner's HMAC key, as Secrets Manager names it (one per partner, declared in dawra/topology/partners.py)."""
    return f"dawra/partners/{partner}/webhook-secret"


def verify(raw_body: bytes, signature: str | None, secret: bytes, received_at_epoch_ms: int) -> None:
    """WebhookRejected ("signature" or "replay") unless `raw_body` is signed with `secret` near when it came."""
    webhook.verify(raw_body, signature, secret, received_at_epoch_ms, header=PARTNER_SIGNATURE_HEADER)


class PartnerLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    sku: str
    quantity: int = Field(ge=1)
    work: str | None = None  # engraving, assembly: the partner does it before packing


class ShipTo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    name: str
    line1: str
    line2: str | None = None
    city: str
    region: str | None = None
    postal_code: str | None = None
    country: str


class ShipmentForPartner(BaseModel):
    """What the partner prepares: the shipment, its lines, where it goes and by when it is to be packed."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    partner: str
    order_id: str
    shipment_id: str
    lines: list[PartnerLine]
    ship_to: ShipTo
    prepare_by: str | None = None
    callback_path: str  # where to say it is packed (POST, signed), relative to Dawra's API


class PartnerMessage(BaseModel):
    """One message on the partner-outbound queue: the body, byte for byte (base64), and its signature."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    partner: str
    body_b64: str
    signature: str

    @classmethod
    def wrap(cls, partner: str, raw_body: bytes, signature: str) -> Self:
        return cls(partner=partner, body_b64=_encoded(raw_body), signature=signature)


class PartnerCallback(BaseModel):
    """The partner's word on a shipment: accepted (taken on), picked, or packed (optionally with its own carrier's
    tracking number). Sent at least once, in any order: a word that comes after a later one changes nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    event_id: str = Field(min_length=1, max_length=128)
    order_id: str = Field(pattern=r"^ord_[A-Za-z0-9]{8,64}$")
    shipment_id: str = Field(pattern=r"^shp_[A-Za-z0-9]{8,64}$")
    status: Literal["accepted", "picked", "packed"]
    tracking_number: str | None = Field(default=None, min_length=1, max_length=64)
    occurred_at: str


class PartnerWebhookEnvelope(StoredWebhook):
    """A partner's callback as its route stores it (the same envelope as carriers', keyed by `partner`)."""

    partner: str = Field(min_length=1, max_length=64)
