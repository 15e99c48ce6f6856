"""What the use cases need from the world, as typing.Protocol interfaces. Adapters implement them against AWS (and
the sandbox providers); tests/fakes.py implements every one in memory. Nothing here imports boto3."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict

# What the models below hold is imported for real; what only the protocols' signatures name, for the type checker
# (so a function imports the domain modules its own code uses, not every one named here).
from dawra.domain.order import Order
from dawra.domain.payment_events import PaymentEvent
from dawra.domain.returns import PickupSlot, PickupWindow
from dawra.domain.stock_feeds import FeedReport

if TYPE_CHECKING:
    from dawra.domain.accounts import BusinessAccount, Receivable
    from dawra.domain.allocation import Location
    from dawra.domain.audit import AuditEntry
    from dawra.domain.availability import WaitingEntry
    from dawra.domain.cod import RemittanceReport
    from dawra.domain.customer import Address
    from dawra.domain.inventory import Reservation, StockChange, StockLevel, Transfer
    from dawra.domain.money import Money
    from dawra.domain.pricing import CatalogItem
    from dawra.domain.risk import Counter, Refusal
    from dawra.domain.tax_documents import TaxDocument
    from dawra.domain.timeline import TimelineEvent
    from dawra.domain.tracking import TrackingEvent


class Clock(Protocol):
    def now(self) -> datetime: ...


# --- Storage -----------------------------------------------------------------------------------------------------


class IdempotencyRecord(BaseModel):
    """Which order a checkout's Idempotency-Key created, and a fingerprint of the request it came with."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    key_hash: str
    order_id: str
    fingerprint: str


class AppliedPaymentEvent(BaseModel):
    """A payment provider's event already applied (dedup by provider and event id): written with its effect."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    order_id: str
    event: PaymentEvent


class RiskCount(BaseModel):
    """A risk counter's change, written in the same commit as what it counts (dawra.domain.risk): an order placed
    (`add` +1 orders and +1 in each velocity window's current bucket, `remove` the buckets no window needs), or a
    cash-on-delivery parcel refused at the door (+1 refusals). Never conditional: counting never refuses a commit."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    key: str  # Identity.key: "<signal>#<keyed digest>"
    add: dict[str, int]
    remove: tuple[str, ...] = ()
    expires_at: int  # epoch seconds: the counter is forgotten this long after its last change (TTL)


Marker = IdempotencyRecord | AppliedPaymentEvent | RiskCount


class OrderRepository(Protocol):
    def get(self, order_id: str) -> Order | None:
        """The aggregate (header and shipments), strongly consistent."""

    def timeline(self, order_id: str) -> list[TimelineEvent]: ...

    def find_shipment(self, tracking_number: str) -> tuple[str, str] | None:
        """(order_id, shipment_id) of the shipment with this tracking number."""

    def find_return(self, tracking_number: str) -> tuple[str, str] | None:
        """(order_id, return_id) of the return whose label has this tracking number."""

    def idempotency_record(self, key_hash: str) -> IdempotencyRecord | None: ...


class TaxDocuments(Protocol):
    """An order's invoices and credit notes (the order lists them: `Order.documents`)."""

    def tax_document(self, order_id: str, number: str) -> TaxDocument | None: ...


class DocumentFiles(Protocol):
    """Rendered documents kept for good (S3): a tax document's PDF never changes once drawn."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, body: bytes, content_type: str) -> None: ...


class InventoryRepository(Protocol):
    def catalog(self, skus: Sequence[str]) -> dict[str, CatalogItem]: ...

    def locations(self) -> list[Location]: ...

    def available(self, skus: Sequence[str], location_ids: Sequence[str]) -> dict[tuple[str, str], int]: ...

    def levels(self, skus: Sequence[str], location_ids: Sequence[str]) -> dict[tuple[str, str], StockLevel]:
        """The stock items themselves (counters and replenishment plan), in the one read `available` makes."""

    def catalog_and_stock(self, skus: Sequence[str], location_ids: Sequence[str]
                          ) -> tuple[dict[str, CatalogItem], dict[tuple[str, str], int]]:
        """`catalog(skus)` and `available(skus, location_ids)` in one read (checkout's: one request, not two)."""

    def catalog_stock_and_counters(self, skus: Sequence[str], location_ids: Sequence[str], counters: Sequence[str]
                                   ) -> tuple[dict[str, CatalogItem], dict[tuple[str, str], int], dict[str, Counter]]:
        """`catalog_and_stock` and the risk counters named (RiskCount.key; absent ones are not in the answer) in the
        same one read (a BatchGetItem spans both tables): the screening costs checkout no request of its own."""

    def reservations(self, order_id: str) -> list[Reservation]: ...

    def stock(self, sku: str, location_id: str) -> StockLevel | None: ...


class AvailabilityReads(Protocol):
    """What the storefront's availability reads (dawra.app.availability), nothing it could write."""

    def locations(self) -> list[Location]: ...

    def skus_and_levels(self, skus: Sequence[str], location_ids: Sequence[str]
                        ) -> tuple[frozenset[str], dict[tuple[str, str], StockLevel]]:
        """Which of `skus` the catalog has, and their stock items at the locations, in one read."""


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

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

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
    model_config = ConfigDict(defer_build=True)

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


class CustomerAccounts(Protocol):
    """Business accounts (dawra.domain.accounts): the customer's profile item, and the receivables of its orders."""

    def account(self, customer_id: str) -> BusinessAccount | None:
        """Strongly consistent, with the open balance its orders' commits keep."""

    def save(self, account: BusinessAccount, audit: AuditEntry) -> None:
        """The account's details over the version they were read at (0: a new account), with the audit entry, in
        one transaction; the open balance is never written here (the orders' commits move it). Raises
        ConcurrentChange ("account" or "audit") or TransientError."""

    def receivables(self, due_before: str) -> list[Receivable]:
        """Every invoiced order on account not paid in full whose due date (UTC, YYYY-MM-DD) is before
        `due_before`, oldest due first."""


class OrderHistory(Protocol):
    """What the operations figures read: orders by status from the by-status index, then their timelines."""

    def orders_by_status(self, status: str, placed_from: str | None, limit: int) -> tuple[list[Order], bool]:
        """Headers (no shipments) of orders in `status` placed at or after `placed_from` (None: any time), oldest
        first, at most `limit`; True when more were left unread."""

    def timelines(self, order_ids: Sequence[str]) -> dict[str, list[TimelineEvent]]:
        """Each order's timeline, oldest first."""

    def whole_orders(self, order_ids: Sequence[str]) -> dict[str, Order]:
        """Each order with its shipments and returns (the return figures' orders: a parcel of each was delivered)."""


class RemittanceImports(Protocol):
    """Couriers' cash-on-delivery remittance files imported, and the parcels still owed (dawra.domain.cod)."""

    def imported(self, digest: str) -> RemittanceReport | None:
        """The report of the file with this digest, if it was imported (strongly consistent)."""

    def record(self, report: RemittanceReport) -> bool:
        """Keep a file's report, once: False (nothing written) when a report for its digest exists already."""

    def recent(self, limit: int) -> list[RemittanceReport]:
        """The latest imports, newest first."""

    def unremitted(self, delivered_before: str, limit: int) -> list[tuple[str, str]]:
        """(order id, shipment id) of parcels paid in cash at the door, delivered before `delivered_before` (UTC
        ISO-8601) and not remitted, oldest first, at most `limit` (answered from an index, never a scan)."""


class FeedClaim(BaseModel):
    """A stock feed's marker, written once when its import starts (conditionally: a feed id is imported once)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    feed_id: str
    ref: str
    digest: str  # of the content: the same feed id with other content is refused
    started_at: str
    report: FeedReport | None = None  # kept once every row is through


class StockFeeds(Protocol):
    """Stock feeds imported (dawra.domain.stock_feeds): the marker of each feed id and its report."""

    def claim(self, claim: FeedClaim) -> FeedClaim | None:
        """Write the feed's marker unless one exists (conditional put); None when written, else the existing one
        (strongly consistent), whose report is set once its first import finished."""

    def finish(self, report: FeedReport) -> None:
        """Keep the report on the feed's marker (once: a report already kept is left as it is) and list it."""

    def feed(self, ref: str) -> FeedClaim | None: ...

    def recent(self, limit: int) -> list[FeedReport]:
        """The latest feeds' reports, newest first."""


class FeedFiles(Protocol):
    """The feeds bucket's objects."""

    def read(self, key: str, etag: str, max_bytes: int) -> bytes | None:
        """The object as notified (its ETag), at most max_bytes + 1 bytes; None when gone or replaced since."""


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

    def low_stock(self, sku: str, location_id: str, available: int, reorder_point: int) -> None:
        """Tell whoever runs the shop that a stock item dropped below its reorder point (once per crossing)."""


class PartnerOutbox(Protocol):
    """Where a partner (a 3PL, a dropshipper) takes the shipments it prepares from (dawra.contracts.partners)."""

    def send(self, partner: str, message: str) -> None:
        """Put one signed message for `partner` where it reads them; TransientError when that failed (retry)."""


class StockWaiters(Protocol):
    """The waiting lists of backordered and preordered orders, one per SKU, oldest placement first
    (dawra.app.backorders)."""

    def join(self, entries: Sequence[WaitingEntry], locations: Sequence[str]) -> None:
        """Put the entries in their lists (again: nothing changes), then flag the SKUs' stock items at `locations`
        (those that exist) as waited for. Raises TransientError."""

    def waiting(self, sku: str) -> list[WaitingEntry]:
        """The SKU's list, oldest first."""

    def leave(self, entries: Sequence[WaitingEntry]) -> None:
        """Take the entries out of their lists (gone already: nothing)."""

    def unflag(self, sku: str) -> None:
        """Nobody waits for the SKU any more: clear the waiting flag of its stock items."""

    def flag(self, sku: str) -> None:
        """Somebody waits for the SKU after all: set the waiting flag of its stock items again."""


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
    """A payment provider, called with an idempotency key on every call.

    The contract (tests/unit/test_payments_sandbox.py holds the sandbox to it; a real provider's adapter passes
    `reference` as the provider's own idempotency key, e.g. Stripe's Idempotency-Key header, Adyen's):
    - `reference` IS the idempotency key. Keys are scoped to their operation (a void and a refund may share one).
    - The same key with the same parameters returns the same result, and moves money once, however often it is
      repeated (a retried task, a replayed request, a lost answer).
    - The same key with other parameters (another amount, another authorisation, another token) is refused with
      PaymentKeyReused, and nothing moves: a key always names one request.
    - A declined call raises PaymentDeclined (a lapsed authorisation at capture: AuthorizationExpired); a processor
      that is unavailable raises TransientError, and repeating the call under the same key is always safe.
    Who decides each key: checkout (`chk_<Idempotency-Key hash>`), the shipment's capture (its shipment id, and its
    capture round), each refund and void (the order, return or operator request it answers)."""

    name: str
    # How long an authorisation stays capturable, as the provider documents it (None: it never lapses, e.g. cash on
    # delivery). The order records when its authorisation lapses, and renews it in time (dawra.app.payments).
    authorization_validity: timedelta | None

    def authorize(self, token: str, amount: Money, reference: str) -> str:
        """Authorise `amount` on the customer's payment token; returns the authorization id."""

    def reauthorize(self, authorization_id: str, amount: Money, reference: str) -> str:
        """A new authorisation of `amount` on the credential the provider keeps for `authorization_id` (a merchant-
        initiated transaction: the customer is not there), replacing it: the provider releases the old one. Used
        when the old one lapsed or is about to. Raises PaymentDeclined when the issuer refuses."""

    def capture(self, authorization_id: str, amount: Money, reference: str) -> str:
        """Capture `amount` of the authorisation (one shipment's share). AuthorizationExpired when it lapsed."""

    def void(self, authorization_id: str, reference: str) -> str:
        """Release the whole authorisation (nothing more will be captured)."""

    def void_part(self, authorization_id: str, amount: Money, reference: str) -> str:
        """Release `amount` of an authorisation nothing was captured against (a partial reversal: the order now asks
        less); the rest stays authorised."""

    def refund(self, authorization_id: str, amount: Money, reference: str) -> str:
        """Give back `amount` of what was captured (all of it, or part)."""


class PaymentLinks(Protocol):
    name: str

    def create_link(self, amount: Money, reference: str) -> tuple[str, str]:
        """(authorization id, URL the customer pays at); idempotent by reference."""


class PaymentProviders(Protocol):
    def named(self, name: str) -> PaymentProvider: ...


class PaymentEventSource(Protocol):
    """A payment provider's webhooks: signed, sent at least once, in any order (dawra.app.payment_events)."""

    name: str

    def verify(self, raw_body: bytes, signature: str | None, secret: bytes, received_at_epoch_ms: int) -> None:
        """Raises WebhookRejected (reason "signature" or "replay") unless the body is signed with `secret` at a
        time within the replay window of when it reached us."""

    def parse(self, raw_body: bytes) -> list[PaymentEvent]:
        """The events of a verified body; WebhookRejected (reason "shape") when they cannot be read."""


class Booking(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    tracking_number: str
    label_url: str


class ReturnBooking(BaseModel):
    """A parcel the customer sends back: what the carrier gave us for it. Dawra prints the label itself from this
    (dawra/web/return_label.py); the tracking number is reported on through the carrier's usual webhooks."""

    model_config = ConfigDict(frozen=True, defer_build=True)

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


class CardFingerprints(Protocol):
    def card_fingerprint(self, token: str) -> str | None:
        """A stable identifier of the card behind a payment token (the same card, the same fingerprint, whatever the
        token), from the provider, without charging anything; None when the provider gives none. Never the number."""


class RiskRecords(Protocol):
    """What the risk screening keeps apart from orders (dawra.domain.risk): refusals, for operators to see."""

    def record_refusal(self, refusal: Refusal) -> None:
        """Keep a refused checkout (no personal data in the clear) for `REFUSALS_KEPT` (TTL); idempotent by id."""

    def refusals(self, day: str) -> list[Refusal]:
        """The refusals of one UTC day (YYYY-MM-DD), newest first."""


class Secrets(Protocol):
    def get(self, name: str) -> str: ...


class RateLimits(Protocol):
    """Counters per key and fixed window (the guest lookup's, per source and per contact)."""

    def hit(self, key: str, window_start: datetime, window_s: int, limit: int) -> bool:
        """Count one request against `key` in the window starting at `window_start`; False (and nothing counted)
        once `limit` requests were counted in it. Counters disappear some time after their window ends."""
