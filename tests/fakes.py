"""In-memory fakes of every port in dawra.ports, shared by all unit tests. They keep the semantics the use cases
rely on (strong reads, all-or-nothing conditional commits over versions, stock that never goes below zero, markers
written once, claims with leases), and can be told to fail the way the cloud does: a transient refusal (nothing
applied) or an ambiguous failure (applied, then an error)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dawra.adapters.carriers.sandbox import SandboxCarrier
from dawra.adapters.payments.sandbox import SandboxPaymentProvider
from dawra.contracts.api import PlaceOrderRequest
from dawra.contracts.jobs import for_operations
from dawra.contracts.later import check_name, job_body
from dawra.domain.accounts import BusinessAccount, Receivable
from dawra.domain.allocation import Location
from dawra.domain.audit import AuditEntry
from dawra.domain.availability import WaitingEntry
from dawra.domain.errors import CatalogProblem, ConcurrentChange, TransientError, WebhookRejected
from dawra.domain.inventory import (
    CounterChange,
    MoveKind,
    Reservation,
    ReservationState,
    StockChange,
    StockLevel,
    Transfer,
    TransferMove,
    TransferState,
    hold_case,
)
from dawra.domain.money import Money
from dawra.domain.order import Order, OrderStatus
from dawra.domain.pricing import CatalogItem
from dawra.domain.risk import Counter, Refusal
from dawra.domain.stock_feeds import FeedReport
from dawra.domain.tax_documents import TaxDocument
from dawra.domain.timeline import TimelineEvent, chronological
from dawra.ports import (
    AppliedPaymentEvent,
    Booking,
    ClaimOutcome,
    FeedClaim,
    IdempotencyRecord,
    Marker,
    OrderPage,
    OrderQuery,
    ReturnBooking,
    RiskCount,
)


class FixedClock:
    def __init__(self, now: datetime | None = None):
        self.moment = now or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@dataclass
class World:
    """Everything the fakes store, in one place a test can inspect."""

    headers: dict[str, Order] = field(default_factory=dict)  # order_id -> header (shipments kept apart)
    shipments: dict[str, dict[str, object]] = field(default_factory=lambda: defaultdict(dict))
    returns: dict[str, dict[str, object]] = field(default_factory=lambda: defaultdict(dict))  # order -> return id
    events: dict[str, dict[str, TimelineEvent]] = field(default_factory=lambda: defaultdict(dict))
    markers: set[tuple[str, str]] = field(default_factory=set)
    idempotency: dict[str, IdempotencyRecord] = field(default_factory=dict)
    catalog: dict[str, CatalogItem] = field(default_factory=dict)
    locations: list[Location] = field(default_factory=list)
    stock: dict[tuple[str, str], StockLevel] = field(default_factory=dict)
    reservations: dict[tuple[str, str, str], Reservation] = field(default_factory=dict)
    claims: dict[tuple[str, str], dict] = field(default_factory=dict)
    broken_catalog: dict[str, str] = field(default_factory=dict)  # sku -> why the stored item is unsellable
    audit: dict[tuple[str, str], AuditEntry] = field(default_factory=dict)  # (subject, audit_id) -> entry
    transfers: dict[str, Transfer] = field(default_factory=dict)
    accounts: dict[str, BusinessAccount] = field(default_factory=dict)  # customer_id -> business account
    receivables: dict[str, Receivable] = field(default_factory=dict)  # order_id -> what it still owes, invoiced
    counters: dict[str, int] = field(default_factory=dict)  # tax document series -> the last number used
    documents: dict[tuple[str, str], TaxDocument] = field(default_factory=dict)  # (order_id, number) -> document
    risk: dict[str, Counter] = field(default_factory=dict)  # RiskCount.key -> the risk counter (dawra.domain.risk)
    refusals: list[Refusal] = field(default_factory=list)  # checkouts the risk screening refused

    def set_stock(self, sku: str, location_id: str, on_hand: int) -> None:
        self.stock[(sku, location_id)] = StockLevel(sku=sku, location_id=location_id, on_hand=on_hand, reserved=0,
                                                    available=on_hand)

    def timeline_kinds(self, order_id: str) -> list[str]:
        return [e.kind.value for e in sorted(self.events[order_id].values(), key=chronological)]


class FakeOrders:
    """OrderRepository and MessageClaims over a World."""

    def __init__(self, world: World):
        self.world = world

    def get(self, order_id: str) -> Order | None:
        header = self.world.headers.get(order_id)
        if header is None:
            return None
        shipments = sorted(self.world.shipments[order_id].values(), key=lambda s: s.shipment_id)
        returns = sorted(self.world.returns[order_id].values(), key=lambda r: (r.requested_at, r.return_id))
        # Rebuilt from data, as the DynamoDB repository does: nothing pending survives a read.
        return Order.model_validate({**header.model_dump(), "shipments": [s.model_dump() for s in shipments],
                                     "returns": [r.model_dump() for r in returns]})

    def timeline(self, order_id: str) -> list[TimelineEvent]:
        return sorted(self.world.events[order_id].values(), key=chronological)

    def find_shipment(self, tracking_number: str) -> tuple[str, str] | None:
        for order_id, shipments in self.world.shipments.items():
            for shipment in shipments.values():
                if shipment.tracking_number == tracking_number:
                    return order_id, shipment.shipment_id
        return None

    def idempotency_record(self, key_hash: str) -> IdempotencyRecord | None:
        return self.world.idempotency.get(key_hash)

    def tax_document(self, order_id: str, number: str) -> TaxDocument | None:
        return self.world.documents.get((order_id, number))

    def find_return(self, tracking_number: str) -> tuple[str, str] | None:
        """(order_id, return_id) of the return whose label has this tracking number."""
        for order_id, returns in self.world.returns.items():
            for ret in returns.values():
                if ret.tracking_number == tracking_number:
                    return order_id, ret.return_id
        return None

    # MessageClaims
    def claim(self, order_id, message_key, claimant, now, lease_until) -> ClaimOutcome:
        current = self.world.claims.get((order_id, message_key))
        if current and current["state"] == "sent":
            return ClaimOutcome.SENT
        if current and current["claimant"] != claimant and current["lease_until"] >= now:
            return ClaimOutcome.HELD
        self.world.claims[(order_id, message_key)] = {"state": "sending", "claimant": claimant,
                                                      "lease_until": lease_until}
        return ClaimOutcome.TAKEN

    def mark_sent(self, order_id, message_key, claimant, message_id) -> None:
        self.world.claims[(order_id, message_key)] = {"state": "sent", "claimant": claimant, "message_id": message_id}

    def release(self, order_id, message_key, claimant) -> None:
        current = self.world.claims.get((order_id, message_key))
        if current and current["claimant"] == claimant and current["state"] == "sending":
            del self.world.claims[(order_id, message_key)]


class FakeInventory:
    def __init__(self, world: World):
        self.world = world

    def catalog(self, skus: Sequence[str]) -> dict[str, CatalogItem]:
        for sku in skus:
            if sku in self.world.broken_catalog:
                raise CatalogProblem(sku, self.world.broken_catalog[sku])
        return {sku: self.world.catalog[sku] for sku in skus if sku in self.world.catalog}

    def locations(self) -> list[Location]:
        return list(self.world.locations)

    def available(self, skus, location_ids) -> dict[tuple[str, str], int]:
        return {(s, loc): self.world.stock[(s, loc)].available for s in skus for loc in location_ids
                if (s, loc) in self.world.stock}

    def levels(self, skus, location_ids) -> dict[tuple[str, str], StockLevel]:
        return {(s, loc): self.world.stock[(s, loc)] for s in skus for loc in location_ids
                if (s, loc) in self.world.stock}

    def catalog_and_stock(self, skus, location_ids):
        return self.catalog(skus), self.available(skus, location_ids)

    def skus_and_levels(self, skus, location_ids):
        return frozenset(s for s in skus if s in self.world.catalog), self.levels(skus, location_ids)

    def catalog_stock_and_counters(self, skus, location_ids, counters):
        return (self.catalog(skus), self.available(skus, location_ids),
                {name: self.world.risk[name] for name in counters if name in self.world.risk})

    def reservations(self, order_id: str) -> list[Reservation]:
        return [r for (o, _, _), r in sorted(self.world.reservations.items()) if o == order_id]

    def stock(self, sku: str, location_id: str) -> StockLevel | None:
        return self.world.stock.get((sku, location_id))

    # StockRecords
    def levels_at(self, location_id: str) -> list[StockLevel]:
        return [level for (_, loc), level in sorted(self.world.stock.items()) if loc == location_id]

    def levels_of(self, sku: str) -> list[StockLevel]:
        return [level for (s, _), level in sorted(self.world.stock.items()) if s == sku]

    def transfers_to(self, location_id: str) -> list[Transfer]:
        return sorted((t for t in self.world.transfers.values()
                       if t.to_location == location_id and t.state == TransferState.IN_TRANSIT),
                      key=lambda t: (t.sent_at, t.transfer_id))

    def transfer(self, transfer_id: str) -> Transfer | None:
        return self.world.transfers.get(transfer_id)


class FakeUnitOfWork:
    """All or nothing, with the same conditions as the DynamoDB unit of work. `faults` is a queue of what the next
    commits suffer: "transient" (refused, nothing applied) or "ambiguous" (applied, then TransientError)."""

    def __init__(self, world: World):
        self.world = world
        self.faults: list[str] = []
        self.commits = 0

    def commit(self, *, order: Order | None = None, stock: Sequence[StockChange] = (),
               markers: Sequence[Marker] = (), audit: Sequence[AuditEntry] = ()) -> None:
        fault = self.faults.pop(0) if self.faults else None
        if fault == "transient":
            raise TransientError("injected: throttled")
        if order is not None and order.new_documents:  # numbered as the DynamoDB unit of work does
            order.number_documents({d.series: self.world.counters.get(d.series, 0) for d in order.new_documents})
        refused = self._check(order, stock, markers, audit)
        if refused:
            raise ConcurrentChange(refused)
        self._apply(order, stock, markers, audit)
        self.commits += 1
        if fault == "ambiguous":
            raise TransientError("injected: applied, then a 500")  # the caller never learns it was applied
        if order is not None:
            order.mark_committed()

    def _check(self, order, stock, markers, audit) -> set[str]:
        w, refused = self.world, set()
        if order is not None:
            stored = w.headers.get(order.order_id)
            if order.header_changed and (stored.version if stored else 0) != order.version:
                refused.add("order")
            for shipment in order.changed_shipments:
                stored_s = w.shipments[order.order_id].get(shipment.shipment_id)
                if (stored_s.version if stored_s else 0) != shipment.version:
                    refused.add("shipment")
            for ret in order.changed_returns:
                stored_r = w.returns[order.order_id].get(ret.return_id)
                if (stored_r.version if stored_r else 0) != ret.version:
                    refused.add("return")
            if any(e.event_id in w.events[order.order_id] for e in order.new_events):
                refused.add("event")
            account = w.accounts.get(order.customer_id) if order.account else None
            if order.credit_ceiling is not None and (account is None or account.open_balance > order.credit_ceiling):
                refused.add("account")
        for move in stock:
            if isinstance(move, CounterChange):  # only over the counters it was decided on
                if w.stock.get((move.after.sku, move.after.location_id)) != move.before:
                    refused.add("stock")
                continue
            if isinstance(move, TransferMove):  # created once; received only from in transit
                stored_t = w.transfers.get(move.transfer.transfer_id)
                if (stored_t.state if stored_t else None) != move.expected:
                    refused.add("transfer")
                continue
            r = move.reservation
            level = w.stock.get((r.sku, r.location_id))
            held = w.reservations.get(_reservation_key(r))
            if move.kind == MoveKind.HOLD:
                if level is None or level.available < r.quantity or (move.watch is not None and (  # still in the case it was planned in (as the conditions do)
                        level.reorder_point != move.watch.reorder_point
                        or hold_case(level.available, level.reorder_point, r.quantity, level.low) != move.watch.case)):
                    refused.add("stock")
                if held is not None:
                    refused.add("reservation")
            else:
                if level is None or level.reserved < r.quantity:
                    refused.add("stock")
                if held is None or held.state != ReservationState.HELD:
                    refused.add("reservation")
        for marker in markers:
            if isinstance(marker, RiskCount):  # counting never refuses
                continue
            if _marker_key(marker) in w.markers or (
                    isinstance(marker, IdempotencyRecord) and marker.key_hash in w.idempotency):
                refused.add("marker")
        if any((entry.subject, entry.audit_id) in w.audit for entry in audit):  # append-only
            refused.add("audit")
        return refused

    def _apply(self, order, stock, markers, audit) -> None:
        w = self.world
        if order is not None:
            if order.header_changed:
                w.headers[order.order_id] = order.model_copy(deep=True, update={
                    "shipments": [], "returns": [], "version": order.version + 1})
            for shipment in order.changed_shipments:
                w.shipments[order.order_id][shipment.shipment_id] = shipment.model_copy(
                    deep=True, update={"version": shipment.version + 1})
            for ret in order.changed_returns:
                w.returns[order.order_id][ret.return_id] = ret.model_copy(deep=True,
                                                                          update={"version": ret.version + 1})
            for event in order.new_events:
                w.events[order.order_id][event.event_id] = event
            account = w.accounts.get(order.customer_id) if order.account else None
            if account is not None and order.account_change:  # ADD open_balance :change
                w.accounts[order.customer_id] = account.model_copy(
                    update={"open_balance": account.open_balance + order.account_change})
            receivable = order.receivable()
            if receivable is not None and order.header_changed:
                w.receivables[order.order_id] = receivable
            elif order.account_change:
                w.receivables.pop(order.order_id, None)
            for document in order.new_documents:
                w.documents[(order.order_id, document.number)] = document
                w.counters[document.series] = max(w.counters.get(document.series, 0), document.sequence)
        for move in stock:
            if isinstance(move, CounterChange):
                w.stock[(move.after.sku, move.after.location_id)] = move.after
                continue
            if isinstance(move, TransferMove):
                w.transfers[move.transfer.transfer_id] = move.transfer
                continue
            r = move.reservation
            level = w.stock[(r.sku, r.location_id)]
            q = r.quantity
            if move.kind == MoveKind.HOLD:
                level = level.model_copy(update={"available": level.available - q, "reserved": level.reserved + q,
                                                 "low": level.low or bool(move.watch and move.watch.alerts)})
                w.reservations[_reservation_key(r)] = r
            else:
                if move.kind == MoveKind.CONSUME:
                    level = level.model_copy(update={"on_hand": level.on_hand - q, "reserved": level.reserved - q})
                    state = ReservationState.SHIPPED
                else:
                    level = level.model_copy(update={"available": level.available + q,
                                                     "reserved": level.reserved - q})
                    state = ReservationState.RELEASED
                key = _reservation_key(r)
                w.reservations[key] = w.reservations[key].model_copy(update={"state": state})
            w.stock[(r.sku, r.location_id)] = level
        for marker in markers:
            if isinstance(marker, RiskCount):
                was = w.risk.get(marker.key) or Counter()
                data = {"orders": was.orders, "refusals": was.refusals, **was.buckets}
                for name, amount in marker.add.items():
                    data[name] = data.get(name, 0) + amount
                for name in marker.remove:
                    data.pop(name, None)
                w.risk[marker.key] = Counter(orders=data.pop("orders"), refusals=data.pop("refusals"), buckets=data)
                continue
            w.markers.add(_marker_key(marker))
            if isinstance(marker, IdempotencyRecord):
                w.idempotency[marker.key_hash] = marker
        for entry in audit:
            w.audit[(entry.subject, entry.audit_id)] = entry


def _reservation_key(r: Reservation) -> tuple[str, str, str]:
    """As the inventory table keys it: a replacement's reservation also names its shipment."""
    return r.order_id, r.sku, r.location_id + (f"#{r.shipment_id}" if r.replacement else "")


def _marker_key(marker: Marker) -> tuple[str, str]:
    if isinstance(marker, AppliedPaymentEvent):
        return marker.order_id, marker.event.dedup_key
    return "IDEMPOTENCY", marker.key_hash


class FakeAccounts:
    """CustomerAccounts over a World: details over their version, the balance left to the orders' commits."""

    def __init__(self, world: World):
        self.world = world

    def account(self, customer_id: str) -> BusinessAccount | None:
        return self.world.accounts.get(customer_id)

    def save(self, account: BusinessAccount, audit: AuditEntry) -> None:
        w, refused = self.world, set()
        stored = w.accounts.get(account.customer_id)
        if (stored.version if stored else 0) != account.version:
            refused.add("account")
        if (audit.subject, audit.audit_id) in w.audit:
            refused.add("audit")
        if refused:
            raise ConcurrentChange(refused)
        w.accounts[account.customer_id] = account.model_copy(update={
            "version": account.version + 1, "open_balance": stored.open_balance if stored else 0})
        w.audit[(audit.subject, audit.audit_id)] = audit

    def receivables(self, due_before: str) -> list[Receivable]:
        return sorted((r for r in self.world.receivables.values() if r.due_on < due_before),
                      key=lambda r: (r.due_on, r.order_id))


class FakeOrderSearch:
    """OrderSearch over a World's headers: newest first, the same criteria as the DynamoDB search (a location: an
    order with a shipment leaving from it); the cursor is the last order's (placed_at, order_id)."""

    def __init__(self, world: World):
        self.world = world

    def search(self, query: OrderQuery, limit: int, cursor: str | None) -> OrderPage:
        found = [o for o in self.world.headers.values() if query.matches(o) and (
            not query.location or any(shipment.location_id == query.location
                                      for shipment in self.world.shipments[o.order_id].values()))]
        found.sort(key=lambda o: (o.placed_at, o.order_id), reverse=True)
        if cursor:
            after = tuple(cursor.split("|", 1))
            found = [o for o in found if (o.placed_at, o.order_id) < after]
        page = [o.model_copy(deep=True) for o in found[:limit]]
        more = len(found) > limit
        return OrderPage(orders=page, cursor=f"{page[-1].placed_at}|{page[-1].order_id}" if more else None)


class FakeAuditLog:
    """AuditLog over a World's audit entries (written by FakeUnitOfWork.commit, append-only)."""

    def __init__(self, world: World):
        self.world = world

    def entry(self, subject: str, audit_id: str) -> AuditEntry | None:
        return self.world.audit.get((subject, audit_id))

    def for_subject(self, subject: str) -> list[AuditEntry]:
        # Oldest first; entries written at the same moment (a fixed clock) stay in the order they were committed.
        return sorted((e for (s, _), e in self.world.audit.items() if s == subject), key=lambda e: e.at)

    def by_actor(self, actor_id: str, limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
        entries = sorted((e for e in self.world.audit.values() if e.actor_id == actor_id),
                         key=lambda e: (e.at, e.audit_id), reverse=True)
        start = int(cursor) if cursor else 0
        page = entries[start:start + limit]
        return page, str(start + limit) if start + limit < len(entries) else None


class FakeOrderHistory:
    """OrderHistory over a World: headers by status (oldest first, bounded), timelines and whole orders. `reads`
    records each orders_by_status call as (status, placed_from, limit); `whole_reads`, each whole_orders call's ids."""

    def __init__(self, world: World):
        self.world = world
        self.reads: list[tuple[str, str | None, int]] = []
        self.whole_reads: list[list[str]] = []

    def orders_by_status(self, status: str, placed_from: str | None, limit: int) -> tuple[list[Order], bool]:
        self.reads.append((status, placed_from, limit))
        found = sorted((o for o in self.world.headers.values() if o.status == OrderStatus(status)
                        and (placed_from is None or o.placed_at >= placed_from)),
                       key=lambda o: (o.placed_at, o.order_id))
        return [o.model_copy(deep=True) for o in found[:limit]], len(found) > limit

    def timelines(self, order_ids: Sequence[str]) -> dict[str, list[TimelineEvent]]:
        return {order_id: sorted(self.world.events[order_id].values(), key=chronological)
                for order_id in order_ids}

    def whole_orders(self, order_ids: Sequence[str]) -> dict[str, Order]:
        self.whole_reads.append(list(order_ids))
        found = {order_id: FakeOrders(self.world).get(order_id) for order_id in order_ids}
        return {order_id: order for order_id, order in found.items() if order is not None}


class FakeWorkflow:
    def __init__(self):
        self.started: list[str] = []
        self.started_returns: list[tuple[str, str]] = []  # (order_id, return_id)
        self.resumed: dict[str, dict] = {}
        self.failed: dict[str, tuple[str, str]] = {}
        self.stopped: list[str] = []
        self.dead_tokens: set[str] = set()  # tasks no longer waiting (timed out, execution over)
        self.faults: list[str] = []

    def start(self, order_id: str) -> None:
        if self.faults:
            self.faults.pop(0)
            raise TransientError("injected: StartExecution throttled")
        if order_id not in self.started:
            self.started.append(order_id)

    def start_return(self, order_id: str, return_id: str) -> None:
        if self.faults:
            self.faults.pop(0)
            raise TransientError("injected: StartExecution throttled")
        if (order_id, return_id) not in self.started_returns:
            self.started_returns.append((order_id, return_id))

    def resume(self, token: str, output: dict) -> bool:
        if token in self.dead_tokens or token in self.resumed:
            return False
        self.resumed[token] = output
        return True

    def fail(self, token: str, error: str, cause: str) -> bool:
        if token in self.dead_tokens or token in self.resumed:
            return False
        self.failed[token] = (error, cause)
        return True

    def stop(self, order_id: str, cause: str) -> None:
        self.stopped.append(order_id)


class FakeMessenger:
    def __init__(self):
        self.sent: list[dict] = []
        self.failures: list[Exception] = []

    def _send(self, **message) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return f"msg-{len(self.sent)}"

    def send_email(self, to, subject, html, text) -> str:
        return self._send(channel="email", to=to, subject=subject, html=html, text=text)

    def send_sms(self, phone, text) -> str:
        return self._send(channel="sms", to=phone, text=text)


class FakeOpsAlerts:
    def __init__(self):
        self.alerts: list[tuple[str, str]] = []

    def alert(self, order_id: str, reason: str) -> None:
        self.alerts.append((order_id, reason))

    def catalog_problem(self, sku: str, why: str) -> None:
        self.alerts.append((f"sku {sku}", why))

    def low_stock(self, sku: str, location_id: str, available: int, reorder_point: int) -> None:
        self.alerts.append((f"low {sku}@{location_id}", f"{available} available, reorder point {reorder_point}"))


class FakeLater:
    """Later in memory: jobs pending by name, the first `at` of a name winning while it is pending (as on EventBridge
    Scheduler); names and jobs checked by the adapter's own rules (dawra/contracts/later.py). `take_due(now)` hands a
    test the jobs whose time has come, oldest first, and frees their names, as a schedule that fired (and deleted
    itself) does. A time already past is due at once (the adapter schedules it a minute ahead). `queue` ("later-jobs"
    or "ops-jobs") takes only the jobs the adapter sends there, by their kind (`queue_of`). `failures` makes the
    next calls raise (e.g. TransientError) and schedule nothing."""

    def __init__(self):
        self.pending: dict[str, tuple[datetime, dict[str, str]]] = {}  # name -> (when, job)
        self.failures: list[Exception] = []

    def at(self, name: str, when: datetime, job: Mapping[str, str]) -> None:
        if self.failures:
            raise self.failures.pop(0)
        check_name(name)
        job_body(job)
        if when.tzinfo is None:
            raise ValueError("times are timezone-aware (UTC)")
        self.pending.setdefault(name, (when, dict(job)))

    def take_due(self, now: datetime, queue: str | None = None) -> list[dict[str, str]]:
        due = sorted((when, name) for name, (when, job) in self.pending.items()
                     if when <= now and queue in (None, self.queue_of(job)))
        return [self.pending.pop(name)[1] for _, name in due]

    @staticmethod
    def queue_of(job: Mapping[str, str]) -> str:
        """The queue the adapter's schedule sends `job` to: ops-jobs for a job that may alert operations."""
        return "ops-jobs" if for_operations(job["kind"]) else "later-jobs"


class RecordingPayments:
    """A payment provider (by default the sandbox: deterministic, documented tokens) with a ledger of every call;
    also a payment registry. `wrap` records another provider into the same ledger (the chaos tier wraps the one each
    function container builds)."""

    def __init__(self, provider: Any = None, ledger: list[tuple[str, str, str, int]] | None = None):
        self.provider = provider or SandboxPaymentProvider()
        self.name = self.provider.name
        # (operation, authorization id, reference, amount); list.append is atomic, so threads may share it
        self.ledger: list[tuple[str, str, str, int]] = [] if ledger is None else ledger

    def wrap(self, provider: Any) -> RecordingPayments:
        return RecordingPayments(provider, self.ledger)

    def named(self, name: str):
        assert name == self.name
        return self

    def authorize(self, token: str, amount: Money, reference: str) -> str:
        authorization = self.provider.authorize(token, amount, reference)
        self.ledger.append(("authorize", authorization, reference, amount.amount))
        return authorization

    @property
    def authorization_validity(self) -> Any:
        return self.provider.authorization_validity

    def reauthorize(self, authorization_id: str, amount: Money, reference: str) -> str:
        renewed = self.provider.reauthorize(authorization_id, amount, reference)
        self.ledger.append(("reauthorize", renewed, reference, amount.amount))
        return renewed

    def capture(self, authorization_id: str, amount: Money, reference: str) -> str:
        self.ledger.append(("capture", authorization_id, reference, amount.amount))
        return self.provider.capture(authorization_id, amount, reference)

    def void(self, authorization_id: str, reference: str) -> str:
        self.ledger.append(("void", authorization_id, reference, 0))
        return self.provider.void(authorization_id, reference)

    def void_part(self, authorization_id: str, amount: Money, reference: str) -> str:
        self.ledger.append(("void_part", authorization_id, reference, amount.amount))
        return self.provider.void_part(authorization_id, amount, reference)

    def refund(self, authorization_id: str, amount: Money, reference: str) -> str:
        self.ledger.append(("refund", authorization_id, reference, amount.amount))
        return self.provider.refund(authorization_id, amount, reference)

    def by_reference(self, operation: str) -> dict[str, set[int]]:
        """Distinct references (a provider applies a repeated reference once) -> the amounts asked under them."""
        found: dict[str, set[int]] = {}
        for op, _, reference, amount in self.ledger:
            if op == operation:
                found.setdefault(reference, set()).add(amount)
        return found

    def effective(self, operation: str) -> dict[str, int]:
        """Distinct references per operation, each with the one amount asked under it."""
        found = self.by_reference(operation)
        assert all(len(amounts) == 1 for amounts in found.values()), found
        return {reference: amounts.pop() for reference, amounts in found.items()}


class FakeCarriers:
    default = "sandbox"

    def __init__(self):
        self.sandbox = SandboxCarrier()
        self.bookings: list[str] = []

    def named(self, name: str):
        if name != "sandbox":
            raise WebhookRejected(f"unknown carrier {name!r}", "carrier")
        return self

    # the Carrier interface, delegating to the real sandbox carrier
    @property
    def name(self) -> str:
        return self.sandbox.name

    def book(self, shipment_id: str, country: str, weight_g: int) -> Booking:
        self.bookings.append(shipment_id)
        return self.sandbox.book(shipment_id, country, weight_g)

    def verify(self, raw_body, signature, secret, received_at_epoch_ms) -> None:
        self.sandbox.verify(raw_body, signature, secret, received_at_epoch_ms)

    def parse(self, raw_body):
        return self.sandbox.parse(raw_body)


class FakeCarrier:
    """A carrier that books returns deterministically (the same return, the same booking), for the returns' tests.
    `failures` makes the next bookings raise (e.g. TransientError) and book nothing."""

    name = "sandbox"

    def __init__(self, label_days: int = 14, clock: Any = None, pickup_days: int = 3):
        self.label_days, self.clock, self.days = label_days, clock or FixedClock(), pickup_days
        self.returns: list[tuple[str, str, str, int]] = []  # (return id, from city, to location, weight)
        self.pickups: list[tuple[str, Any]] = []  # (return id, the slot asked for) of each booking with a courier
        self.rebooked: list[tuple[str, Any, str]] = []  # (return id, the slot, the reference) of each courier moved
        self.failures: list[Exception] = []

    def book_return(self, return_id: str, from_address: Any, to_location_id: str,
                    weight_g: int, pickup: Any = None) -> ReturnBooking:
        if self.failures:
            raise self.failures.pop(0)
        self.returns.append((return_id, from_address.city, to_location_id, weight_g))
        number = "SBR" + hashlib.sha256(return_id.encode()).hexdigest()[:12].upper()
        expires = self.clock.now() + timedelta(days=self.label_days)
        courier = None
        if pickup is not None:  # the slot asked for while offered, else the first offered in its window
            self.pickups.append((return_id, pickup))
            offered = self.pickup_days(from_address.country, self.clock.now().date())
            courier = pickup if pickup in offered else next(s for s in offered if s.window == pickup.window)
        return ReturnBooking(carrier=self.name, service="Sandbox Returns", tracking_number=number,
                             expires_at=expires.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                             pickup_on=courier.day.isoformat() if courier else None,
                             pickup_window=courier.window if courier else None)

    def rebook_pickup(self, return_id: str, country: str, pickup: Any, reference: str) -> ReturnBooking:
        """The courier moved to `pickup` (one of the days offered now, else PickupNotOffered); the label valid until
        `label_days` after now, or the end of the day after the new day if later. Recorded in `rebooked`."""
        from dawra.domain.returns import ReturnMethod, check_pickup, pickup_covered_until

        check_pickup(ReturnMethod.PICKUP, pickup, self.pickup_days(country, self.clock.now().date()))
        self.rebooked.append((return_id, pickup, reference))
        ours = (self.clock.now() + timedelta(days=self.label_days)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        number = "SBR" + hashlib.sha256(return_id.encode()).hexdigest()[:12].upper()
        return ReturnBooking(carrier=self.name, service="Sandbox Returns", tracking_number=number,
                             expires_at=max(ours, pickup_covered_until(pickup.day)), pickup_on=pickup.day.isoformat(),
                             pickup_window=pickup.window)

    def pickup_days(self, country: str, from_day: Any) -> list[Any]:
        """The next `pickup_days` days (every day of the week), each morning and afternoon."""
        from dawra.domain.returns import PickupSlot, PickupWindow

        return [PickupSlot(day=from_day + timedelta(days=n), window=w) for n in range(1, self.days + 1)
                for w in PickupWindow]


class FakeSecrets:
    def __init__(self, values: dict[str, str]):
        self.values = values

    def get(self, name: str) -> str:
        return self.values[name]


class FakeRejections:
    def __init__(self):
        self.recorded: list[dict] = []

    def record(self, carrier, reason, detail, received_at, message_id) -> None:
        self.recorded.append({"carrier": carrier, "reason": reason, "detail": detail, "message_id": message_id})


class FakeRateLimits:
    """RateLimits over a dict: (key, window start) -> requests counted."""

    def __init__(self):
        self.counts: dict[tuple[str, datetime], int] = {}

    def hit(self, key: str, window_start: datetime, window_s: int, limit: int) -> bool:
        counted = self.counts.get((key, window_start), 0)
        if counted >= limit:
            return False
        self.counts[(key, window_start)] = counted + 1
        return True


class FakeRemittanceImports:
    """RemittanceImports over a World: reports by digest (first one wins), newest first; the owed COD parcels read
    from the stored shipments as the by-lookup index would list them."""

    def __init__(self, world: World):
        self.world = world
        self.reports: dict[str, Any] = {}

    def imported(self, digest: str):
        return self.reports.get(digest)

    def record(self, report) -> bool:
        if report.digest in self.reports:
            return False
        self.reports[report.digest] = report
        return True

    def recent(self, limit: int) -> list:
        return sorted(self.reports.values(), key=lambda r: (r.imported_at, r.digest), reverse=True)[:limit]

    def unremitted(self, delivered_before: str, limit: int) -> list[tuple[str, str]]:
        owed = sorted((s.delivered_at, order_id, s.shipment_id) for order_id, shipments in self.world.shipments.items()
                      for s in shipments.values()
                      if self.world.headers[order_id].payment.provider == "cash_on_delivery" and s.delivered_at
                      and s.delivered_at < delivered_before and s.cod_remittance is None)
        return [(order_id, shipment_id) for _, order_id, shipment_id in owed[:limit]]


SECRET = "sandbox-webhook-secret"  # the sandbox carrier's webhook secret in the unit tier
LINK_KEY = b"order-link-key-of-the-unit-tier-0123456789"  # signs customers' order links in the unit tier


def request(lines: dict[str, int], **overrides) -> PlaceOrderRequest:
    """A checkout request as a storefront sends it (Sara, Riyadh, the sandbox's approving token)."""
    body = {"customer_id": "cust-1", "contact": {"email": "sara@example.com"},
            "shipping_address": {"name": "Sara", "line1": "12 Olaya St", "city": "Riyadh", "country": "SA"},
            "lines": [{"sku": sku, "quantity": q} for sku, q in lines.items()], "payment_token": "tok_sandbox_approve",
            **overrides}
    return PlaceOrderRequest.model_validate(body)


class FakeRiskRecords:
    def __init__(self, world: World):
        self.world = world

    def record_refusal(self, refusal: Refusal) -> None:
        if all(r.refusal_id != refusal.refusal_id for r in self.world.refusals):
            self.world.refusals.append(refusal)

    def refusals(self, day: str) -> list[Refusal]:
        return sorted((r for r in self.world.refusals if r.at.startswith(day)), key=lambda r: r.at, reverse=True)


class FakeStockFeeds:
    """Stock feeds' markers and reports (dawra.ports.StockFeeds): a marker is claimed once."""

    def __init__(self) -> None:
        self.claims: dict[str, FeedClaim] = {}

    def claim(self, claim: FeedClaim) -> FeedClaim | None:
        existing = self.claims.get(claim.ref)
        if existing is None:
            self.claims[claim.ref] = claim
        return existing

    def finish(self, report: FeedReport) -> None:
        claim = self.claims[report.ref]
        if claim.report is None:
            self.claims[report.ref] = claim.model_copy(update={"report": report})

    def feed(self, ref: str) -> FeedClaim | None:
        return self.claims.get(ref)

    def recent(self, limit: int) -> list[FeedReport]:
        reports = [claim.report for claim in self.claims.values() if claim.report is not None]
        return sorted(reports, key=lambda r: (r.received_at, r.ref), reverse=True)[:limit]


class FakeStockWaiters:
    """The waiting lists of backordered and preordered orders (dawra.ports.StockWaiters), flagging the world's stock
    items as the DynamoDB adapter does."""

    def __init__(self, world: World):
        self.world = world
        self.entries: dict[tuple[str, str, str], WaitingEntry] = {}  # (sku, placed_at, order_id) -> entry
        self.queries = 0

    def join(self, entries, locations) -> None:
        for entry in entries:  # the entries first, then the flags (as the adapter)
            self.entries[(entry.sku, entry.placed_at, entry.order_id)] = entry
        for sku in {e.sku for e in entries}:
            for location_id in locations:
                level = self.world.stock.get((sku, location_id))
                if level is not None:
                    self.world.stock[(sku, location_id)] = level.model_copy(update={"waiting": True})

    def waiting(self, sku: str) -> list[WaitingEntry]:
        self.queries += 1
        return [e for key, e in sorted(self.entries.items()) if key[0] == sku]

    def leave(self, entries) -> None:
        for e in entries:
            self.entries.pop((e.sku, e.placed_at, e.order_id), None)

    def unflag(self, sku: str) -> None:
        self._flag_all(sku, False)

    def flag(self, sku: str) -> None:
        self._flag_all(sku, True)

    def _flag_all(self, sku: str, waiting: bool) -> None:
        for (s, loc), level in list(self.world.stock.items()):
            if s == sku:
                self.world.stock[(s, loc)] = level.model_copy(update={"waiting": waiting})
