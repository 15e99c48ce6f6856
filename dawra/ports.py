"""What the use cases need from the world, as typing.Protocol interfaces. Adapters implement them against AWS (and
the sandbox providers); tests/fakes.py implements every one in memory. Nothing here imports boto3."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from dawra.domain.allocation import Location
from dawra.domain.inventory import Reservation, StockLevel, StockMove
from dawra.domain.money import Money
from dawra.domain.order import Order
from dawra.domain.pricing import CatalogItem
from dawra.domain.timeline import TimelineEvent
from dawra.domain.tracking import TrackingEvent


class Clock(Protocol):
    def now(self) -> datetime: ...


# --- Storage -----------------------------------------------------------------------------------------------------


class IdempotencyRecord(BaseModel):
    """Which order a checkout's Idempotency-Key created, and a fingerprint of the request it came with."""

    model_config = ConfigDict(frozen=True)

    key_hash: str
    order_id: str
    fingerprint: str


class AppliedReport(BaseModel):
    """A carrier report already applied (dedup): written in the same commit as its effect."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    shipment_id: str
    report: TrackingEvent


Marker = IdempotencyRecord | AppliedReport


class OrderRepository(Protocol):
    def get(self, order_id: str) -> Order | None:
        """The aggregate (header and shipments), strongly consistent."""

    def timeline(self, order_id: str) -> list[TimelineEvent]: ...

    def find_shipment(self, tracking_number: str) -> tuple[str, str] | None:
        """(order_id, shipment_id) of the shipment with this tracking number."""

    def idempotency_record(self, key_hash: str) -> IdempotencyRecord | None: ...


class InventoryRepository(Protocol):
    def catalog(self, skus: Sequence[str]) -> dict[str, CatalogItem]: ...

    def locations(self) -> list[Location]: ...

    def available(self, skus: Sequence[str], location_ids: Sequence[str]) -> dict[tuple[str, str], int]: ...

    def reservations(self, order_id: str) -> list[Reservation]: ...

    def stock(self, sku: str, location_id: str) -> StockLevel | None: ...


class UnitOfWork(Protocol):
    def commit(self, *, order: Order | None = None, stock: Sequence[StockMove] = (),
               markers: Sequence[Marker] = ()) -> None:
        """All or nothing: the order's changes (header over the version it was loaded at, changed shipments, new
        timeline events), the stock moves and the markers. Raises ConcurrentChange naming what refused, or
        TransientError. On success the order's pending changes are cleared and its versions advanced."""


# --- Workflow, messages, alerts ----------------------------------------------------------------------------------


class Workflow(Protocol):
    def start(self, order_id: str) -> None:
        """Start the order's lifecycle; starting it again is a no-op."""

    def resume(self, token: str, output: dict[str, Any]) -> bool:
        """Hand a waiting task its result; False when that task is no longer waiting."""

    def fail(self, token: str, error: str, cause: str) -> bool: ...

    def stop(self, order_id: str, cause: str) -> None: ...


class Messenger(Protocol):
    def send_email(self, to: str, subject: str, html: str, text: str) -> str: ...

    def send_sms(self, phone: str, text: str) -> str: ...


class ClaimOutcome(enum.StrEnum):
    TAKEN = "taken"  # this sender may send now
    SENT = "sent"  # somebody already sent it
    HELD = "held"  # another sender holds an unexpired claim


class MessageClaims(Protocol):
    """The notifier's send log: one claim per (order, event, channel)."""

    def claim(self, order_id: str, message_key: str, claimant: str, now: datetime,
              lease_until: datetime) -> ClaimOutcome: ...

    def mark_sent(self, order_id: str, message_key: str, claimant: str, message_id: str) -> None: ...

    def release(self, order_id: str, message_key: str, claimant: str) -> None: ...


class OpsAlerts(Protocol):
    def alert(self, order_id: str, reason: str) -> None:
        """Tell whoever runs the shop that an order needs a person (no customer data in the text)."""

    def catalog_problem(self, sku: str, why: str) -> None:
        """Tell whoever runs the shop that an item cannot be sold as the catalog describes it."""


# --- Providers ---------------------------------------------------------------------------------------------------


class PaymentProvider(Protocol):
    name: str

    def authorize(self, token: str, amount: Money, reference: str) -> str:
        """Authorise `amount`; returns the authorization id. Raises PaymentDeclined or TransientError. The same
        reference always yields the same authorization (idempotent)."""

    def capture(self, authorization_id: str, amount: Money, reference: str) -> str: ...

    def void(self, authorization_id: str, reference: str) -> str: ...

    def refund(self, authorization_id: str, amount: Money, reference: str) -> str: ...


class PaymentProviders(Protocol):
    def named(self, name: str) -> PaymentProvider: ...


class Booking(BaseModel):
    model_config = ConfigDict(frozen=True)

    tracking_number: str
    label_url: str


class Carrier(Protocol):
    name: str

    def book(self, shipment_id: str, country: str, weight_g: int) -> Booking:
        """Book a parcel; booking the same shipment again returns the same booking."""

    def verify(self, raw_body: bytes, signature: str | None, secret: bytes, received_at_epoch_ms: int) -> None:
        """Raises WebhookRejected unless the webhook is authentic and fresh."""

    def parse(self, raw_body: bytes) -> list[TrackingEvent]: ...


class Carriers(Protocol):
    default: str

    def named(self, name: str) -> Carrier:
        """Raises WebhookRejected for a carrier nobody configured."""


class WebhookRejections(Protocol):
    def record(self, carrier: str, reason: str, detail: str, received_at: datetime, message_id: str) -> None:
        """Keep a short-lived record an operator can inspect (carrier, reason, when; never the body)."""


class Secrets(Protocol):
    def get(self, name: str) -> str: ...
