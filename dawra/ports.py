"""What the use cases need from the world, as typing.Protocol interfaces. Adapters implement them against AWS (and
the sandbox providers); tests/fakes.py implements every one in memory. Nothing here imports boto3."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from dawra.domain.allocation import Location
from dawra.domain.audit import AuditEntry
from dawra.domain.customer import Address
from dawra.domain.inventory import Reservation, StockChange, StockLevel, Transfer
from dawra.domain.money import Money
from dawra.domain.order import Order
from dawra.domain.pricing import CatalogItem
from dawra.domain.returns import PickupSlot, PickupWindow
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

    def find_return(self, tracking_number: str) -> tuple[str, str] | None:
        """(order_id, return_id) of the return whose label has this tracking number."""

    def idempotency_record(self, key_hash: str) -> IdempotencyRecord | None: ...


class InventoryRepository(Protocol):
    def catalog(self, skus: Sequence[str]) -> dict[str, CatalogItem]: ...

    def locations(self) -> list[Location]: ...

    def available(self, skus: Sequence[str], location_ids: Sequence[str]) -> dict[tuple[str, str], int]: ...

    def catalog_and_stock(self, skus: Sequence[str], location_ids: Sequence[str]
                          ) -> tuple[dict[str, CatalogItem], dict[tuple[str, str], int]]:
        """`catalog(skus)` and `available(skus, location_ids)` in one read (checkout's: one request, not two)."""

    def reservations(self, order_id: str) -> list[Reservation]: ...

    def stock(self, sku: str, location_id: str) -> StockLevel | None: ...


class UnitOfWork(Protocol):
    def commit(self, *, order: Order | None = None, stock: Sequence[StockChange] = (),
               markers: Sequence[Marker] = (), audit: Sequence[AuditEntry] = ()) -> None:
        """All or nothing: the order's changes (header over the version it was loaded at, changed shipments, new
        timeline events), the stock changes (reservation moves; counter changes over the counters they were decided
        on; transfer records over the state they were read in), the markers and the audit entries (each written
        once: an entry that exists already refuses the commit as "audit"). Raises ConcurrentChange naming what
        refused, or TransientError. On success the order's pending changes are cleared and its versions advanced."""


# --- The back office's reads -------------------------------------------------------------------------------------


class OrderQuery(BaseModel):
    """What an operator searches by. Each search is answered from an index, never a scan: the reference (an order
    id) directly; an email, phone, sku or location from the lookup index; otherwise by status (every status when none
    is given), newest first, within the date range."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str | None = None
    email: str | None = None
    phone: str | None = None
    sku: str | None = None
    location: str | None = None
    status: str | None = None
    placed_from: str | None = None  # UTC ISO-8601, inclusive
    placed_to: str | None = None  # UTC ISO-8601, exclusive

    def matches(self, order: Order) -> bool:
        """The criteria an order's header answers (all but location, which its shipments answer)."""
        if self.reference and order.order_id != self.reference:
            return False
        if self.status and order.status.value != self.status:
            return False
        if self.placed_from and order.placed_at < self.placed_from:
            return False
        if self.placed_to and order.placed_at >= self.placed_to:
            return False
        if self.email and str(order.contact.email).lower() != self.email.strip().lower():
            return False
        if self.phone and order.contact.phone != self.phone.strip():
            return False
        return not (self.sku and all(line.sku != self.sku for line in order.lines))


class OrderPage(BaseModel):
    orders: list[Order]  # headers only (no shipments), newest first
    cursor: str | None  # pass back for the next page; None on the last one


class OrderSearch(Protocol):
    def search(self, query: OrderQuery, limit: int, cursor: str | None) -> OrderPage: ...


class AuditLog(Protocol):
    def entry(self, subject: str, audit_id: str) -> AuditEntry | None: ...

    def for_subject(self, subject: str) -> list[AuditEntry]:
        """Oldest first."""

    def by_actor(self, actor_id: str, limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
        """Newest first."""


class StockRecords(Protocol):
    """The stock screen's reads on the inventory (strongly consistent; never a scan)."""

    def levels_at(self, location_id: str) -> list[StockLevel]:
        """Every stock item at a location, by sku."""

    def levels_of(self, sku: str) -> list[StockLevel]:
        """Every stock item of a sku, by location."""

    def transfers_to(self, location_id: str) -> list[Transfer]:
        """The transfers still in transit to a location, oldest first."""

    def transfer(self, transfer_id: str) -> Transfer | None: ...


class OrderHistory(Protocol):
    """What the operations figures read: orders by status from the by-status index, then their timelines."""

    def orders_by_status(self, status: str, placed_from: str | None, limit: int) -> tuple[list[Order], bool]:
        """Headers (no shipments) of orders in `status` placed at or after `placed_from` (None: any time), oldest
        first, at most `limit`; True when more were left unread."""

    def timelines(self, order_ids: Sequence[str]) -> dict[str, list[TimelineEvent]]:
        """Each order's timeline, oldest first."""

    def whole_orders(self, order_ids: Sequence[str]) -> dict[str, Order]:
        """Each order with its shipments and returns (the return figures' orders: a parcel of each was delivered)."""


# --- Workflow, messages, alerts ----------------------------------------------------------------------------------


class Workflow(Protocol):
    def start(self, order_id: str) -> None:
        """Start the order's lifecycle; starting it again is a no-op."""

    def start_return(self, order_id: str, return_id: str) -> None:
        """Start a return's own workflow (named after the return); starting it again is a no-op."""

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


class Later(Protocol):
    """One-off jobs at a later time, outside an order's workflow (EventBridge Scheduler; dawra/contracts/later.py
    holds the rules): asking for feedback days after delivery, releasing SMS held overnight."""

    def at(self, name: str, when: datetime, job: Mapping[str, str]) -> None:
        """Have `job` (a small JSON object of strings with a "kind") delivered to the later-jobs function at `when`
        (timezone-aware; a time already past, or less than a minute ahead, means as soon as possible: a minute from
        now). Idempotent by `name` (deterministic, e.g. "feedback-<order id>"; 1-64 of [0-9A-Za-z._-]): while a job
        of that name is pending, scheduling it again, whatever `when`, is a no-op. Once delivered the name is free
        again, and delivery is at least once, so the job's handler must tolerate a repeat. Raises TransientError."""


# --- Providers ---------------------------------------------------------------------------------------------------


class PaymentProvider(Protocol):
    name: str

    def authorize(self, token: str, amount: Money, reference: str) -> str:
        """Authorise `amount`; returns the authorization id. Raises PaymentDeclined or TransientError. The same
        reference always yields the same authorization (idempotent)."""

    def capture(self, authorization_id: str, amount: Money, reference: str) -> str: ...

    def void(self, authorization_id: str, reference: str) -> str: ...

    def void_part(self, authorization_id: str, amount: Money, reference: str) -> str:
        """Release `amount` of an authorisation nothing was captured against (a partial reversal: the order now asks
        less); the rest stays authorised. Idempotent by reference."""

    def refund(self, authorization_id: str, amount: Money, reference: str) -> str: ...


class PaymentLinks(Protocol):
    name: str

    def create_link(self, amount: Money, reference: str) -> tuple[str, str]:
        """(authorization id, URL the customer pays at); idempotent by reference."""


class PaymentProviders(Protocol):
    def named(self, name: str) -> PaymentProvider: ...


class Booking(BaseModel):
    model_config = ConfigDict(frozen=True)

    tracking_number: str
    label_url: str


class ReturnBooking(BaseModel):
    """A parcel the customer sends back: what the carrier gave us for it. Dawra prints the label itself from this
    (dawra/web/return_label.py); the tracking number is reported on through the carrier's usual webhooks."""

    model_config = ConfigDict(frozen=True)

    carrier: str  # the carrier's name, as the registry knows it
    service: str  # the carrier's name for the service, printed on the label (Latin script)
    tracking_number: str
    expires_at: str  # UTC ISO-8601: an unused label is no longer accepted from this moment on
    # A courier pickup: the day (ISO date, the customer's local day) and window the courier comes.
    pickup_on: str | None = None
    pickup_window: PickupWindow | None = None

    @property
    def pickup(self) -> PickupSlot | None:
        if self.pickup_on is None or self.pickup_window is None:
            return None
        return PickupSlot(day=date.fromisoformat(self.pickup_on), window=self.pickup_window)


class Carrier(Protocol):
    name: str

    def book(self, shipment_id: str, country: str, weight_g: int) -> Booking:
        """Book a parcel; booking the same shipment again returns the same booking."""

    def book_return(self, return_id: str, from_address: Address, to_location_id: str,
                    weight_g: int, pickup: PickupSlot | None = None) -> ReturnBooking:
        """Book a return parcel from the customer's address to one of the merchant's locations, and with `pickup` a
        courier to collect it then (a slot no longer offered: the carrier's next one in that window); booking the
        same return again returns the same booking (its tracking number depends on the return id only)."""

    def pickup_days(self, country: str, from_day: date) -> list[PickupSlot]:
        """The days and windows a courier can collect a return in `country`, after `from_day`, soonest first."""

    def rebook_pickup(self, return_id: str, country: str, pickup: PickupSlot, reference: str) -> ReturnBooking:
        """Move the courier of a booked return to `pickup`, one of the slots it offers today (else PickupNotOffered,
        listing them): the booking as it now stands (the same tracking number; the day and window; valid at least
        until the day after the new day). Asked again under the same `reference`, the same answer."""

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


class RateLimits(Protocol):
    """Counters per key and fixed window (the guest lookup's, per source and per contact)."""

    def hit(self, key: str, window_start: datetime, window_s: int, limit: int) -> bool:
        """Count one request against `key` in the window starting at `window_start`; False (and nothing counted)
        once `limit` requests were counted in it. Counters disappear some time after their window ends."""
