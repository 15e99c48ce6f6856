"""One person's change to one order, as every such change is made: decided on the order as it is now, committed with
its audit entry (who, when, what was asked, the fields before and after) in one unit of work, once per request.

The operators' actions (dawra.app.backoffice) and the customer's (dawra.app.customer) are both made here. The audit
entry's id derives from the actor and the request's idempotency key, so a retried request finds its entry and acts no
second time; the entry keeps a fingerprint of what was asked, so the same key with other values is refused rather than
answered as a replay of something else.

A whole-order cancellation is also handed on the same way for both: to the running workflow's compensation (its
parked shipments are failed with the error naming who asked), or, once a person has the order and no workflow runs,
to the same compensation tasks run here."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dawra.app.common import load, now_iso, retry_on_race
from dawra.app.compensate import CancelOrder, ReleaseStock
from dawra.domain.access import Actor
from dawra.domain.audit import AuditEntry, order_subject
from dawra.domain.errors import IdempotencyKeyReused
from dawra.domain.inventory import StockChange
from dawra.domain.order import Order, OrderStatus
from dawra.ports import AuditLog, Clock, OrderRepository, UnitOfWork, Workflow


def request_fingerprint(action: str, reason: str | None, asked: dict[str, Any]) -> str:
    """What a request asked for: the same Idempotency-Key with another action or other values is refused."""
    canonical = json.dumps({"action": action, "reason": reason, **asked}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def audit_id_for(actor: Actor, request_key: str) -> str:
    """One request (an operator's idempotency key) is one audit entry: its id derives from both."""
    return hashlib.sha256(f"{actor.user_id}|{request_key}".encode()).hexdigest()[:32]


def snapshot(order: Order) -> dict[str, Any]:
    """What an audit entry compares before and after: the parts of an order a person can change."""
    return {
        "status": order.status.value,
        "total": order.totals.total.amount,
        "authorized": order.payment.authorized.amount,
        "refunded": order.payment.refunded.amount,
        "lines": {line.sku: line.quantity for line in order.lines},
        "shipping_address": order.shipping_address.model_dump(mode="json", exclude_none=True),
        "shipping": order.totals.shipping.amount,
        "promised_by": order.promised_by,
        "cancelled_shipments": sorted(s.shipment_id for s in order.shipments if s.cancelled),
        "contact": {"preferred_channel": order.contact.preferred_channel, "language": order.contact.language,
                    "phone": order.contact.phone},
        "hold_reason": order.hold_reason,
        "cancellation_requested": order.cancellation_requested,
    }


def _changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [key for key in before if before[key] != after.get(key)]
    return {key: before[key] for key in keys}, {key: after[key] for key in keys}


@dataclass
class Change:
    """What deciding an action produced besides the order itself."""

    stock: list[StockChange] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)  # extra facts for the audit entry's "after"


@dataclass(frozen=True)
class Outcome:
    order: Order
    audit: AuditEntry
    replayed: bool  # the request had already been applied: nothing was done twice


class ChangeOrder:
    """Decide a change on the order as it is, and commit it with its audit entry, once per request key."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, audit: AuditLog, clock: Clock):
        self.orders, self.uow, self.audit, self.clock = orders, uow, audit, clock

    def __call__(self, actor: Actor, order_id: str, key: str, action: str, reason: str | None,
                 decide: Callable[[Order, str], Change], asked: dict[str, Any]) -> Outcome:
        """`decide(order, ref)` changes the order (its business method applies the event; `ref` names the timeline
        event it appends) and returns the stock moves and facts that go with it. A lost race decides again."""
        audit_id, subject = audit_id_for(actor, key), order_subject(order_id)
        print_ = request_fingerprint(action, reason, asked)

        def attempt() -> Outcome:
            done = self.audit.entry(subject, audit_id)
            if done is not None:
                if done.fingerprint not in (None, print_):
                    raise IdempotencyKeyReused("this Idempotency-Key was used for another action or other values")
                return Outcome(load(self.orders, order_id), done, replayed=True)
            order = load(self.orders, order_id)
            before = snapshot(order)
            change = decide(order, audit_id)
            changed_before, changed_after = _changed(before, snapshot(order))
            entry = AuditEntry(audit_id=audit_id, subject=subject, action=action, actor_id=actor.user_id,
                               actor_name=actor.username, roles=sorted(actor.roles), at=now_iso(self.clock),
                               reason=reason, before=changed_before, after={**changed_after, **change.detail},
                               fingerprint=print_)
            self.uow.commit(order=order, stock=change.stock, audit=[entry])
            return Outcome(order, entry, replayed=False)

        return retry_on_race(attempt, f"{action} on {order_id}")


class FinishCancellation:
    """Hand an asked-for cancellation to the compensation: the running workflow's (its parked shipments are failed
    with the error naming who asked; a task about to reserve or ship refuses by itself), or, once a person has the
    order and no workflow runs, the same ReleaseStock and CancelOrder run here. Safe to repeat."""

    def __init__(self, workflow: Workflow, release_stock: ReleaseStock, cancel_order: CancelOrder):
        self.workflow, self.release_stock, self.cancel_order = workflow, release_stock, cancel_order

    def __call__(self, order: Order) -> None:
        stop = order.cancellation_stop()
        if order.status == OrderStatus.CANCELLED or stop is None:
            return
        if order.status == OrderStatus.NEEDS_ATTENTION:
            released = self.release_stock(order.order_id)
            if released.parcels_shipped == 0:
                self.cancel_order(order.order_id, type(stop).__name__)
            return
        for token in order.waiting_tokens():
            self.workflow.fail(token, type(stop).__name__, stop.message)
        if order.stock_token and not order.shipments:  # waiting for stock (WaitForStock): compensate now
            self.workflow.fail(order.stock_token, type(stop).__name__, stop.message)
