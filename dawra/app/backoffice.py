"""The back office: operators find orders and act on them, each action authorised by role, checked by the order's
transition table (an illegal one is refused with the reason) and written with its audit entry in one commit.

Every action carries the request's idempotency key. Its audit entry is keyed by it, so a retried request finds the
entry and does not act twice; what has to happen after the commit (answering the workflow, running compensation) is
derived again from the order's state, so a retry also finishes what an interrupted first attempt left undone.

Cancelling goes through the workflow's own compensation, never around it: the request is recorded on the order, the
shipments the workflow parked are failed with CancelledByOperator, and the state machine releases the stock, voids
the payment and tells the customer. An order already handed to a person (NEEDS_ATTENTION) has no workflow running:
the same compensation tasks run here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dawra.app.changes import Change, ChangeOrder, FinishCancellation, Outcome, audit_id_for
from dawra.app.checkout import Checkout
from dawra.app.common import load, now_iso
from dawra.app.compensate import CancelOrder, ReleaseStock
from dawra.app.risk import RiskInputs
from dawra.contracts.admin import AgentOrderRequest
from dawra.domain.access import Actor, Permission, authorize, authorize_refund
from dawra.domain.audit import AuditEntry, order_subject
from dawra.domain.customer import Address
from dawra.domain.errors import IllegalTransition
from dawra.domain.holds import Hold, HoldKind, policy
from dawra.domain.inventory import ReservationState, release
from dawra.domain.money import Money
from dawra.domain.notifications import NOTIFIED_KINDS
from dawra.domain.order import CASH_ON_DELIVERY, LEGACY_LINK_PAYMENT_REASON, Order, OrderEvent, OrderStatus
from dawra.domain.risk import Refusal
from dawra.domain.timeline import TimelineEvent
from dawra.ports import (
    AuditLog,
    Clock,
    InventoryRepository,
    OrderHistory,
    OrderPage,
    OrderQuery,
    OrderRepository,
    OrderSearch,
    PaymentLinks,
    PaymentProviders,
    RiskRecords,
    UnitOfWork,
    Workflow,
)

PAGE_LIMIT = 100
# Every action an operator takes on an order, as its audit entries name it (a test checks each one is audited).
ORDER_ACTIONS = ("place_order", "cancel", "cancel_line", "refund", "change_address", "resend_message", "add_note",
                 "hold", "release_hold", "reject_hold")


@dataclass(frozen=True)
class Placed:
    order: Order
    payment_link: str | None  # the URL to send the customer, for a payment-link order


class PlaceOrderForCustomer:
    """An agent places an order for a customer; the agent is recorded on the order and in the audit trail."""

    AWAITING_LINK_PAYMENT = LEGACY_LINK_PAYMENT_REASON  # the hold's reason, unless the agent gave one

    def __init__(self, checkout: Checkout, payments: PaymentProviders, links: PaymentLinks, clock: Clock):
        self.checkout, self.payments, self.links, self.clock = checkout, payments, links, clock

    def __call__(self, actor: Actor, key: str, request: AgentOrderRequest) -> Placed:
        authorize(actor, Permission.PLACE_ORDER)
        link: list[str] = []
        hold: Hold | None
        if request.payment == CASH_ON_DELIVERY:
            cod = self.payments.named(CASH_ON_DELIVERY)
            hold_reason = request.hold_reason
            hold = Hold(kind=HoldKind.OPERATOR, reason=hold_reason) if hold_reason else None

            def pay(total: Money, reference: str) -> tuple[str, str]:
                return cod.name, cod.authorize("cash", total, reference=reference)
        else:
            hold_reason = request.hold_reason or self.AWAITING_LINK_PAYMENT
            hold = Hold(kind=HoldKind.AWAITING_LINK_PAYMENT, reason=hold_reason)  # a manager confirms the payment

            def pay(total: Money, reference: str) -> tuple[str, str]:
                authorization_id, url = self.links.create_link(total, reference=reference)
                link.append(url)
                return self.links.name, authorization_id

        def audit(order: Order) -> AuditEntry:
            return AuditEntry(audit_id=audit_id_for(actor, key), subject=order_subject(order.order_id),
                              action="place_order", actor_id=actor.user_id, actor_name=actor.username,
                              roles=sorted(actor.roles), at=now_iso(self.clock), reason=hold_reason,
                              after={"status": order.status.value, "total": order.totals.total.amount,
                                     "payment": request.payment, **({"payment_link": link[0]} if link else {})})

        order = self.checkout.place(f"agent:{actor.user_id}:{key}", request, pay, placed_by=actor.user_id,
                                    hold=hold, audit=audit,
                                    risk=RiskInputs(cash_on_delivery=request.payment == CASH_ON_DELIVERY,
                                                    placed_by=actor.user_id),
                                    cash_on_delivery=request.payment == CASH_ON_DELIVERY)
        return Placed(order, link[0] if link else None)


class FindOrders:
    def __init__(self, search: OrderSearch):
        self.search = search

    def __call__(self, actor: Actor, query: OrderQuery, limit: int = 25, cursor: str | None = None) -> OrderPage:
        authorize(actor, Permission.VIEW_ORDERS)
        return self.search.search(query, max(1, min(limit, PAGE_LIMIT)), cursor)


@dataclass(frozen=True)
class OrderFile:
    order: Order
    timeline: list[TimelineEvent]
    audit: list[AuditEntry]  # oldest first; internal notes are the entries whose action is "add_note"


class ViewOrderFile:
    def __init__(self, orders: OrderRepository, audit: AuditLog):
        self.orders, self.audit = orders, audit

    def __call__(self, actor: Actor, order_id: str) -> OrderFile:
        authorize(actor, Permission.VIEW_ORDERS)
        order = load(self.orders, order_id)
        return OrderFile(order, self.orders.timeline(order_id), self.audit.for_subject(order_subject(order_id)))


class HeldOrders:
    """The orders waiting on one kind of hold, oldest first (the review queue: held for fraud review), with what
    held them. Read from the by-status index (ON_HOLD, oldest first), never a scan; at most `limit` held orders of
    every kind are looked at."""

    def __init__(self, history: OrderHistory):
        self.history = history

    def __call__(self, actor: Actor, kind: HoldKind, limit: int = PAGE_LIMIT) -> list[Order]:
        authorize(actor, Permission.VIEW_ORDERS)
        authorize(actor, policy(kind).decided_by)
        held, _ = self.history.orders_by_status(OrderStatus.ON_HOLD.value, None, max(1, min(limit, 500)))
        return [order for order in held if order.held_as == kind]


class CheckoutRefusals:
    """The checkouts the fraud screening refused on one day, newest first (who may review fraud may see them)."""

    def __init__(self, records: RiskRecords):
        self.records = records

    def __call__(self, actor: Actor, day: str) -> list[Refusal]:
        authorize(actor, Permission.REVIEW_RISK)
        return self.records.refusals(day)


class AuditTrail:
    def __init__(self, audit: AuditLog):
        self.audit = audit

    def by_actor(self, actor: Actor, actor_id: str, limit: int = 50,
                 cursor: str | None = None) -> tuple[list[AuditEntry], str | None]:
        if actor_id != actor.user_id:  # everyone may see their own actions; others' need the audit permission
            authorize(actor, Permission.VIEW_AUDIT)
        return self.audit.by_actor(actor_id, max(1, min(limit, PAGE_LIMIT)), cursor)


class OrderActions:
    """What an operator does to one order. Each method is one action, in the words an operator would use."""

    def __init__(self, orders: OrderRepository, inventory: InventoryRepository, uow: UnitOfWork, audit: AuditLog,
                 workflow: Workflow, payments: PaymentProviders, clock: Clock, release_stock: ReleaseStock,
                 cancel_order: CancelOrder):
        self.orders, self.inventory, self.uow, self.audit = orders, inventory, uow, audit
        self.workflow, self.payments, self.clock = workflow, payments, clock
        self.release_stock, self.cancel_order = release_stock, cancel_order
        self.change = ChangeOrder(orders, uow, audit, clock)
        self._finish_cancellation = FinishCancellation(workflow, release_stock, cancel_order)

    # --- the actions ----------------------------------------------------------------------------------------------
    def cancel(self, actor: Actor, order_id: str, key: str, reason: str) -> Outcome:
        """Cancel the whole order: nothing may have left; the workflow's compensation does the undoing."""
        authorize(actor, Permission.CANCEL)
        outcome = self._act(actor, order_id, key, "cancel", reason,
                            lambda order, ref: self._request_cancellation(order, reason, ref), {})
        self._finish_cancellation(outcome.order)
        return outcome

    def cancel_line(self, actor: Actor, order_id: str, key: str, sku: str, reason: str) -> Outcome:
        """Take one line out of an order that has not shipped it; its reserved units go back to stock."""
        authorize(actor, Permission.CANCEL)
        return self._act(actor, order_id, key, "cancel_line", reason,
                         lambda order, ref: self._cancel_line(order, sku, ref), {"sku": sku})

    def refund(self, actor: Actor, order_id: str, key: str, amount: int, reason: str) -> Outcome:
        """Give back part of what was captured, with a reason; never more than captured minus refunded."""
        authorize(actor, Permission.REFUND)
        outcome = self._act(actor, order_id, key, "refund", reason,
                            lambda order, ref: self._refund(actor, order, amount, ref), {"amount": amount})
        # Recorded first, then paid out: the provider's reference is the request's, so a replay of this request
        # (after a lost answer, or a provider that was briefly down) pays it out once.
        order = outcome.order
        self.payments.named(order.payment.provider).refund(
            order.payment.authorization_id, Money(amount=outcome.audit.after["refunded_now"], currency=order.currency),
            reference=f"{order_id}:refund:{outcome.audit.audit_id}")
        return outcome

    def change_address(self, actor: Actor, order_id: str, key: str, address: Address, reason: str) -> Outcome:
        """Send the parcel somewhere else, while no label exists yet."""
        authorize(actor, Permission.CHANGE_ADDRESS)
        return self._act(actor, order_id, key, "change_address", reason,
                         lambda order, ref: _just(lambda: order.change_address(address, self._now(), ref)),
                         {"address": address.model_dump(mode="json")})

    def resend_message(self, actor: Actor, order_id: str, key: str, event_id: str, reason: str) -> Outcome:
        """Send the customer a message they were sent before (the notifier sends it again, once)."""
        authorize(actor, Permission.RESEND_MESSAGE)
        return self._act(actor, order_id, key, "resend_message", reason,
                         lambda order, ref: self._resend(order, event_id, ref), {"event_id": event_id})

    def add_note(self, actor: Actor, order_id: str, key: str, note: str) -> Outcome:
        """An internal note on the order, for the next person who picks it up; the customer never sees it."""
        authorize(actor, Permission.ADD_NOTE)

        def decide(order: Order, ref: str) -> Change:
            order.note()
            return Change(detail={"note": note})

        return self._act(actor, order_id, key, "add_note", note, decide, {"note": note})

    def hold(self, actor: Actor, order_id: str, key: str, reason: str) -> Outcome:
        """Stop the order before it ships; its stock stays reserved until it is released or cancelled."""
        authorize(actor, Permission.HOLD)
        return self._act(actor, order_id, key, "hold", reason,
                         lambda order, ref: _just(lambda: order.hold(reason, self._now(), ref)), {})

    def release(self, actor: Actor, order_id: str, key: str, reason: str) -> Outcome:
        """Let a held order ship (approve it). Who may depends on the hold's kind (dawra.domain.holds): releasing an
        order held for its payment link says the payment arrived, a manager's word (so the agent who sent the link
        does not confirm their own); a fraud review is an agent's (REVIEW_RISK), a credit approval a manager's."""
        authorize(actor, Permission.HOLD)

        def decide(order: Order, ref: str) -> Change:
            kind = order.held_as
            if kind is not None:
                authorize(actor, policy(kind).decided_by)
            order.release_hold(self._now(), ref)
            return Change(detail={"hold_kind": kind.value} if kind else {})

        outcome = self._act(actor, order_id, key, "release_hold", reason, decide, {})
        if outcome.order.status != OrderStatus.ON_HOLD:
            for token in outcome.order.waiting_tokens():
                self.workflow.resume(token, {"released": True})
        return outcome

    def reject(self, actor: Actor, order_id: str, key: str, reason: str) -> Outcome:
        """Say no to a held order (a fraud review rejected, a credit approval refused): it is cancelled through the
        workflow's compensation (stock released, payment voided, the customer told), with the hold kind's reason
        (e.g. RejectedInReview) as the cancellation's. Who may depends on the kind, as for `release`."""
        authorize(actor, Permission.HOLD)

        def decide(order: Order, ref: str) -> Change:
            kind = order.held_as
            if kind is not None:
                authorize(actor, policy(kind).decided_by)
            order.reject_hold(reason, self._now(), ref)
            return Change(detail={"hold_kind": kind.value} if kind else {})

        outcome = self._act(actor, order_id, key, "reject_hold", reason, decide, {})
        self._finish_cancellation(outcome.order)
        return outcome

    # --- how every action is applied ------------------------------------------------------------------------------
    def _act(self, actor: Actor, order_id: str, key: str, action: str, reason: str | None,
             decide: Callable[[Order, str], Change], asked: dict[str, Any]) -> Outcome:
        return self.change(actor, order_id, key, action, reason, decide, asked)

    def _now(self) -> str:
        return now_iso(self.clock)

    def _request_cancellation(self, order: Order, reason: str, ref: str) -> Change:
        order.request_cancellation(reason, self._now(), ref)
        return Change()

    def _cancel_line(self, order: Order, sku: str, ref: str) -> Change:
        order.cancel_line(sku, self._now(), ref)
        held = [r for r in self.inventory.reservations(order.order_id)
                if r.sku == sku and r.state == ReservationState.HELD]
        return Change(stock=[release(r) for r in held], detail={"released_units": sum(r.quantity for r in held)})

    def _refund(self, actor: Actor, order: Order, amount: int, ref: str) -> Change:
        money = Money(amount=amount, currency=order.currency)
        authorize_refund(actor, money, already_refunded=order.payment.refunded)
        order.refund(money, self._now(), ref)  # refuses more than captured minus refunded
        return Change(detail={"refunded_now": amount})

    def _resend(self, order: Order, event_id: str, ref: str) -> Change:
        original = next((e for e in self.orders.timeline(order.order_id) if e.event_id == event_id), None)
        if original is None or original.kind not in NOTIFIED_KINDS:
            raise IllegalTransition(order.order_id, order.status.value, OrderEvent.RESEND_MESSAGE.value,
                                    "that event sent the customer no message")
        order.resend(original, self._now(), ref)
        return Change(detail={"event": original.kind.value})


def _just(change: Callable[[], object]) -> Change:
    """An action whose whole effect is on the order itself."""
    change()
    return Change()
