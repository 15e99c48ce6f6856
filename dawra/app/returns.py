"""Returns, as the customer, the agents, the warehouse and the return's workflow live them. Each use case reads as
what happens: the customer sees what they may return and what they would get, and asks; an agent approves or
declines (or nobody does, and the request expires); the carrier books a label (or the customer brings it to a
store); the parcel travels and arrives; the warehouse inspects it line by line (sellable units back on hand where it
arrived, damaged or tampered ones quarantined, wrong or missing items rejected); the money goes back; an unused label
expires.

The decisions are dawra.domain.returns'; here each step loads the order, decides, and commits the order, the
return, any stock and the timeline events in one unit of work. Each step is safe to repeat: a request is one return
per request key (the same key with another request is refused); an operator's action is one audit entry per key; a
workflow step that finds its work done answers as it did; a refund is recorded first, then paid out under the
return's own reference, so a retry pays it out once."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from dawra.app.changes import Change, ChangeOrder, Outcome
from dawra.app.common import load, now_iso, retry_on_race
from dawra.domain.access import Actor, Permission, authorize
from dawra.domain.customer import Address
from dawra.domain.errors import IdempotencyKeyReused
from dawra.domain.inventory import adjust
from dawra.domain.money import Money
from dawra.domain.order import Order
from dawra.domain.returns import (
    InspectionOutcome,
    RefundBreakdown,
    RefundMethod,
    Return,
    Returnable,
    ReturnEvent,
    ReturnMethod,
    ReturnPolicies,
    ReturnRefused,
    ReturnRequest,
    ReturnStatus,
    ReturnWait,
    decide,
    default_policies,
    inspect,
    issue_label,
    open_return,
    refund_methods,
    return_id_for,
    returnable,
    settle,
    step,
)
from dawra.domain.time import iso
from dawra.ports import (
    AuditLog,
    Clock,
    InventoryRepository,
    OrderRepository,
    PaymentProviders,
    ReturnBooking,
    UnitOfWork,
    Workflow,
)

ESTIMATE_ID = "ret_" + "0" * 20  # the return an estimate imagines (never stored)


class ReturnCarrier(Protocol):
    """What returns need of a carrier (dawra.ports.Carrier has it)."""

    def book_return(self, return_id: str, from_address: Address, to_location_id: str,
                    weight_g: int) -> ReturnBooking: ...


def _find(order: Order, return_id: str) -> Return:
    try:
        return order.return_of(return_id)
    except KeyError:
        raise ReturnRefused(f"order {order.order_id}", order.status.value, "return",
                            f"it has no return {return_id}") from None


def request_fingerprint(request: ReturnRequest) -> str:
    canonical = json.dumps({"lines": [list(line) for line in request.lines], "method": request.method.value,
                            "refund_method": request.refund_method.value, "location_id": request.location_id,
                            "bank_account": request.bank_account}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


# --- the customer ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReturnChoices:
    """What the order page offers: per line, how many units may go back now (or why none), and how the customer may
    be paid back for the lines that can."""

    lines: list[Returnable]
    refund_methods: tuple[RefundMethod, ...]
    return_methods: tuple[ReturnMethod, ...] = tuple(ReturnMethod)


class ReturnableLines:
    def __init__(self, orders: OrderRepository, clock: Clock, policies: ReturnPolicies | None = None):
        self.orders, self.clock, self.policies = orders, clock, policies or default_policies()

    def __call__(self, order_id: str) -> ReturnChoices:
        order = load(self.orders, order_id)
        lines = returnable(order, self.policies, self.clock.now().date())
        open_ = [line.policy for line in lines if line.quantity]
        methods = tuple(m for m in refund_methods(order, open_) if m != RefundMethod.EXCHANGE) if open_ else ()
        return ReturnChoices(lines, methods)


class EstimateReturn:
    """What the customer would get back, before they confirm: the request checked exactly as it would be."""

    def __init__(self, orders: OrderRepository, clock: Clock, policies: ReturnPolicies | None = None):
        self.orders, self.clock, self.policies = orders, clock, policies or default_policies()

    def __call__(self, order_id: str, request: ReturnRequest) -> RefundBreakdown:
        order = load(self.orders, order_id)  # a copy of our own: nothing of it is committed
        imagined = open_return(order, self.policies, request, return_id=ESTIMATE_ID, today=self.clock.now().date(),
                               at=now_iso(self.clock), fingerprint="estimate")
        return imagined.estimate


class RequestReturn:
    """The customer asks to send items back. One request key is one return: asked again, the same return."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, clock: Clock,
                 policies: ReturnPolicies | None = None):
        self.orders, self.uow, self.clock = orders, uow, clock
        self.policies = policies or default_policies()

    def __call__(self, order_id: str, request_key: str, request: ReturnRequest) -> Return:
        return_id, print_ = return_id_for(order_id, request_key), request_fingerprint(request)

        def attempt() -> Return:
            order = load(self.orders, order_id)
            earlier = next((r for r in order.returns if r.return_id == return_id), None)
            if earlier is not None:
                if earlier.fingerprint != print_:
                    raise IdempotencyKeyReused("this request key was used for another return")
                return earlier
            ret = open_return(order, self.policies, request, return_id=return_id, today=self.clock.now().date(),
                              at=now_iso(self.clock), fingerprint=print_)
            self.uow.commit(order=order)
            return ret

        return retry_on_race(attempt, f"a return of {order_id}")


# --- an agent ---------------------------------------------------------------------------------------------------------
class DecideReturn:
    """An agent approves or declines a request the policy sends to a person; the workflow waiting on it goes on."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, audit: AuditLog, workflow: Workflow, clock: Clock):
        self.change, self.workflow, self.clock = ChangeOrder(orders, uow, audit, clock), workflow, clock

    def approve(self, actor: Actor, order_id: str, return_id: str, key: str) -> Outcome:
        return self._decide(actor, order_id, return_id, key, approve=True, why=None)

    def decline(self, actor: Actor, order_id: str, return_id: str, key: str, why: str) -> Outcome:
        return self._decide(actor, order_id, return_id, key, approve=False, why=why)

    def _decide(self, actor: Actor, order_id: str, return_id: str, key: str, *, approve: bool,
                why: str | None) -> Outcome:
        authorize(actor, Permission.REFUND)

        def decision(order: Order, ref: str) -> Change:
            ret = decide(order, _find(order, return_id).return_id, approve=approve, by=actor.user_id,
                         at=now_iso(self.clock), why=why)
            return Change(detail={"return_id": return_id, "return_status": ret.status.value})

        action = "approve_return" if approve else "decline_return"
        outcome = self.change(actor, order_id, key, action, why, decision, {"return_id": return_id})
        _resume(self.workflow, outcome.order.return_of(return_id), {"approved": approve}, wait="approval")
        return outcome


def _resume(workflow: Workflow, ret: Return, output: dict[str, object], *, wait: ReturnWait) -> None:
    """Hand the news to the return's workflow if the token kept on the return is the one of `wait` (a task no longer
    waiting refuses it harmlessly): once the workflow has gone on, the token kept is a later wait's, which a replayed
    action must not end. A replay while the wait is still parked (the first resume was lost) ends it."""
    if ret.resume_token and ret.resume_for == wait:
        workflow.resume(ret.resume_token, {"return_id": ret.return_id, "status": ret.status.value, **output})


# --- the return's workflow ------------------------------------------------------------------------------------------
class _Step:
    def __init__(self, orders: OrderRepository, uow: UnitOfWork, clock: Clock):
        self.orders, self.uow, self.clock = orders, uow, clock

    def _move(self, order_id: str, return_id: str, event: ReturnEvent) -> ReturnStatus:
        """Move the return by `event`, once: one it no longer allows (done, or decided otherwise) changes nothing."""

        def attempt() -> ReturnStatus:
            order = load(self.orders, order_id)
            ret = _find(order, return_id)
            if not ret.can(event):
                return ret.status
            step(order, return_id, event, now_iso(self.clock))
            ret.resume_token = ret.resume_for = None
            self.uow.commit(order=order)
            return ret.status

        return retry_on_race(attempt, f"{event.value} of {return_id}")


class WaitForReturn(_Step):
    """The workflow parks on a return (approval, the parcel, the inspection): its token is kept on the return."""

    def __call__(self, order_id: str, return_id: str, token: str,
                 waiting_for: ReturnWait) -> ReturnStatus:
        def attempt() -> ReturnStatus:
            order = load(self.orders, order_id)
            ret = _find(order, return_id)
            ret.resume_token, ret.resume_for = token, waiting_for
            order.touch_return(return_id)
            self.uow.commit(order=order)
            return ret.status

        return retry_on_race(attempt, f"waiting on {return_id}")


class ExpireReturnRequest(_Step):
    """Nobody approved the request in time: it expires (and the customer is told). Decided meanwhile: as decided."""

    def __call__(self, order_id: str, return_id: str) -> ReturnStatus:
        return self._move(order_id, return_id, ReturnEvent.EXPIRE)


class IssueReturnLabel(_Step):
    """Once approved: a label (or a courier pickup) booked with the carrier, or, for a store drop-off, the store
    told and a date to bring it by (`drop_off_within`, as long as a label is valid). Booking the same return again
    returns the same booking, so a retry books once."""

    def __init__(self, orders: OrderRepository, inventory: InventoryRepository, uow: UnitOfWork,
                 carrier: ReturnCarrier, clock: Clock, drop_off_within: timedelta = timedelta(days=14)):
        super().__init__(orders, uow, clock)
        self.inventory, self.carrier, self.drop_off_within = inventory, carrier, drop_off_within

    def __call__(self, order_id: str, return_id: str) -> Return:
        return retry_on_race(lambda: self._attempt(order_id, return_id), f"a label for {return_id}")

    def _attempt(self, order_id: str, return_id: str) -> Return:
        order = load(self.orders, order_id)
        ret = _find(order, return_id)
        if ret.status in (ReturnStatus.LABEL_ISSUED, ReturnStatus.AWAITING_DROP_OFF):
            return ret  # done before
        at = now_iso(self.clock)
        if ret.method == ReturnMethod.STORE:
            if ret.can(ReturnEvent.AWAIT_DROP_OFF):
                ret.label_expires_at = iso(self.clock.now() + self.drop_off_within)
            step(order, return_id, ReturnEvent.AWAIT_DROP_OFF, at,
                 {"location_id": ret.location_id, "expires_at": ret.label_expires_at or ""})
        else:
            if not ret.can(ReturnEvent.ISSUE_LABEL):
                raise ReturnRefused(f"return {return_id}", ret.status.value, ReturnEvent.ISSUE_LABEL.value)
            catalog = self.inventory.catalog([line.sku for line in ret.lines])
            weight = sum(catalog[line.sku].weight_g * line.quantity for line in ret.lines if line.sku in catalog)
            booking = self.carrier.book_return(return_id, order.shipping_address, ret.location_id, weight)
            issue_label(order, return_id, carrier=booking.carrier, tracking_number=booking.tracking_number,
                        expires_at=booking.expires_at, at=at)
        self.uow.commit(order=order)
        return ret


class ExpireReturnLabel(_Step):
    """The label's validity ended and the parcel never moved, or a store drop-off was not brought by its date: the
    return ends (and the customer is told). A parcel already on its way, or back, is not touched; asked too early,
    nothing happens."""

    def __call__(self, order_id: str, return_id: str) -> ReturnStatus:
        order = load(self.orders, order_id)
        ret = _find(order, return_id)
        if ret.label_expires_at and now_iso(self.clock) < ret.label_expires_at:
            return ret.status
        return self._move(order_id, return_id, ReturnEvent.EXPIRE_LABEL)


class ReturnOnItsWay(_Step):
    """The carrier scanned the return parcel (the tracking consumer finds the return by its tracking number)."""

    def __call__(self, order_id: str, return_id: str) -> ReturnStatus:
        return self._move(order_id, return_id, ReturnEvent.IN_TRANSIT)


class ReceiveReturn(_Step):
    """The parcel arrived at its location (the carrier delivered it, or the customer brought it to the store); the
    workflow waiting for it goes on to wait for the inspection. Received before: nothing changes."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, workflow: Workflow, clock: Clock):
        super().__init__(orders, uow, clock)
        self.workflow = workflow

    def __call__(self, order_id: str, return_id: str) -> Return:
        def attempt() -> Return:
            order = load(self.orders, order_id)
            ret = _find(order, return_id)
            if ret.can(ReturnEvent.RECEIVE):
                at = now_iso(self.clock)
                ret.received_at = at
                step(order, return_id, ReturnEvent.RECEIVE, at, {"location_id": ret.location_id})
                self.uow.commit(order=order)
            elif ret.received_at is None:
                raise ReturnRefused(f"return {return_id}", ret.status.value, ReturnEvent.RECEIVE.value)
            return ret

        ret = retry_on_race(attempt, f"receiving {return_id}")
        _resume(self.workflow, ret, {"received": True}, wait="parcel")  # received before: again, if still parked
        return ret


# --- the warehouse --------------------------------------------------------------------------------------------------
class InspectReturn:
    """A warehouse person's verdict per line: sellable units go back on hand at the location the return came to, in
    the same commit; damaged or tampered ones are quarantined with a note; wrong or missing items are rejected."""

    def __init__(self, orders: OrderRepository, inventory: InventoryRepository, uow: UnitOfWork, audit: AuditLog,
                 workflow: Workflow, clock: Clock):
        self.inventory, self.workflow, self.clock = inventory, workflow, clock
        self.change = ChangeOrder(orders, uow, audit, clock)

    def __call__(self, actor: Actor, order_id: str, return_id: str, key: str,
                 outcomes: Mapping[str, tuple[InspectionOutcome, str | None]]) -> Outcome:
        authorize(actor, Permission.ADJUST_STOCK)

        def decision(order: Order, ref: str) -> Change:
            location = _find(order, return_id).location_id
            restock = inspect(order, return_id, outcomes, now_iso(self.clock))
            changes = [adjust(self.inventory.stock(sku, location), sku, location, units)
                       for sku, units in sorted(restock.items())]
            return Change(stock=list(changes), detail={"return_id": return_id, "restocked": dict(restock),
                                                       "location_id": location})

        asked = {"return_id": return_id, "outcomes": {sku: [o.value, n] for sku, (o, n) in sorted(outcomes.items())}}
        outcome = self.change(actor, order_id, key, "inspect_return", None, decision, asked)
        _resume(self.workflow, outcome.order.return_of(return_id), {"inspected": True}, wait="inspection")
        return outcome


# --- the money ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Refunded:
    status: ReturnStatus  # refunded, or rejected (nothing to give back)
    amount: Money  # given back: paid out, or given as store credit
    method: RefundMethod


class RefundReturn(_Step):
    """After inspection: the settlement computed and given back (through the payment provider, or as store credit),
    never more than the order can still give back. Recorded first, then paid out under the return's own reference:
    a retry finds it recorded and pays it out again, which the provider applies once."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, payments: PaymentProviders, clock: Clock,
                 policies: ReturnPolicies | None = None):
        super().__init__(orders, uow, clock)
        self.payments, self.policies = payments, policies or default_policies()

    def __call__(self, order_id: str, return_id: str) -> Refunded:
        order = retry_on_race(lambda: self._attempt(order_id, return_id), f"refunding {return_id}")
        ret = order.return_of(return_id)
        given = ret.refunded or Money.zero(order.currency)
        if ret.refund_method != RefundMethod.STORE_CREDIT and given.amount:
            self.payments.named(order.payment.provider).refund(order.payment.authorization_id, given,
                                                               reference=f"{return_id}:refund")
        return Refunded(ret.status, given, ret.refund_method)

    def _attempt(self, order_id: str, return_id: str) -> Order:
        order = load(self.orders, order_id)
        ret = _find(order, return_id)
        if ret.status in (ReturnStatus.REFUNDED, ReturnStatus.CLOSED, ReturnStatus.REJECTED):
            return order  # settled before
        settle(order, self.policies, return_id, now_iso(self.clock))
        self.uow.commit(order=order)
        return order


class CloseReturn(_Step):
    """Refunded and nothing left to do: the return is closed."""

    def __call__(self, order_id: str, return_id: str) -> ReturnStatus:
        return self._move(order_id, return_id, ReturnEvent.CLOSE)
