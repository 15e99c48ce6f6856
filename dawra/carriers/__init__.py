"""Carrier adapters: book shipments, verify and normalise tracking webhooks."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict

from dawra.errors import WebhookRejected
from dawra.tracking import TrackingEvent


class Booking(BaseModel):
    model_config = ConfigDict(frozen=True)

    tracking_number: str
    label_url: str


class Carrier(Protocol):
    name: str

    def book(self, shipment_id: str, country: str, weight_g: int) -> Booking: ...

    def verify(self, raw_body: bytes, signature: str | None, secret: bytes, received_at_epoch_ms: int) -> None: ...

    def parse(self, raw_body: bytes) -> list[TrackingEvent]: ...


def carrier_named(name: str) -> Carrier:
    from dawra.carriers.sandbox import SandboxCarrier

    carriers: dict[str, Carrier] = {"sandbox": SandboxCarrier()}
    try:
        return carriers[name]
    except KeyError:
        raise WebhookRejected(f"unknown carrier {name!r}") from None
