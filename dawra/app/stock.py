"""Stock in the back office: levels per sku and location, adjustments with a reason, transfers between locations.

Every change is authorised by role, decided by the domain (dawra.domain.inventory: available never goes below zero,
a transfer is received once) and committed with its audit entry in one transaction, conditionally on the counters it
was decided on. A change that raced another (a reservation, another operator) is re-read and decided again. Each
request carries an idempotency key: its audit entry is keyed by it, so a retried request finds the entry and acts
once (the answer is the same entry, with `replayed` set).

Quarantined stock (returned units set aside at inspection, counted apart from on hand) is written off (gone) or
released to sellable (on hand and available), a reason required, never more than is quarantined; the same
permission as adjustments (the warehouse, a manager).

Creating stock: an adjustment with a positive delta for a sku the catalog knows at a known location creates the stock
item (goods received where the sku was never kept); a transfer creates it at its destination. A negative delta on no
stock item is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from dawra.app.backorders import ServeWaitingOrders
from dawra.app.changes import audit_id_for, request_fingerprint
from dawra.app.common import now_iso, retry_on_race
from dawra.app.replenishment import tell_low
from dawra.domain.access import Actor, Permission, authorize
from dawra.domain.audit import AuditEntry, stock_subject
from dawra.domain.errors import IdempotencyKeyReused
from dawra.domain.inventory import (
    CounterChange,
    StockChange,
    StockLevel,
    StockRefused,
    Transfer,
    TransferNotFound,
    adjust,
    counters,
    crossed_below,
    receive,
    release_quarantined,
    send,
    write_off,
)
from dawra.domain.replenishment import set_policy
from dawra.ports import AuditLog, Clock, InventoryRepository, OpsAlerts, StockRecords, UnitOfWork

MAX_REASON = 500
STOCK_ACTIONS = ("adjust_stock", "transfer_stock", "receive_transfer")  # as their audit entries name them
QUARANTINE_ACTIONS = ("write_off_quarantined", "release_quarantined")


class StockView(BaseModel):
    """What the stock screen shows: the stock items asked for, and the transfers in transit to their locations."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    levels: list[StockLevel]  # by location, then sku
    transfers: list[Transfer]  # in transit, oldest first


class StockOutcome(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    levels: list[StockLevel]  # the stock items the change touched, as they are now
    transfer: Transfer | None = None  # the transfer sent or received, as it is now
    audit: AuditEntry
    replayed: bool  # the request had already been applied: nothing was done twice


@dataclass(frozen=True)
class _Decision:
    """What one attempt decided: the changes to commit and the audit entry's before and after."""

    changes: list[StockChange]
    before: dict[str, Any]
    after: dict[str, Any]


class StockActions:
    def __init__(self, inventory: InventoryRepository, records: StockRecords, uow: UnitOfWork, audit: AuditLog,
                 clock: Clock, alerts: OpsAlerts | None = None, waiting: ServeWaitingOrders | None = None):
        """alerts: where low-stock alerts go after a change takes an item below its reorder point (None: nowhere);
        waiting: serves the orders waiting for a sku (backorders, preorders) when units arrive on a stock item that
        says somebody waits (None: their workflows' timers do)."""
        self.inventory, self.records, self.uow, self.audit, self.clock = inventory, records, uow, audit, clock
        self.alerts, self.waiting = alerts, waiting

    # --- reads ----------------------------------------------------------------------------------------------------
    def levels(self, actor: Actor, *, sku: str | None = None, location_id: str | None = None) -> StockView:
        """Per location, per sku, one item (both), or everything (neither: every location in turn)."""
        authorize(actor, Permission.VIEW_STOCK)
        if sku and location_id:
            level = self.inventory.stock(sku, location_id)
            levels = [level] if level else []
            locations = [location_id]
        elif location_id:
            levels, locations = self.records.levels_at(location_id), [location_id]
        elif sku:
            levels = self.records.levels_of(sku)
            locations = [location.location_id for location in self.inventory.locations()]
        else:
            locations = [location.location_id for location in self.inventory.locations()]
            levels = [level for location in locations for level in self.records.levels_at(location)]
        transfers = [t for location in locations for t in self.records.transfers_to(location)
                     if not sku or t.sku == sku]
        return StockView(levels=sorted(levels, key=lambda level: (level.location_id, level.sku)),
                         transfers=sorted(transfers, key=lambda t: (t.sent_at, t.transfer_id)))

    def transfer_record(self, actor: Actor, transfer_id: str) -> Transfer:
        authorize(actor, Permission.VIEW_STOCK)
        return self._transfer(transfer_id)

    # --- changes --------------------------------------------------------------------------------------------------
    def adjust(self, actor: Actor, key: str, sku: str, location_id: str, delta: int, reason: str) -> StockOutcome:
        """On hand and available change by `delta` (a count, breakage, goods received); reserved units stay."""
        authorize(actor, Permission.ADJUST_STOCK)
        reason = _reason(reason)

        def decide() -> _Decision:
            level = self.inventory.stock(sku, location_id)
            if level is None and delta > 0:
                self._known(sku, location_id)
            change = adjust(level, sku, location_id, delta)
            return _Decision(changes=[change], before=counters(level), after={**counters(change.after),
                                                                             "delta": delta})

        return self._act(actor, key, "adjust_stock", stock_subject(sku, location_id), reason, decide,
                         [(sku, location_id)], asked={"delta": delta})

    def write_off(self, actor: Actor, key: str, sku: str, location_id: str, quantity: int,
                  reason: str) -> StockOutcome:
        """Quarantined units are gone (beyond repair, destroyed): quarantined goes down by `quantity`."""
        return self._quarantined(actor, key, "write_off_quarantined", write_off, sku, location_id, quantity, reason)

    def release(self, actor: Actor, key: str, sku: str, location_id: str, quantity: int,
                reason: str) -> StockOutcome:
        """Quarantined units are sellable after all: quarantined down, on hand and available up by `quantity`."""
        return self._quarantined(actor, key, "release_quarantined", release_quarantined, sku, location_id, quantity,
                                 reason)

    def _quarantined(self, actor: Actor, key: str, action: str,
                     move: Callable[[StockLevel | None, str, str, int], CounterChange], sku: str, location_id: str,
                     quantity: int, reason: str) -> StockOutcome:
        authorize(actor, Permission.ADJUST_STOCK)
        reason = _reason(reason)

        def decide() -> _Decision:
            level = self.inventory.stock(sku, location_id)
            change = move(level, sku, location_id, quantity)
            return _Decision(changes=[change], before=counters(level), after={**counters(change.after),
                                                                             "quantity": quantity})

        return self._act(actor, key, action, stock_subject(sku, location_id), reason, decide, [(sku, location_id)],
                         asked={"quantity": quantity})

    def set_plan(self, actor: Actor, key: str, sku: str, location_id: str, reorder_point: int | None,
                 target: int | None, reason: str) -> StockOutcome:
        """The stock item's reorder point and target (both None: no longer planned), for replenishment."""
        authorize(actor, Permission.PLAN_REPLENISHMENT)
        reason = _reason(reason)

        def decide() -> _Decision:
            level = self.inventory.stock(sku, location_id)
            change = set_policy(level, sku, location_id, reorder_point, target)
            return _Decision(changes=[change], before={**counters(level), **_plan_of(level)},
                             after={**counters(change.after), **_plan_of(change.after)})

        return self._act(actor, key, "set_replenishment", stock_subject(sku, location_id), reason, decide,
                         [(sku, location_id)], asked={"reorder_point": -1 if reorder_point is None else reorder_point,
                                                      "target": -1 if target is None else target})

    def transfer(self, actor: Actor, key: str, sku: str, from_location: str, to_location: str, quantity: int,
                 reason: str) -> StockOutcome:
        """The units leave `from_location` now and are in transit to `to_location` until received there."""
        authorize(actor, Permission.TRANSFER_STOCK)
        reason = _reason(reason)
        if quantity < 1:
            raise StockRefused("a transfer moves at least one unit", field="quantity")
        transfer_id = transfer_id_for(actor, key)

        def decide() -> _Decision:
            self._known_location(to_location)
            source, destination = self.inventory.stock(sku, from_location), self.inventory.stock(sku, to_location)
            transfer = Transfer(transfer_id=transfer_id, sku=sku, from_location=from_location, to_location=to_location,
                                quantity=quantity, reason=reason, sent_at=self._now(), sent_by=actor.user_id)
            leaving, arriving, record = send(transfer, source, destination)
            return _Decision(changes=[leaving, arriving, record],
                             before={"source": counters(source), "destination": counters(destination)},
                             after={"source": counters(leaving.after), "destination": counters(arriving.after),
                                    "transfer_id": transfer_id, "to_location": to_location, "quantity": quantity,
                                    "state": transfer.state.value})

        return self._act(actor, key, "transfer_stock", stock_subject(sku, from_location), reason, decide,
                         [(sku, from_location), (sku, to_location)], transfer_id, asked={"quantity": quantity})

    def receive(self, actor: Actor, key: str, transfer_id: str, reason: str | None = None) -> StockOutcome:
        """The transfer's units arrive at its destination: in transit there becomes on hand and available. Once."""
        authorize(actor, Permission.TRANSFER_STOCK)
        reason = _reason(reason) if reason else None
        sent = self._transfer(transfer_id)  # its sku and destination name the audit subject; they never change

        def decide() -> _Decision:
            transfer = self._transfer(transfer_id)
            destination = self.inventory.stock(transfer.sku, transfer.to_location)
            arrived, record = receive(transfer, destination, self._now(), actor.user_id)
            return _Decision(changes=[arrived, record],
                             before={**counters(destination), "state": transfer.state.value},
                             after={**counters(arrived.after), "state": record.transfer.state.value,
                                    "transfer_id": transfer_id, "from_location": transfer.from_location,
                                    "quantity": transfer.quantity})

        return self._act(actor, key, "receive_transfer", stock_subject(sent.sku, sent.to_location), reason, decide,
                         [(sent.sku, sent.to_location)], transfer_id)

    # --- how every change is applied ------------------------------------------------------------------------------
    def _act(self, actor: Actor, key: str, action: str, subject: str, reason: str | None,
             decide: Callable[[], _Decision], touched: list[tuple[str, str]],
             transfer_id: str | None = None, asked: dict[str, int] | None = None) -> StockOutcome:
        audit_id = audit_id_for(actor, key)
        print_ = request_fingerprint(action, reason, {"stock": touched, "transfer": transfer_id, **(asked or {})})

        def outcome(entry: AuditEntry, replayed: bool) -> StockOutcome:
            levels = [level for sku, location in touched if (level := self.inventory.stock(sku, location))]
            transfer = self.records.transfer(transfer_id) if transfer_id else None
            return StockOutcome(levels=levels, transfer=transfer, audit=entry, replayed=replayed)

        def attempt() -> StockOutcome:
            done = self.audit.entry(subject, audit_id)
            if done is not None:
                if done.fingerprint not in (None, print_):
                    raise IdempotencyKeyReused("this Idempotency-Key was used for another change or other values")
                return outcome(done, replayed=True)
            decision = decide()
            entry = AuditEntry(audit_id=audit_id, subject=subject, action=action, actor_id=actor.user_id,
                               actor_name=actor.username, roles=sorted(actor.roles), at=self._now(), reason=reason,
                               before=decision.before, after=decision.after, fingerprint=print_)
            self.uow.commit(stock=decision.changes, audit=[entry])
            if self.waiting is not None:  # only a flagged (or new) stock item that gained units: dawra.app.backorders
                self.waiting.arrivals(decision.changes)
            if self.alerts is not None:
                tell_low(self.alerts, [(c.after.sku, c.after.location_id, c.after.available, c.after.reorder_point)
                                       for c in decision.changes if isinstance(c, CounterChange)
                                       and crossed_below(c) and c.after.reorder_point is not None])
            return outcome(entry, replayed=False)

        return retry_on_race(attempt, f"{action} on {subject}")

    def _now(self) -> str:
        return now_iso(self.clock)

    def _transfer(self, transfer_id: str) -> Transfer:
        transfer = self.records.transfer(transfer_id)
        if transfer is None:
            raise TransferNotFound(f"transfer {transfer_id} does not exist")
        return transfer

    def _known(self, sku: str, location_id: str) -> None:
        if sku not in self.inventory.catalog([sku]):
            raise StockRefused(f"{sku} is not in the catalog", field="sku")
        self._known_location(location_id)

    def _known_location(self, location_id: str) -> None:
        if location_id not in {location.location_id for location in self.inventory.locations()}:
            raise StockRefused(f"there is no location {location_id}", field="location_id")


def transfer_id_for(actor: Actor, key: str) -> str:
    """The transfer a request (its idempotency key) sends: the same on a retry."""
    return f"trf_{audit_id_for(actor, key)}"


def _plan_of(level: StockLevel | None) -> dict[str, Any]:
    return {"reorder_point": level.reorder_point if level else None, "target": level.target if level else None,
            "low": level.low if level else False}


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise StockRefused("say why: a stock change needs a reason", field="reason")
    if len(reason) > MAX_REASON:
        raise StockRefused(f"the reason is over {MAX_REASON} characters", field="reason")
    return reason
