"""The order aggregate: its statuses, the one table of which event may follow which status, and the rules that
keep its money and shipments consistent.

`Order.apply(event)` is the only place an order's status changes, and it consults only `TRANSITIONS`. Each business
method (reserve, ship, complete, cancel, ask_a_person) checks its own guards, applies its event and appends the
timeline events the customer or an operator will see; a unit of work then commits the whole change at once.
"""

from __future__ import annotations

import enum
import hashlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from dawra.domain.accounts import AccountPayment, AccountTerms, Receivable
from dawra.domain.allocation import Location, Pick
from dawra.domain.availability import AwaitedStock
from dawra.domain.cod import CodRemittance, confirmation_code
from dawra.domain.customer import Address, Contact
from dawra.domain.errors import (
    HOLD_STOPS,
    CancellationRequested,
    CancelledByCustomer,
    CancelledByOperator,
    IllegalTransition,
    NotCollected,
    PaymentInvariantBroken,
    PickupLocked,
)
from dawra.domain.feedback import Feedback
from dawra.domain.gift import Gift
from dawra.domain.holds import Hold, HoldKind, HoldReason, OnTimeout, policy
from dawra.domain.invoicing import credit_note_for_amount, invoice_for_shipment
from dawra.domain.money import Money, split_amount
from dawra.domain.payment_events import PaymentEvent
from dawra.domain.pickup import Durations, PickupState
from dawra.domain.preparation import preparation_for, work_task_id
from dawra.domain.returns import Return
from dawra.domain.shipment import (
    REPORTED,
    Settlement,
    Shipment,
    ShipmentEvent,
    ShipmentLine,
    ShipmentStatus,
    WorkTask,
)
from dawra.domain.tax_documents import DocumentRef, TaxDocument
from dawra.domain.time import iso
from dawra.domain.timeline import TimelineEvent, TimelineKind, timeline_event_id
from dawra.domain.tracking import TrackingEvent, TrackingStatus


class OrderStatus(enum.StrEnum):
    CONFIRMED = "CONFIRMED"  # placed and paid (authorised)
    ALLOCATED = "ALLOCATED"  # stock reserved, one shipment per location
    SHIPPED = "SHIPPED"  # at least one shipment handed to a carrier
    ON_HOLD = "ON_HOLD"  # stock reserved, but nothing ships until a person releases it
    NEEDS_ATTENTION = "NEEDS_ATTENTION"  # the automation stopped; a person decides what happens next
    COMPLETED = "COMPLETED"  # every shipment delivered
    CANCELLED = "CANCELLED"  # nothing shipped; stock released, payment voided


class OrderEvent(enum.StrEnum):
    RESERVE_STOCK = "reserve_stock"
    AWAIT_STOCK = "await_stock"  # a backordered or preordered order waits for its stock (its delays told)
    SHIP = "ship"
    COMPLETE = "complete"
    CANCEL = "cancel"
    ASK_A_PERSON = "ask_a_person"
    HOLD = "hold"
    RELEASE_HOLD = "release_hold"
    # What an operator or the customer may do without moving the order to another status.
    REQUEST_CANCEL = "request_cancel"
    CANCEL_LINE = "cancel_line"
    CHANGE_ADDRESS = "change_address"
    REFUND = "refund"
    ADD_NOTE = "add_note"
    RESEND_MESSAGE = "resend_message"
    CANCEL_SHIPMENTS = "cancel_shipments"  # the customer: the parcels of a split order that have not left
    CHANGE_CONTACT = "change_contact"  # the customer: how (email, SMS, both) and in which language to hear from us
    ASK_FOR_FEEDBACK = "ask_for_feedback"
    GIVE_FEEDBACK = "give_feedback"
    RESHIP = "reship"  # a lost or returned parcel's lines are sent again, as a new shipment of the same order
    REQUEST_RETURN = "request_return"  # the customer asks to send delivered items back (dawra.domain.returns)
    RETURN_STEP = "return_step"  # a return moves on (approved, label, received, inspected, refunded, ...)
    # An exchange's replacement (another size or variant): held, sent, or let go while its return still needs it.
    # A shipment of the return, not of the order's lifecycle: the order's status stays as it is (often COMPLETED).
    SEND_REPLACEMENT = "send_replacement"
    RECORD_PAYMENT = "record_payment"  # a business customer paid (part of) an invoiced order on account
    # The payment provider: an authorisation renewed before (or after) it lapsed, or one that could not be; and the
    # provider's own later reports (a capture or refund settled or failed, a dispute, a payment link paid).
    RENEW_AUTHORIZATION = "renew_authorization"
    PAYMENT_EVENT = "payment_event"


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[OrderStatus]
    to: OrderStatus | None  # None: the event is allowed in those statuses and leaves the status as it is


S = OrderStatus
_EVERY = frozenset(OrderStatus)
_NOT_SHIPPED = frozenset({S.CONFIRMED, S.ALLOCATED, S.ON_HOLD})
_DELIVERABLE = frozenset({S.SHIPPED, S.COMPLETED, S.NEEDS_ATTENTION})  # something may have reached the customer
# The lifecycle in one screen: event -> the statuses it may happen in -> the status it leads to (None: stays).
TRANSITIONS: dict[OrderEvent, Transition] = {
    OrderEvent.RESERVE_STOCK: Transition(frozenset({S.CONFIRMED}), S.ALLOCATED),
    # Backorders and preorders: waiting for stock before it is reserved, its delays told (status stays CONFIRMED).
    OrderEvent.AWAIT_STOCK: Transition(frozenset({S.CONFIRMED}), None),
    OrderEvent.HOLD: Transition(frozenset({S.ALLOCATED}), S.ON_HOLD),
    OrderEvent.RELEASE_HOLD: Transition(frozenset({S.ON_HOLD}), S.ALLOCATED),
    OrderEvent.SHIP: Transition(frozenset({S.ALLOCATED, S.SHIPPED}), S.SHIPPED),
    OrderEvent.COMPLETE: Transition(frozenset({S.SHIPPED, S.NEEDS_ATTENTION}), S.COMPLETED),
    OrderEvent.CANCEL: Transition(frozenset({S.CONFIRMED, S.ALLOCATED, S.ON_HOLD, S.NEEDS_ATTENTION}), S.CANCELLED),
    OrderEvent.ASK_A_PERSON: Transition(frozenset({S.CONFIRMED, S.ALLOCATED, S.ON_HOLD, S.SHIPPED}),
                                        S.NEEDS_ATTENTION),
    OrderEvent.REQUEST_CANCEL: Transition(_NOT_SHIPPED | {S.NEEDS_ATTENTION}, None),
    OrderEvent.CANCEL_LINE: Transition(frozenset({S.ALLOCATED, S.ON_HOLD}), None),
    OrderEvent.CHANGE_ADDRESS: Transition(_NOT_SHIPPED, None),
    OrderEvent.REFUND: Transition(frozenset({S.SHIPPED, S.NEEDS_ATTENTION, S.COMPLETED}), None),
    OrderEvent.ADD_NOTE: Transition(_EVERY, None),
    OrderEvent.RESEND_MESSAGE: Transition(_EVERY, None),
    OrderEvent.CANCEL_SHIPMENTS: Transition(frozenset({S.ALLOCATED, S.ON_HOLD, S.SHIPPED}), None),
    OrderEvent.CHANGE_CONTACT: Transition(_EVERY - {S.CANCELLED}, None),
    OrderEvent.ASK_FOR_FEEDBACK: Transition(frozenset({S.COMPLETED}), None),
    OrderEvent.GIVE_FEEDBACK: Transition(frozenset({S.COMPLETED}), None),
    OrderEvent.RESHIP: Transition(frozenset({S.SHIPPED}), None),
    OrderEvent.REQUEST_RETURN: Transition(_DELIVERABLE, None),
    OrderEvent.RETURN_STEP: Transition(_DELIVERABLE, None),
    OrderEvent.SEND_REPLACEMENT: Transition(_DELIVERABLE, None),
    OrderEvent.RECORD_PAYMENT: Transition(_DELIVERABLE, None),  # invoiced once a parcel shipped
    # While something is left to capture (a parcel yet to leave), whatever holds it up.
    OrderEvent.RENEW_AUTHORIZATION: Transition(_NOT_SHIPPED | {S.SHIPPED, S.NEEDS_ATTENTION}, None),
    OrderEvent.PAYMENT_EVENT: Transition(_EVERY, None),  # money moves after the order ends too (refunds, disputes)
}
INITIAL = OrderStatus.CONFIRMED
DEFAULT_ZONE = "default"  # where shipping costs what pricing's shipping_by_method says
TERMINAL: frozenset[OrderStatus] = frozenset(
    status for status in OrderStatus
    if not any(status in t.allowed_from and t.to not in (None, status) for t in TRANSITIONS.values()))


class OrderLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    sku: str
    title: str
    quantity: int = Field(ge=1)
    unit_price: Money
    line_total: Money  # unit_price * quantity, before tax
    tax: Money
    titles: dict[str, str] = Field(default_factory=dict)  # the title in other languages, as the catalog said
    # The return policy it was sold under ("policy@version", dawra.domain.returns); None: sold before policies.
    return_policy: str | None = None
    work: str | None = None  # work the warehouse does before it is packed (engraving, assembly), as the catalog said

    def title_in(self, language: str) -> str:
        """What the customer reads in their language: the catalog's translation, else its title."""
        return self.titles.get(language, self.title)


class Totals(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    subtotal: Money
    shipping: Money
    tax: Money
    total: Money
    gift_wrap: Money | None = None  # a gift order's wrap fee before tax (its tax is in tax); None: not wrapped
    cod_fee: Money | None = None  # cash on delivery's fee before tax (its tax is in tax); None: not paid at the door


# An order held because its card authorisation lapsed and could not be renewed (an operator's kind of hold: an agent
# asks the customer to pay again, or cancels; if nobody decides in time, a person is asked).
AUTHORIZATION_LAPSED = "payment authorisation lapsed"
CASH_ON_DELIVERY = "cash_on_delivery"  # the provider of orders paid in cash at the door: nothing is charged up front


class PaymentState(BaseModel):
    """What the payment provider was asked to do. Invariant: 0 <= refunded <= captured <= authorised."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    provider: str
    authorization_id: str
    authorized: Money
    captured: Money
    refunded: Money
    voided: bool = False
    # When the card authorisation lapses (UTC ISO-8601), from the provider's documented validity; None: never.
    expires_at: str | None = None
    # The authorisations this one replaced, oldest first (each released by the provider when it was renewed).
    earlier_authorizations: tuple[str, ...] = ()

    def renewed(self, authorization_id: str, expires_at: str | None) -> PaymentState:
        return self.model_copy(update={"authorization_id": authorization_id, "expires_at": expires_at,
                                       "earlier_authorizations": (*self.earlier_authorizations,
                                                                  self.authorization_id)})

    @property
    def left_to_capture(self) -> Money:
        return self.authorized - self.captured

    def capture(self, amount: Money) -> PaymentState:
        if self.voided or (self.captured + amount).amount > self.authorized.amount:
            raise PaymentInvariantBroken(f"cannot capture {amount.amount}: authorised {self.authorized.amount}, "
                                         f"captured {self.captured.amount}, voided {self.voided}")
        return self.model_copy(update={"captured": self.captured + amount})

    def settle_for_cancellation(self) -> tuple[PaymentState, Money]:
        """Refund everything captured and not yet refunded, void the rest. Returns the new state and the refund."""
        refund = self.captured - self.refunded
        return self.model_copy(update={"refunded": self.captured, "voided": True}), refund

    def give_back(self, amount: Money) -> tuple[PaymentState, GivenBack]:
        """The order now asks `amount` less of the customer: release that much of the authorisation nothing was
        captured against (a partial void), and refund from the captures only what is left over (nothing, before a
        parcel has shipped). Returns the new state and what was voided and refunded."""
        uncaptured = self.authorized - self.captured
        voided = Money(amount=min(amount.amount, uncaptured.amount), currency=amount.currency)
        refunded = amount - voided
        if self.voided or refunded.amount > (self.captured - self.refunded).amount:
            raise PaymentInvariantBroken(f"cannot give back {amount.amount}: authorised {self.authorized.amount}, "
                                         f"captured {self.captured.amount}, refunded {self.refunded.amount}")
        state = self.model_copy(update={"authorized": self.authorized - voided, "refunded": self.refunded + refunded})
        return state, GivenBack(voided=voided, refunded=refunded)


@dataclass(frozen=True)
class GivenBack:
    """What an order stopped asking of the customer: authorisation released before any capture, captures paid back."""

    voided: Money
    refunded: Money

    @property
    def total(self) -> Money:
        return self.voided + self.refunded


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, defer_build=True)

    order_id: str
    customer_id: str
    status: OrderStatus
    placed_at: str
    promised_by: str  # UTC date (YYYY-MM-DD) the customer was promised delivery by
    contact: Contact
    shipping_address: Address
    shipping_method: str
    lines: list[OrderLine]
    totals: Totals
    payment: PaymentState
    cancellation_reason: str | None = None
    attention_reason: str | None = None
    placed_by: str | None = None  # the agent who placed it for the customer (their user id), if one did
    cancellation_requested: str | None = None  # why an operator asked for it; the workflow then cancels it
    cancellation_requested_by: Literal["operator", "customer"] | None = None  # None: asked by an operator
    shipping_zone: str = DEFAULT_ZONE  # the zone of the address its shipping was charged for (pricing.py)
    hold_reason: str | None = None
    held_at: str | None = None
    hold_kind: HoldKind | None = None  # what kind of hold it is on (dawra.domain.holds); None: not held
    hold_reasons: list[HoldReason] | None = None  # why, as codes and words (a risk rule's, ...); None: none given
    pending_hold: Hold | None = None  # placed to be held once its stock is reserved
    # A cancellation a hold asked for (rejected or timed out): the reason it is cancelled with (dawra.domain.holds).
    cancellation_as: str | None = None
    cancelled_lines: list[OrderLine] = Field(default_factory=list)
    shipments: list[Shipment] = Field(default_factory=list)
    returns: list[Return] = Field(default_factory=list)  # children like shipments (dawra.domain.returns)
    # The customer's order links carry this; revoking them bumps it, so every older link stops working.
    link_version: int = Field(default=0, ge=0, le=0xFFFF)
    feedback_asked_at: str | None = None  # when the customer was asked how it went (once)
    feedback_at: str | None = None  # when they answered (once; the answer is on its timeline event)
    cod_confirmed_at: str | None = None  # cash on delivery: when the customer confirmed it before it shipped
    # Its tax invoices and credit notes, numbered (each is an item of its own: dawra/domain/tax_documents.py).
    documents: list[DocumentRef] = Field(default_factory=list)
    gift: Gift | None = None  # a gift: wrap, the message for the recipient, their name (dawra.domain.gift)
    account: AccountTerms | None = None  # placed on a business account's terms (dawra.domain.accounts)
    # Waiting for stock before it can be reserved (a backorder, a preorder: dawra.domain.availability); None: not.
    awaiting: AwaitedStock | None = None
    stock_token: str | None = None  # the token its workflow waits on for that stock (WaitForStock)
    # Store pickup (dawra.domain.pickup): the store the customer collects it at (shipping method "pickup"); None:
    # delivered to the shipping address.
    pickup_location: str | None = None
    version: int = 0  # 0: never stored; the unit of work commits only over the version it loaded

    _new_events: list[TimelineEvent] = PrivateAttr(default_factory=list)
    _changed_shipments: set[str] = PrivateAttr(default_factory=set)
    _changed_returns: set[str] = PrivateAttr(default_factory=set)
    _header_changed: bool = PrivateAttr(default=False)
    _contact_changed: bool = PrivateAttr(default=False)
    _drafts: list[TaxDocument] = PrivateAttr(default_factory=list)  # issued in this change, numbered at commit
    _owed_stored: int = PrivateAttr(default=0)  # what it owed on account as stored (its account's balance has it)
    _credit_ceiling: int | None = PrivateAttr(default=None)  # checkout's: the balance it may still be added to

    def model_post_init(self, context: object, /) -> None:
        self._owed_stored = self.owed_on_account if self.version else 0

    @model_validator(mode="before")
    @classmethod
    def _stored_before_hold_kinds(cls, data: object) -> object:
        """An order stored before hold kinds said only its hold's reason (`hold_on_allocation`)."""
        if isinstance(data, dict) and "hold_on_allocation" in data:
            data = dict(data)
            reason = data.pop("hold_on_allocation")
            if reason and not data.get("pending_hold"):
                data["pending_hold"] = {"kind": _legacy_kind(reason), "reason": reason}
        return data

    # --- the one way a status changes -----------------------------------------------------------------------------
    def apply(self, event: OrderEvent) -> None:
        transition = TRANSITIONS[event]
        if self.status not in transition.allowed_from:
            raise IllegalTransition(self.order_id, self.status.value, event.value)
        if transition.to is not None:
            self.status = transition.to
        self._header_changed = True

    def can(self, event: OrderEvent) -> bool:
        return self.status in TRANSITIONS[event].allowed_from

    # --- what the unit of work commits ----------------------------------------------------------------------------
    @property
    def new_events(self) -> list[TimelineEvent]:
        return list(self._new_events)

    @property
    def header_changed(self) -> bool:
        return self._header_changed or self.version == 0

    @property
    def contact_changed(self) -> bool:
        """The customer's contact changed in this change (what the order is looked up by must follow it)."""
        return self._contact_changed

    @property
    def changed_shipments(self) -> list[Shipment]:
        return [s for s in self.shipments if s.shipment_id in self._changed_shipments]

    @property
    def changed_returns(self) -> list[Return]:
        return [r for r in self.returns if r.return_id in self._changed_returns]

    def mark_committed(self) -> None:
        """Called by the unit of work once the change is stored: versions advance, pending changes are cleared."""
        if self.header_changed:
            self.version += 1
        for shipment in self.changed_shipments:
            shipment.version += 1
        for ret in self.changed_returns:
            ret.version += 1
        self._new_events.clear()
        self._changed_shipments.clear()
        self._changed_returns.clear()
        self._header_changed = self._contact_changed = False
        self._drafts.clear()
        # What it owes on account is now what its account's balance holds, and checkout's limit is spent: a second
        # commit of the same object moves the balance by its own change only.
        self._owed_stored, self._credit_ceiling = self.owed_on_account, None

    # --- tax documents: drafted here, numbered by the unit of work in the commit that moves the money -------------
    def issue(self, document: TaxDocument | None) -> None:
        """An invoice or credit note for money this change moves (None: nothing to document)."""
        if document is not None:
            self._drafts = [d for d in self._drafts if d.key != document.key] + [document]
            self._header_changed = True

    @property
    def new_documents(self) -> list[TaxDocument]:
        return list(self._drafts)

    def number_documents(self, last: Mapping[str, int]) -> dict[str, tuple[int, int]]:
        """Number this change's documents after `last` (series -> the last number used, 0 for none), in the order
        they were issued; the order lists them. Numbering again (a counter moved meanwhile) replaces the numbers.
        Returns each series' (last, new last): the counters the commit moves, over the values it read."""
        stale = {d.number for d in self._drafts if d.number}
        self.documents = [ref for ref in self.documents if ref.number not in stale]
        counters = {series: (last.get(series, 0), last.get(series, 0)) for series in {d.series for d in self._drafts}}
        numbered = []
        for draft in self._drafts:
            was, now = counters[draft.series]
            counters[draft.series] = (was, now + 1)
            numbered.append(draft.numbered(now + 1))
        self._drafts = numbered
        self.documents = [*self.documents, *(d.ref() for d in numbered)]
        return counters

    def invoice_of(self, shipment_id: str) -> DocumentRef | None:
        return next((ref for ref in self.documents if shipment_id in ref.shipment_ids
                     and ref.kind == "invoice"), None)

    # --- on a business account (dawra.domain.accounts) -----------------------------------------------------------
    @property
    def owed_on_account(self) -> int:
        """What an order on account still asks of its customer: what it costs now (once cancelled: what shipped),
        less refunds and payments. 0 for any other order."""
        if self.account is None:
            return 0
        costs = self.payment.captured.amount if self.payment.voided else self.totals.total.amount
        return max(0, costs - self.payment.refunded.amount - self.account.paid)

    @property
    def account_change(self) -> int:
        """How much this change moves its account's open balance (the unit of work adds it in the same commit)."""
        return self.owed_on_account - self._owed_stored

    @property
    def credit_ceiling(self) -> int | None:
        """Placed within the credit limit: the highest open balance it may be added to (None: no condition)."""
        return self._credit_ceiling

    def within_credit(self, ceiling: int) -> None:
        """Checkout decided it fits the limit: its commit adds it only while the balance is at most `ceiling`."""
        self._credit_ceiling = ceiling

    def receivable(self) -> Receivable | None:
        """Invoiced on account and not paid in full: what the overdue list reads."""
        account = self.account
        if account is None or account.due_on is None or account.invoiced_on is None or not self.owed_on_account:
            return None
        return Receivable(customer_id=self.customer_id, order_id=self.order_id, company_name=account.company_name,
                          po_number=account.po_number, invoiced_on=account.invoiced_on, due_on=account.due_on,
                          outstanding=self.owed_on_account, currency=self.currency)

    def record_account_payment(self, payment: AccountPayment) -> None:
        """A payment received against the order's invoice: never more than it still owes."""
        self.apply(OrderEvent.RECORD_PAYMENT)

        def refused(why: str) -> IllegalTransition:
            return IllegalTransition(self.order_id, self.status.value, OrderEvent.RECORD_PAYMENT.value, why)

        if self.account is None or self.account.invoiced_on is None:
            raise refused("it is not an invoiced order on account")
        if payment.amount > self.owed_on_account:
            raise refused(f"it owes {self.owed_on_account} {self.currency} minor units")
        self.account = self.account.with_payment(payment)

    def _record(self, kind: TimelineKind, at: str, *id_parts: str, shipment_id: str | None = None,
                **detail: str) -> None:
        self._new_events.append(TimelineEvent(
            event_id=timeline_event_id(kind, self.order_id, *id_parts), order_id=self.order_id, kind=kind, at=at,
            shipment_id=shipment_id, detail=detail))

    def _touch(self, shipment: Shipment) -> None:
        self._changed_shipments.add(shipment.shipment_id)

    def touch(self, shipment_id: str) -> None:
        """A shipment's own bookkeeping changed (not its status): commit it with the order."""
        self._touch(self.shipment(shipment_id))

    # --- reads ----------------------------------------------------------------------------------------------------
    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def currency(self) -> str:
        return self.totals.total.currency

    def shipment(self, shipment_id: str) -> Shipment:
        for shipment in self.shipments:
            if shipment.shipment_id == shipment_id:
                return shipment
        raise KeyError(f"order {self.order_id} has no shipment {shipment_id}")

    def return_of(self, return_id: str) -> Return:
        for ret in self.returns:
            if ret.return_id == return_id:
                return ret
        raise KeyError(f"order {self.order_id} has no return {return_id}")

    @property
    def refundable(self) -> Money:
        """What can still be given back: captured (for cash on delivery: collected), less refunded, less the store
        credit its returns gave."""
        left = self.payment.captured.amount - self.payment.refunded.amount
        credit = sum(r.store_credit for r in self.returns)
        return Money(amount=max(0, left - credit), currency=self.currency)

    @property
    def shipped(self) -> list[Shipment]:
        return [s for s in self.shipments if s.has_shipped]

    @property
    def active_shipments(self) -> list[Shipment]:
        """The order's own shipments still meant to reach the customer (not emptied by line cancellations; not a
        return's replacement, which its return's workflow sends and follows)."""
        return [s for s in self.shipments if not s.cancelled and not s.for_return]

    @property
    def wanted(self) -> dict[str, int]:
        return {line.sku: line.quantity for line in self.lines}

    def cancellation_stop(self) -> CancellationRequested | None:
        """Once somebody asked for the order to be cancelled, the error a task of its workflow stops with: its class
        name (the Step Functions error) names who asked and becomes the order's cancellation reason."""
        if self.cancellation_requested_by == "customer":
            return CancelledByCustomer(f"order {self.order_id}: the customer cancelled it")
        if self.cancellation_as in HOLD_STOPS:  # a hold was rejected or timed out
            return HOLD_STOPS[self.cancellation_as](f"order {self.order_id}: {self.cancellation_as}")
        if self.cancellation_requested:
            return CancelledByOperator(f"order {self.order_id}: an operator asked for it to be cancelled")
        return None

    def stop_if_cancelling(self) -> None:
        """A task about to reserve or ship stops once a cancellation was asked for: the workflow compensates."""
        stop = self.cancellation_stop()
        if stop is not None:
            raise stop

    # --- the business ---------------------------------------------------------------------------------------------
    @classmethod
    def place(cls, *, order_id: str, customer_id: str, placed_at: str, promised_by: str, contact: Contact,
              shipping_address: Address, shipping_method: str, lines: list[OrderLine], totals: Totals,
              payment: PaymentState, placed_by: str | None = None, hold_reason: str | None = None,
              shipping_zone: str = DEFAULT_ZONE, gift: Gift | None = None, hold: Hold | None = None,
              awaiting: AwaitedStock | None = None, pickup_location: str | None = None) -> Order:
        """`hold` (or, for an operator's hold, just `hold_reason`): held as soon as its stock is reserved.
        `awaiting`: it waits for stock (backordered or preordered lines); its confirmation says until when."""
        if hold is None and hold_reason:
            hold = Hold(kind=HoldKind.OPERATOR, reason=hold_reason)
        order = cls(order_id=order_id, customer_id=customer_id, status=INITIAL, placed_at=placed_at,
                    promised_by=promised_by, contact=contact, shipping_address=shipping_address,
                    shipping_method=shipping_method, lines=lines, totals=totals, payment=payment,
                    placed_by=placed_by, pending_hold=hold, shipping_zone=shipping_zone, gift=gift,
                    awaiting=awaiting, pickup_location=pickup_location)
        waits = {"awaiting": awaiting.kind, "available_from": awaiting.due.isoformat(),
                 "promised_by": promised_by} if awaiting else {}
        order._record(TimelineKind.ORDER_CONFIRMED, placed_at, **({"placed_by": placed_by} if placed_by else {}),
                      **waits)
        return order

    def reserve(self, picks: list[Pick], shipment_id_for: Callable[[str, str], str], at: str,
                promises: Mapping[str, str] | None = None,
                prepared_at: Mapping[str, Location] | None = None,
                routing: Mapping[str, str] | None = None) -> list[Shipment]:
        """Stock is held for every line: one shipment per location, each with its share of the total and, given
        `promises` (location id -> the promised UTC date), its own promise; the order's promise becomes the latest
        of them (the estimate made at checkout gives way to the promise of the locations actually chosen). Given
        the chosen locations (`prepared_at`: location id -> location), a shipment is prepared as its location says, with a work task for each of its lines
        that needs work (dawra.domain.preparation); an ordinary one gets none of it."""
        by_location: dict[str, list[Pick]] = {}
        for pick in picks:
            by_location.setdefault(pick.location_id, []).append(pick)
        self.stop_if_cancelling()
        if {sku: sum(p.quantity for p in picks if p.sku == sku) for sku in self.wanted} != self.wanted:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.RESERVE_STOCK.value,
                                    "the picks do not cover the order's lines exactly")
        self.apply(OrderEvent.RESERVE_STOCK)
        unit_value = {line.sku: (line.line_total.amount, line.quantity) for line in self.lines}
        locations = sorted(by_location)
        weights = [sum(unit_value[p.sku][0] * p.quantity // unit_value[p.sku][1] for p in by_location[location])
                   for location in locations]
        shares = split_amount(self.totals.total.amount, weights)
        for location, share in zip(locations, shares, strict=True):
            shipment = Shipment(
                shipment_id=shipment_id_for(self.order_id, location), order_id=self.order_id, location_id=location,
                lines=[ShipmentLine(sku=p.sku, quantity=p.quantity) for p in by_location[location]],
                amount=Money(amount=share, currency=self.currency),
                promised_by=promises.get(location) if promises else None)
            if prepared_at and location in prepared_at:
                self._prepare(shipment, prepared_at[location], at)
            self.shipments.append(shipment)
            self._touch(shipment)
        promised = [s.promised_by for s in self.shipments if s.promised_by]
        if promised:
            self.promised_by = max(promised)
        # `routing`: why these locations (dawra.domain.routing), said by the same timeline event (no item of its own).
        self._record(TimelineKind.STOCK_RESERVED, at, shipments=str(len(locations)),
                     **({"promised_by": self.promised_by} if promised else {}), **(routing or {}))
        if self.pending_hold:
            pending, self.pending_hold = self.pending_hold, None
            self.hold(pending.reason, at, "placed", kind=pending.kind, reasons=pending.reasons)
        return list(self.shipments)

    def _prepare(self, shipment: Shipment, location: Location, at: str) -> None:
        work = {line.sku: line.work for line in self.lines if line.work}
        tasks = [WorkTask(task_id=work_task_id(shipment.shipment_id, line.sku), sku=line.sku, kind=work[line.sku],
                          quantity=line.quantity) for line in shipment.lines if line.sku in work]
        preparation = preparation_for(location, bool(tasks), at)
        if preparation is not None:
            shipment.preparation, shipment.prepare_by = preparation.how, preparation.prepare_by
            shipment.work_tasks = tasks or None
        if self.pickup_location == location.location_id and location.pickup is not None:
            # Store pickup: it waits for the store to mark it ready, due by the store's SLA (dawra.domain.pickup).
            shipment.pickup = PickupState.at(location)
            shipment.prepare_by = shipment.prepare_by or iso(
                datetime.fromisoformat(at) + timedelta(hours=location.pack_within_hours))

    # --- pick and pack (dawra.domain.preparation): the warehouse's or the partner's word ---------------------------
    def _preparing(self, shipment_id: str) -> Shipment | None:
        """The shipment, while it still waits to be prepared; None once it is packed or has left (a repeated scan or
        a late callback changes nothing). Refused when it never leaves: cancelled, or the order is being cancelled."""
        shipment = self.shipment(shipment_id)
        if shipment.cancelled or self.cancellation_stop() is not None or self.is_terminal:
            raise IllegalTransition(self.order_id, self.status.value, ShipmentEvent.PACK.value,
                                    f"shipment {shipment_id} will not leave: it was cancelled")
        if shipment.status not in (ShipmentStatus.ALLOCATED, ShipmentStatus.PICKED):
            return None
        if shipment.preparation is None and not shipment.work_tasks:
            raise IllegalTransition(self.order_id, self.status.value, ShipmentEvent.PACK.value,
                                    f"shipment {shipment_id} is not prepared by hand: it is booked at once")
        return shipment

    def pick(self, shipment_id: str, at: str) -> bool:
        """The warehouse picked its units. False when that was said before (or it is packed already)."""
        shipment = self._preparing(shipment_id)
        if shipment is None or not shipment.can(ShipmentEvent.PICK):
            return False
        shipment.apply(ShipmentEvent.PICK)
        shipment.picked_at = at
        self._touch(shipment)
        return True

    def pack(self, shipment_id: str, at: str, partner_tracking: str | None = None, by_partner: bool = False) -> bool:
        """Packed and ready for the carrier; refused while a work task is not done (a partner's "packed" says its
        work is done too). False when it was packed (or had left) before: the caller resumes the workflow's wait
        either way."""
        shipment = self._preparing(shipment_id)
        if shipment is None:
            return False
        if by_partner:
            for task in shipment.open_tasks:
                task.done_at, task.done_by = at, f"partner:{shipment.location_id}"
        if shipment.open_tasks:
            raise IllegalTransition(self.order_id, self.status.value, ShipmentEvent.PACK.value,
                                    f"shipment {shipment_id} has work not done: "
                                    + ", ".join(f"{t.kind} of {t.sku}" for t in shipment.open_tasks))
        shipment.apply(ShipmentEvent.PACK)
        shipment.packed_at = at
        shipment.partner_tracking = partner_tracking or shipment.partner_tracking
        self._touch(shipment)
        return True

    def finish_work(self, shipment_id: str, task_id: str, at: str, by: str) -> bool:
        """A work task done. False when it was done before."""
        shipment = self._preparing(shipment_id)
        task = next((t for t in (shipment.work_tasks if shipment else None) or [] if t.task_id == task_id), None)
        if shipment is None or task is None:
            raise IllegalTransition(self.order_id, self.status.value, "finish_work",
                                    f"shipment {shipment_id} has no open work task {task_id}")
        if task.done_at is not None:
            return False
        task.done_at, task.done_by = at, by
        self._touch(shipment)
        return True

    def packing_late(self, shipment_id: str, at: str) -> bool:
        """Past its SLA and not packed: True the first time (operations are alerted once per shipment)."""
        shipment = self.shipment(shipment_id)
        if shipment.packing_late_at is not None or not shipment.waits_for_packing:
            return False
        shipment.packing_late_at = at
        self._touch(shipment)
        return True

    def sent_to_partner(self, shipment_id: str, at: str) -> None:
        shipment = self.shipment(shipment_id)
        shipment.partner_sent_at = at
        self._touch(shipment)

    # --- store pickup (dawra.domain.pickup): the store's word, the customer's code -------------------------------
    def _pickup(self, shipment_id: str, event: str) -> tuple[Shipment, PickupState]:
        shipment = self.shipment(shipment_id)
        if shipment.pickup is None:
            raise IllegalTransition(self.order_id, self.status.value, event,
                                    f"shipment {shipment_id} is not collected at a store")
        return shipment, shipment.pickup

    def ready_for_pickup(self, shipment_id: str, code: str, at: str, durations: Durations | None = None) -> bool:
        """The store put it on its desk: a code is issued and the customer is told (the code, the hours, by when).
        False when it was ready (or collected) before: nothing changes, the code stays. Refused once it never leaves
        (cancelled, or the order is being cancelled) and while the order is held."""
        shipment, desk = self._pickup(shipment_id, ShipmentEvent.READY.value)
        if shipment.cancelled or self.cancellation_stop() is not None or self.is_terminal:
            raise IllegalTransition(self.order_id, self.status.value, ShipmentEvent.READY.value,
                                    f"shipment {shipment_id} will not be collected: it is being cancelled")
        if not shipment.can(ShipmentEvent.READY):
            return False
        if self.status != OrderStatus.ALLOCATED:
            raise IllegalTransition(self.order_id, self.status.value, ShipmentEvent.READY.value,
                                    "only an allocated order is put out for collection")
        shipment.apply(ShipmentEvent.READY)
        desk.ready(code, at, durations)
        self._touch(shipment)
        self._record(TimelineKind.PICKUP_READY, at, shipment_id, shipment_id=shipment_id,
                     location_id=shipment.location_id, collect_by=desk.collect_by or "")
        return True

    def try_pickup_code(self, shipment_id: str, typed: str, now: datetime) -> bool:
        """One try at the customer's code at the desk (a wrong one counts; too many lock the desk for a while).
        Refused while locked, and unless it is ready, in time, and the order not being cancelled."""
        shipment, desk = self._pickup(shipment_id, ShipmentEvent.COLLECT.value)
        if shipment.status != ShipmentStatus.READY_FOR_PICKUP or self.cancellation_stop() is not None:
            raise IllegalTransition(self.order_id, self.status.value, ShipmentEvent.COLLECT.value,
                                    f"shipment {shipment_id} is {shipment.status.value}: nothing to hand over")
        if desk.collect_by and iso(now) >= desk.collect_by:
            raise IllegalTransition(self.order_id, self.status.value, ShipmentEvent.COLLECT.value,
                                    "its time to be collected is over: it is being cancelled")
        if desk.is_locked(now):
            raise PickupLocked("too many wrong codes for this order", locked_until=desk.locked_until)
        right = desk.check(typed, now)
        self._touch(shipment)
        return right

    def collect(self, shipment_id: str, at: str, by: str) -> Money:
        """Handed over at the store (the right code was given): its share is captured and it counts as delivered,
        as a carrier's delivery does (the workflow's wait is answered with its stored token). Returns the share."""
        shipment, desk = self._pickup(shipment_id, ShipmentEvent.COLLECT.value)
        self.stop_if_cancelling()
        if not shipment.can(ShipmentEvent.COLLECT):
            raise IllegalTransition(self.order_id, self.status.value, ShipmentEvent.COLLECT.value,
                                    f"shipment {shipment_id} is {shipment.status.value}")
        if shipment.amount.amount:
            self.payment = self.payment.capture(shipment.amount)
        if self.account is not None:
            self.account = self.account.invoiced(date.fromisoformat(at[:10]))
        self.apply(OrderEvent.SHIP)
        shipment.apply(ShipmentEvent.COLLECT)
        shipment.delivered_at = desk.collected_at = at
        desk.collected_by = by
        self._touch(shipment)
        self._record(TimelineKind.PICKUP_COLLECTED, at, shipment_id, shipment_id=shipment_id,
                     location_id=shipment.location_id, by=by)
        if shipment.amount.amount:
            self.issue(invoice_for_shipment(self, shipment, at))
        self._complete_if_every_parcel_done(at)
        return shipment.amount

    def remind_collection(self, shipment_id: str, at: str) -> bool:
        """Ready and not collected after the store's reminder days: the customer is reminded, once. False when
        there is nothing to say (reminded already, collected, or no reminder due yet)."""
        shipment, desk = self._pickup(shipment_id, "remind_collection")
        if (shipment.status != ShipmentStatus.READY_FOR_PICKUP or desk.reminded_at is not None
                or desk.remind_at is None or at < desk.remind_at):
            return False
        desk.reminded_at = at
        self._touch(shipment)
        self._record(TimelineKind.PICKUP_REMINDER, at, shipment_id, shipment_id=shipment_id,
                     location_id=shipment.location_id, collect_by=desk.collect_by or "")
        return True

    def not_collected(self, shipment_id: str, at: str) -> bool:
        """Past its collect-by date and still on the desk: the order is to be cancelled (NotCollected), recorded
        first so that a handover after this is refused; the workflow then releases its units at the store and voids
        the payment. True when recorded now (a retry finds it recorded: False)."""
        shipment, _ = self._pickup(shipment_id, "not_collected")
        if shipment.status != ShipmentStatus.READY_FOR_PICKUP or self.cancellation_requested:
            return False
        self.request_cancellation("not collected at the store in time", at, f"not-collected-{shipment_id}")
        self.cancellation_as = NotCollected.__name__
        return True

    def ensure_can_ship(self, shipment_id: str) -> Shipment:
        shipment = self.shipment(shipment_id)
        self.stop_if_cancelling()  # first: the workflow compensates, whatever the status
        if not self.can(OrderEvent.SHIP):
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.SHIP.value)
        if shipment.cancelled:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.SHIP.value,
                                    f"every line of shipment {shipment_id} was cancelled")
        if shipment.has_shipped:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.SHIP.value,
                                    f"shipment {shipment_id} has already shipped")
        return shipment

    def ship(self, shipment_id: str, *, carrier: str, tracking_number: str, label_url: str, at: str) -> Money:
        """The parcel is handed to the carrier and its share of the payment is captured. Returns that share."""
        shipment = self.ensure_can_ship(shipment_id)
        if shipment.amount.amount:  # a replacement for a lost or returned parcel was paid for once already
            self.payment = self.payment.capture(shipment.amount)
        if self.account is not None:  # on account: its first invoice makes it due after the account's terms
            self.account = self.account.invoiced(date.fromisoformat(at[:10]))
        self.apply(OrderEvent.SHIP)
        shipment.apply(ShipmentEvent.BOOK)
        shipment.carrier, shipment.tracking_number, shipment.label_url = carrier, tracking_number, label_url
        shipment.label_created_at = at
        self._touch(shipment)
        self._record(TimelineKind.SHIPMENT_SHIPPED, at, shipment_id, shipment_id=shipment_id, carrier=carrier,
                     tracking_number=tracking_number, label_url=label_url,
                     **({"replaces": shipment.replaces} if shipment.replaces else {}))
        if shipment.amount.amount:  # its share was captured (cash on delivery: it is to be collected at the door)
            self.issue(invoice_for_shipment(self, shipment, at))
        return shipment.amount

    def wait_for_release(self, shipment_id: str, resume_token: str) -> Shipment:
        """The workflow parks this shipment until the order is released from its hold. The header is committed too:
        a release or a cancellation is a header change decided on the tokens it finds, and parking is decided on the
        header's status and cancellation; writing only the shipment would let both commit unaware of each other (a
        lost cancellation: the task waits, nobody answers it)."""
        shipment = self.wait_for_delivery(shipment_id, resume_token)
        self._header_changed = True
        return shipment

    def wait_for_delivery(self, shipment_id: str, resume_token: str) -> Shipment:
        shipment = self.shipment(shipment_id)
        shipment.resume_token = resume_token
        self._touch(shipment)
        return shipment

    def stop_waiting(self, shipment_id: str) -> None:
        shipment = self.shipment(shipment_id)
        shipment.resume_token = None
        self._touch(shipment)

    def record_tracking(self, shipment_id: str, report: TrackingEvent) -> ShipmentStatus | None:
        """A carrier report: its shipment moves as the shipment's table allows (never backwards: a delivered parcel
        stays delivered, whatever is reported after), and what the customer should hear about goes on the timeline.
        Everything is kept at the report's believable time: the carrier's, unless it is in the future or before the
        label (then when we received it, flagged `time_untrusted`). Returns the new status if the shipment moved.
        The shipment keeps the report's digest (a copy of it is known for a duplicate: TrackingEvent.applied_to)."""
        shipment = self.shipment(shipment_id)
        shipment.reports = report.kept_with(shipment.reports)
        self._touch(shipment)
        at, trusted = report.believable_time(not_before=shipment.label_created_at or self.placed_at)
        detail = {"tracking_number": report.tracking_number, "carrier": report.carrier}
        if not trusted:
            detail |= {"time_untrusted": "true", "carrier_time": report.occurred_at}
        event = REPORTED.get(report.status)
        if event is not None and shipment.can(event):
            was = shipment.status
            moved = shipment.apply(event)
            shipment.last_tracking_at = at
            if moved == ShipmentStatus.DELIVERED:
                shipment.delivered_at = at
                detail |= {"declared_lost": "true"} if was == ShipmentStatus.LOST else {}
            if moved == ShipmentStatus.RETURNING:
                detail |= _said(report)
            if moved == ShipmentStatus.RETURNED:  # its units are counted back at its location in the same commit
                detail |= {"location_id": shipment.location_id,
                           "units": str(sum(line.quantity for line in shipment.lines))}
            self._touch(shipment)
            self._record(_MOVED_KIND[moved], at, shipment_id, shipment_id=shipment_id, **detail)
            if moved == ShipmentStatus.DELIVERED:  # complete as of when we knew: never before what finished the others
                self._complete_if_every_parcel_done(report.known_at(at))
            return moved
        side = _SIDE_KIND.get(report.status)
        notice = f"{side.value}:{at[:10]}" if side is not None else None
        # Nothing to tell once delivered, returning or settled; and one word per kind and day: carriers repeat an
        # exception scan at every depot, and the customer hears about it once (another day's attempt is news).
        if side is not None and shipment.is_moving and shipment.last_notice != notice:
            digest = hashlib.sha256(report.dedup_key.encode()).hexdigest()[:12]
            shipment.last_notice = notice
            self._touch(shipment)
            self._record(side, at, shipment_id, digest, shipment_id=shipment_id, **detail, **_said(report))
        return None

    @property
    def every_parcel_done(self) -> bool:
        """Every shipment still meant for the customer was delivered, or settled (lost or returned, then sent again
        or refunded): nothing is left to wait for."""
        return bool(self.active_shipments) and all(s.is_done for s in self.active_shipments)

    def complete(self, at: str) -> None:
        """Every parcel has arrived (or was settled): the order is complete. The changes that finish a parcel call
        this (:meth:`_complete_if_every_parcel_done`), in the same commit as the parcel's last step; otherwise only
        the CompleteOrder task of executions started before decision 111 does."""
        if not self.every_parcel_done:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.COMPLETE.value,
                                    "not every shipment is delivered")
        self.apply(OrderEvent.COMPLETE)
        self._record(TimelineKind.ORDER_COMPLETED, at)

    def _complete_if_every_parcel_done(self, at: str) -> None:
        """The order completes with the change that finishes its last parcel (delivered, collected at the store,
        refunded after it was lost or came back, or the last one still to come cancelled), whichever commit that is:
        no step of the workflow waits to say so (decision 111). A parcel a person settles leaves it to them.
        A parcel finished while another is still open commits the header too: two changes finishing an order's last
        two parcels at once (two reports, a report and a refund) then conflict on it, and the one decided again
        sees both done and completes the order, where each alone would have found the other parcel still open."""
        if self.can(OrderEvent.COMPLETE) and self.every_parcel_done:
            self.complete(at)
        elif len(self.active_shipments) > 1:
            self._header_changed = True

    def ask_for_feedback(self, at: str) -> bool:
        """Once every parcel has arrived, ask the customer how it went: once. False if they were asked already."""
        self.apply(OrderEvent.ASK_FOR_FEEDBACK)
        if self.feedback_asked_at or self.feedback_at:
            self._header_changed = False
            return False
        self.feedback_asked_at = at
        self._record(TimelineKind.FEEDBACK_REQUESTED, at)
        return True

    def give_feedback(self, feedback: Feedback, at: str) -> None:
        """The customer's one answer about a completed order (asked or not)."""
        self.apply(OrderEvent.GIVE_FEEDBACK)
        if self.feedback_at:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.GIVE_FEEDBACK.value,
                                    "its feedback was already given")
        self.feedback_at = at
        self._record(TimelineKind.FEEDBACK_RECEIVED, at, **feedback.detail())

    def cancel(self, reason: str, at: str) -> Money:
        """Nothing has left the building: void the payment (refunding any capture). Returns the refund."""
        if self.shipped:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.CANCEL.value,
                                    f"{len(self.shipped)} shipment(s) already left; a person must decide")
        self.apply(OrderEvent.CANCEL)
        self.payment, refund = self.payment.settle_for_cancellation()
        self.cancellation_reason = reason  # a code the customer may see (OutOfStock, CancelledByOperator, ...)
        self.hold_reason = self.held_at = self.hold_kind = None
        self._record(TimelineKind.ORDER_CANCELLED, at, reason=reason)
        return refund

    def stock_late(self, due: date, promised_by: str, at: str) -> None:
        """Its stock did not come by the day the customer was told (a backorder's restock, a preorder's release):
        the customer hears the new day and promise; counted, so the wait has an end (dawra.app.backorders)."""
        if self.awaiting is None or self.shipments:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.AWAIT_STOCK.value,
                                    "it is not waiting for stock")
        self.apply(OrderEvent.AWAIT_STOCK)
        self.awaiting = self.awaiting.model_copy(update={"due": due, "delays": self.awaiting.delays + 1})
        self.promised_by = promised_by
        self._record(TimelineKind.STOCK_DELAYED, at, str(self.awaiting.delays), awaiting=self.awaiting.kind,
                     available_from=due.isoformat(), new_estimate=promised_by)

    def wait_for_stock(self, token: str) -> None:
        """Its workflow waits for the stock on `token` (the allocation on arrival resumes it)."""
        if self.awaiting is None or self.shipments:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.AWAIT_STOCK.value,
                                    "it is not waiting for stock")
        self.apply(OrderEvent.AWAIT_STOCK)
        self.stock_token = token

    def ask_a_person(self, reason: str, at: str) -> None:
        """The automation stops here: an operator sees the order and the reason."""
        self.apply(OrderEvent.ASK_A_PERSON)
        self.attention_reason = reason
        self._record(TimelineKind.ORDER_NEEDS_ATTENTION, at, reason=reason)

    # --- late, lost and returned parcels --------------------------------------------------------------------------
    def promise_of(self, shipment: Shipment) -> str:
        """The date a shipment is promised by: its own, else the order's (shipments reserved before promises were
        per shipment)."""
        return shipment.promised_by or self.promised_by

    def report_late(self, shipment_id: str, new_estimate: str, at: str) -> bool:
        """A parcel past its promise and the merchant's grace and still on its way: the customer gets an apology and
        a new estimate, once. False when there is nothing to say (told already, delivered, returning, settled)."""
        shipment = self.shipment(shipment_id)
        if shipment.delayed_at or not shipment.is_moving:
            return False
        shipment.delayed_at = at
        self._touch(shipment)
        self._record(TimelineKind.SHIPMENT_DELAYED, at, shipment_id, shipment_id=shipment_id,
                     tracking_number=shipment.tracking_number or "", carrier=shipment.carrier or "",
                     promised_by=self.promise_of(shipment), new_estimate=new_estimate)
        return True

    def declare_lost(self, shipment_id: str) -> None:
        """Long past its promise and never delivered (or never back, if it was being returned): lost in transit."""
        shipment = self.shipment(shipment_id)
        shipment.apply(ShipmentEvent.DECLARE_LOST)
        self._touch(shipment)

    def settle_by_refund(self, shipment_id: str, at: str) -> Money:
        """Refund the lost or returned shipment's captured share (never more than is left to refund). Returns it."""
        shipment = self._unsettled(shipment_id)
        amount = Money(amount=min(shipment.amount.amount, self.refundable.amount), currency=self.currency)
        if amount.amount:
            self.refund(amount, at, f"claim-{shipment_id}", shipment_id=shipment_id, reason="lost_or_returned")
        self._settled(shipment, Settlement.REFUND, at, amount=str(amount.amount), currency=amount.currency)
        self._complete_if_every_parcel_done(at)
        return amount

    def settle_by_reship(self, shipment_id: str, replacement_id: str, location_id: str, promised_by: str,
                         at: str) -> Shipment:
        """Send the lost or returned shipment's lines again from `location_id`: a new shipment of this order,
        promised by `promised_by`, with nothing more to capture (the customer paid once). Returns it."""
        shipment = self._unsettled(shipment_id)
        self.apply(OrderEvent.RESHIP)
        replacement = Shipment(shipment_id=replacement_id, order_id=self.order_id, location_id=location_id,
                               lines=list(shipment.lines), amount=Money.zero(self.currency), promised_by=promised_by,
                               replaces=shipment_id)
        self.shipments.append(replacement)
        self._touch(replacement)
        shipment.replaced_by = replacement_id
        self._settled(shipment, Settlement.RESHIP, at, new_estimate=promised_by, replacement=replacement_id)
        return replacement

    def settle_by_a_person(self, shipment_id: str, reason: str, at: str) -> None:
        """The policy says a person decides, or it could not apply: the order needs attention, with the reason."""
        shipment = self._unsettled(shipment_id)
        self._settled(shipment, Settlement.AGENT, at)
        if self.can(OrderEvent.ASK_A_PERSON):  # already with a person: the timeline tells them about this parcel
            self.ask_a_person(reason, at)

    def _unsettled(self, shipment_id: str) -> Shipment:
        shipment = self.shipment(shipment_id)
        if shipment.status not in (ShipmentStatus.LOST, ShipmentStatus.RETURNED) or shipment.settlement:
            raise IllegalTransition(self.order_id, self.status.value, "settle",
                                    f"shipment {shipment_id} is {shipment.status.value}, settled: "
                                    f"{shipment.settlement or 'no'}")
        return shipment

    def _settled(self, shipment: Shipment, settlement: Settlement, at: str, **detail: str) -> None:
        shipment.settlement = settlement
        shipment.resume_token = None  # no task waits on it any more
        self._touch(shipment)
        kind = TimelineKind.SHIPMENT_LOST if shipment.status == ShipmentStatus.LOST else TimelineKind.RETURN_SETTLED
        self._record(kind, at, shipment.shipment_id, shipment_id=shipment.shipment_id,
                     tracking_number=shipment.tracking_number or "", carrier=shipment.carrier or "",
                     settlement=settlement.value, **detail)

    # --- cash on delivery after the door (dawra.domain.cod) -------------------------------------------------------
    @property
    def is_cash_on_delivery(self) -> bool:
        return self.payment.provider == CASH_ON_DELIVERY

    @property
    def cod_collected(self) -> Money:
        """What couriers reported collecting at the door for this order's parcels (cash on delivery)."""
        return Money(amount=sum(s.cod_collected.amount for s in self.shipments if s.cod_collected is not None
                                and s.cod_collected.currency == self.currency), currency=self.currency)

    @property
    def cod_remitted(self) -> Money:
        """What couriers remitted for this order's parcels, after their fees."""
        return Money(amount=sum(s.cod_remittance.remitted.amount for s in self.shipments if s.cod_remittance),
                     currency=self.currency)

    def collect_cash(self, shipment_id: str, amount: Money, at: str) -> bool | None:
        """The carrier's delivered report says what the courier collected for a parcel paid in cash at the door:
        recorded once (a repeated report changes nothing). None: nothing recorded (not cash on delivery, not
        delivered, recorded already); else whether it is not what was due (the timeline flags it for operators)."""
        shipment = self.shipment(shipment_id)
        if not self.is_cash_on_delivery or not shipment.is_delivered or shipment.cod_collected is not None:
            return None
        shipment.cod_collected, shipment.cod_collected_at = amount, at
        self._touch(shipment)
        mismatch = amount != shipment.amount
        self._record(TimelineKind.COD_COLLECTED, at, shipment_id, shipment_id=shipment_id,
                     collected=str(amount.amount), due=str(shipment.amount.amount), currency=amount.currency,
                     **({"mismatch": "true"} if mismatch else {}))
        return mismatch

    def remit(self, shipment_id: str, remittance: CodRemittance, outcome: str, difference: int) -> None:
        """The courier remitted a parcel's cash (a row of its remittance file, already judged): once per parcel."""
        shipment = self.shipment(shipment_id)
        if not self.is_cash_on_delivery or shipment.cod_remittance is not None:
            raise IllegalTransition(self.order_id, self.status.value, "remit_cod",
                                    f"shipment {shipment_id} is not a cash-on-delivery parcel still to be remitted")
        shipment.cod_remittance = remittance
        self._touch(shipment)
        self._record(TimelineKind.COD_REMITTED, remittance.recorded_at, shipment_id, shipment_id=shipment_id,
                     reference=remittance.reference, remitted_on=remittance.remitted_on,
                     collected=str(remittance.collected.amount), fee=str(remittance.fee.amount),
                     remitted=str(remittance.remitted.amount), currency=remittance.collected.currency,
                     outcome=outcome, difference=str(difference))

    def confirm_cash_on_delivery(self, at: str, ref: str, by: Literal["link", "sms"]) -> None:
        """The customer confirms an order they pay for at the door, held for that: it is released to ship."""
        if self.held_as != HoldKind.COD_CONFIRMATION:
            raise IllegalTransition(self.order_id, self.status.value, "confirm_cod",
                                    "it is not waiting for the customer's confirmation")
        self.release_hold(at, ref)
        self.cod_confirmed_at = at
        self._record(TimelineKind.COD_CONFIRMED, at, ref, by=by)

    def remittance_overdue(self, shipment_id: str, at: str, days: int) -> bool:
        """A parcel paid in cash at the door and not remitted `days` after its delivery: flagged once. False when
        there is nothing to flag (remitted, flagged already, not delivered, not cash on delivery)."""
        shipment = self.shipment(shipment_id)
        if (not self.is_cash_on_delivery or not shipment.is_delivered or shipment.cod_remittance is not None
                or shipment.cod_overdue_at is not None):
            return False
        shipment.cod_overdue_at = at
        self._touch(shipment)
        self._record(TimelineKind.COD_REMITTANCE_OVERDUE, at, shipment_id, shipment_id=shipment_id,
                     tracking_number=shipment.tracking_number or "", delivered_at=shipment.delivered_at or "",
                     due=str(shipment.amount.amount), currency=self.currency, days=str(days))
        return True

    # --- what people do (operators in the back office; later the customer) ----------------------------------------
    # `ref` is the request's own id (its idempotency key's digest): it names the timeline event the change appends.
    def hold(self, reason: str, at: str, ref: str, kind: HoldKind = HoldKind.OPERATOR,
             reasons: Sequence[HoldReason] = ()) -> None:
        """Nothing ships until somebody releases the order; its stock stays reserved. `kind` says who decides and
        what its timeout does (dawra.domain.holds); `reasons`, why (codes and words, for operators)."""
        self.apply(OrderEvent.HOLD)
        self.hold_reason, self.held_at, self.hold_kind = reason, at, kind
        self.hold_reasons = list(reasons) or None  # absent on most orders: nothing stored
        # The reason is the operators' (audit trail, header); the timeline says the kind and the reasons' codes.
        self._record(TimelineKind.ORDER_ON_HOLD, at, ref, hold_kind=kind.value,
                     **({"reasons": ",".join(r.code for r in reasons)} if reasons else {}))
        if kind == HoldKind.COD_CONFIRMATION:  # the customer is asked to confirm: the link, or an SMS reply's code
            self._record(TimelineKind.COD_CONFIRMATION_REQUESTED, at, ref, code=confirmation_code(self.order_id))

    @property
    def held_as(self) -> HoldKind | None:
        """The kind of hold the order is on (an order held before kinds existed: by its reason); None: not held."""
        if self.status != OrderStatus.ON_HOLD:
            return None
        return self.hold_kind or _legacy_kind(self.hold_reason or "")

    def reject_hold(self, reason: str, at: str, ref: str) -> None:
        """The person deciding a hold says no: the order is to be cancelled (the workflow compensates, with the
        kind's reason, e.g. RejectedInReview). `reason` is theirs, for operators (the audit trail)."""
        kind = self.held_as
        if kind is None:
            raise IllegalTransition(self.order_id, self.status.value, "reject_hold", "it is not on hold")
        self.request_cancellation(reason, at, ref)
        self.cancellation_as = policy(kind).rejected_as

    def expire_hold(self, at: str) -> str:
        """The hold lasted its time (the workflow's HoldExpired task). A kind whose timeout cancels records the
        cancellation with its reason (e.g. ReviewTimedOut), so a release arriving after this is refused; a kind
        whose timeout asks a person changes nothing here. Returns the reason the workflow goes on with."""
        kind = self.held_as
        if kind is None:
            raise IllegalTransition(self.order_id, self.status.value, "expire_hold", "it is not on hold")
        rule = policy(kind)
        if rule.on_timeout == OnTimeout.CANCEL and not self.cancellation_requested:
            self.request_cancellation(f"hold timed out: {rule.expired_as}", at, f"expired-{self.held_at}")
            self.cancellation_as = rule.expired_as
        return rule.expired_as

    def waiting_tokens(self) -> list[str]:
        """The tokens the workflow parked unshipped shipments on while the order was on hold. They stay stored: a
        token answered twice is refused by the workflow harmlessly, and a retried request can answer it again."""
        return [s.resume_token for s in self.shipments if s.resume_token and not s.has_shipped]

    def release_hold(self, at: str, ref: str) -> None:
        """Back to shipping (whoever holds the waiting tokens resumes them). Refused once its cancellation was asked
        for (rejected, or the hold timed out: the workflow is cancelling it)."""
        if self.can(OrderEvent.RELEASE_HOLD) and self.cancellation_requested:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.RELEASE_HOLD.value,
                                    "it is being cancelled")
        self.apply(OrderEvent.RELEASE_HOLD)
        self.hold_reason = self.held_at = self.hold_kind = self.hold_reasons = None
        self._record(TimelineKind.ORDER_RELEASED, at, ref)

    # --- the payment provider's side -----------------------------------------------------------------------------
    def renew_authorization(self, authorization_id: str, expires_at: str | None, at: str, ref: str) -> None:
        """The provider re-authorised what is left to capture on a new authorisation (the old one lapsed, or was
        about to; the provider released it). The status stays; the timeline says when the new one lapses."""
        self.apply(OrderEvent.RENEW_AUTHORIZATION)
        if self.payment.voided or authorization_id == self.payment.authorization_id:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.RENEW_AUTHORIZATION.value,
                                    "the payment was voided" if self.payment.voided else "nothing was renewed")
        self.payment = self.payment.renewed(authorization_id, expires_at)
        self._record(TimelineKind.PAYMENT_REAUTHORIZED, at, ref, expires_at=expires_at or "")

    def authorization_not_renewed(self, why: str, at: str, ref: str) -> bool:
        """The authorisation lapsed (or is about to) and the provider declined to renew it: recorded for a person;
        an order that has not shipped yet is held for them (the customer is asked to pay again, or it is
        cancelled). True when it was held."""
        self.apply(OrderEvent.RENEW_AUTHORIZATION)
        self._record(TimelineKind.PAYMENT_REAUTHORIZATION_FAILED, at, ref, reason=why[:200])
        if not self.can(OrderEvent.HOLD) or self.cancellation_requested:
            return False
        self.hold(AUTHORIZATION_LAPSED, at, ref, reasons=[HoldReason(
            code="payment.authorization_lapsed", en="The card authorisation lapsed and could not be renewed",
            ar="انتهت صلاحية تفويض البطاقة وتعذّر تجديده")])
        return True

    def paid_by_link(self, at: str, ref: str) -> bool:
        """The provider says the customer paid the order's payment link: the "awaiting payment" hold ends (released,
        or, when the stock is not reserved yet, never taken). False when there was no such hold to end (released by
        a manager already, or the order is being cancelled)."""
        if self.pending_hold is not None and self.pending_hold.kind == HoldKind.AWAITING_LINK_PAYMENT:
            self.pending_hold = None
            self._header_changed = True
            return True
        if self.held_as != HoldKind.AWAITING_LINK_PAYMENT or self.cancellation_requested:
            return False
        self.release_hold(at, ref)
        return True

    def record_payment_event(self, event: PaymentEvent, at: str) -> None:
        """A provider's own report (a capture or refund settled or failed, a dispute, a link paid), on the timeline
        at the time the provider says it happened. Nothing else changes here (the use case releases a hold)."""
        self.apply(OrderEvent.PAYMENT_EVENT)
        detail = {"event": event.kind.value, "provider": event.provider, "received_at": at}
        if event.amount is not None:
            detail |= {"amount": str(event.amount.amount), "currency": event.amount.currency}
        if event.reference:
            detail["reference"] = event.reference[:200]
        if event.reason:
            detail["reason"] = event.reason
        # The provider's time, unless it claims a time after the event reached us (then the time it reached us).
        said = iso(event.occurred_at)
        self._new_events.append(TimelineEvent(
            event_id=timeline_event_id(TimelineKind.PAYMENT_EVENT, self.order_id, event.provider, event.event_id),
            order_id=self.order_id, kind=TimelineKind.PAYMENT_EVENT, at=min(said, at), detail=detail))

    def request_cancellation(self, reason: str, at: str, ref: str,
                             by: Literal["operator", "customer"] = "operator") -> None:
        """An operator (or the customer) asks for the whole order to be cancelled: the workflow releases its stock
        and voids the payment (its own compensation). Refused once a parcel has left."""
        self.apply(OrderEvent.REQUEST_CANCEL)
        if self.shipped:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.REQUEST_CANCEL.value,
                                    f"{len(self.shipped)} shipment(s) already left; refund or wait for a return")
        if self.cancellation_requested:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.REQUEST_CANCEL.value,
                                    "its cancellation was already asked for")
        self.cancellation_requested, self.cancellation_requested_by = reason, by
        self._record(TimelineKind.CANCELLATION_REQUESTED, at, ref, by=by)

    def cancel_line(self, sku: str, at: str, ref: str) -> list[Shipment]:
        """Take one line out of an order that has not shipped it: the total goes down by the line and its tax, and
        each shipment carrying it gives up that line (and its value). Returns the shipments that changed."""
        self.apply(OrderEvent.CANCEL_LINE)
        line = next((candidate for candidate in self.lines if candidate.sku == sku), None)
        if line is None:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.CANCEL_LINE.value,
                                    f"it has no line {sku}")
        if len(self.lines) == 1:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.CANCEL_LINE.value,
                                    "it is the order's only line: cancel the order instead")
        carrying = [s for s in self.shipments if any(item.sku == sku for item in s.lines)]
        if any(s.has_shipped for s in carrying):
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.CANCEL_LINE.value,
                                    f"{sku} has already left with a parcel")
        value = line.line_total + line.tax
        shares = split_amount(value.amount, [next(i.quantity for i in s.lines if i.sku == sku) for s in carrying])
        for shipment, share in zip(carrying, shares, strict=True):
            shipment.lines = [item for item in shipment.lines if item.sku != sku]
            shipment.amount = Money(amount=max(0, shipment.amount.amount - share), currency=self.currency)
            if not shipment.lines:  # nothing left to send from there: what it still carried moves to another one
                leftover, shipment.amount = shipment.amount, Money.zero(self.currency)
                shipment.cancelled = True
                heir = next((s for s in self.shipments if not s.cancelled and not s.has_shipped), None)
                if heir is not None:
                    heir.amount = heir.amount + leftover
                    self._touch(heir)
            self._touch(shipment)
        self.lines = [candidate for candidate in self.lines if candidate.sku != sku]
        self.cancelled_lines = [*self.cancelled_lines, line]
        t = self.totals
        self.totals = t.model_copy(update={"subtotal": t.subtotal - line.line_total, "tax": t.tax - line.tax,
                                           "total": t.total - value})
        self._record(TimelineKind.LINE_CANCELLED, at, ref, sku=sku, quantity=str(line.quantity),
                     amount=str(value.amount))
        return carrying

    def change_address(self, address: Address, at: str, ref: str,
                       repriced: Repricing | None = None) -> GivenBack | None:
        """Before any label exists, the parcel can still go somewhere else. `repriced` (the customer's change): what
        the order costs with the new address's shipping charge, its zone and the new promises. Costing more is
        refused (saying how much more); costing less gives the difference back, which is returned."""
        if self.shipped:  # first: the reason anyone can act on, whatever the status says
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.CHANGE_ADDRESS.value,
                                    "a label already exists for a parcel")
        self.apply(OrderEvent.CHANGE_ADDRESS)
        if self.pickup_location is not None:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.CHANGE_ADDRESS.value,
                                    "it is collected at a store: there is no delivery address to change")
        if address.country != self.shipping_address.country:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.CHANGE_ADDRESS.value,
                                    "the country cannot change: prices, tax and the promise depend on it")
        if self.cancellation_requested:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.CHANGE_ADDRESS.value,
                                    "it is being cancelled")
        given: GivenBack | None = None
        detail: dict[str, str] = {}
        if repriced is not None:
            if repriced.totals.total.amount > self.totals.total.amount:
                more = repriced.totals.total - self.totals.total
                raise IllegalTransition(self.order_id, self.status.value, OrderEvent.CHANGE_ADDRESS.value,
                                        f"shipping there costs {more.amount} {more.currency} minor units more")
            given = self._ask_less(repriced.totals)
            self.shipping_zone = repriced.zone
            for shipment in self.active_shipments:
                if shipment.location_id in repriced.promises:
                    shipment.promised_by = repriced.promises[shipment.location_id]
                    self._touch(shipment)
            promised = [s.promised_by for s in self.active_shipments if s.promised_by]
            self.promised_by = max(promised) if promised else self.promised_by
            detail = {"given_back": str(given.total.amount), "currency": self.currency,
                      "promised_by": self.promised_by}
        self.shipping_address = address
        self._record(TimelineKind.ADDRESS_CHANGED, at, ref, **detail)
        return given

    def cancel_shipments(self, shipment_ids: Sequence[str], at: str, ref: str) -> GivenBack:
        """The customer cancels parcels of a split order that have not left; the others still come. Their lines
        leave the order (their units go back to stock: the caller releases the reservations), and their share of the
        total is no longer asked of the customer (returned: voided, or refunded if it was captured). Every parcel
        still to come of an order nothing has left from is the whole order: `request_cancellation`."""
        self.apply(OrderEvent.CANCEL_SHIPMENTS)

        def refused(why: str) -> IllegalTransition:
            return IllegalTransition(self.order_id, self.status.value, OrderEvent.CANCEL_SHIPMENTS.value, why)

        if self.cancellation_requested:
            raise refused("its cancellation was already asked for")
        known = {s.shipment_id: s for s in self.shipments}
        chosen: list[Shipment] = []
        for shipment_id in dict.fromkeys(shipment_ids):
            shipment = known.get(shipment_id)
            if shipment is None:
                raise refused(f"it has no shipment {shipment_id}")
            if shipment.has_shipped:
                raise refused(f"shipment {shipment_id} has already left")
            if shipment.cancelled:
                raise refused(f"shipment {shipment_id} was already cancelled")
            chosen.append(shipment)
        if not chosen:
            raise refused("no shipment was named")
        if not self.shipped and len(chosen) == len(self.active_shipments):
            raise refused("that is every parcel of the order: cancel the order instead")
        share = Money(amount=sum(s.amount.amount for s in chosen), currency=self.currency)
        removed = Counter[str]()
        for shipment in chosen:
            removed.update({item.sku: item.quantity for item in shipment.lines})
        kept: list[OrderLine] = []
        for line in self.lines:
            gone = min(removed[line.sku], line.quantity)
            if gone:
                part = line.model_copy(update={
                    "quantity": gone, "line_total": Money(amount=line.unit_price.amount * gone, currency=self.currency),
                    "tax": Money(amount=line.tax.amount * gone // line.quantity, currency=self.currency)})
                self.cancelled_lines = [*self.cancelled_lines, part]
            if gone < line.quantity:
                kept.append(line if not gone else line.model_copy(update={
                    "quantity": line.quantity - gone, "line_total": line.line_total - part.line_total,
                    "tax": line.tax - part.tax}))
        self.lines = kept
        t = self.totals
        wrap = t.gift_wrap or Money.zero(self.currency)  # a gift's wrap fee is shared by its parcels too
        cod = t.cod_fee or Money.zero(self.currency)  # and cash on delivery's fee
        subtotal, shipping, tax, wrapping, cod_part = (
            Money(amount=part, currency=self.currency) for part in
            _portions(share.amount, [t.subtotal.amount, t.shipping.amount, t.tax.amount, wrap.amount, cod.amount]))
        self.totals = t.model_copy(update={"subtotal": t.subtotal - subtotal, "shipping": t.shipping - shipping,
                                           "tax": t.tax - tax, "total": t.total - share,
                                           "gift_wrap": wrap - wrapping if t.gift_wrap else None,
                                           "cod_fee": cod - cod_part if t.cod_fee else None})
        for shipment in chosen:
            shipment.cancelled, shipment.amount = True, Money.zero(self.currency)
            self._touch(shipment)
        self.payment, given = self.payment.give_back(share)
        self._record(TimelineKind.SHIPMENTS_CANCELLED, at, ref, shipments=",".join(s.shipment_id for s in chosen),
                     items=",".join(f"{sku}:{quantity}" for sku, quantity in sorted(removed.items())),
                     given_back=str(share.amount), currency=self.currency)
        self._complete_if_every_parcel_done(at)  # the others may all have arrived already
        return given

    def change_contact(self, contact: Contact, at: str, ref: str) -> None:
        """How the customer hears about the order (email, SMS or both) and in which language, from the next message
        on. The email address is who the order belongs to: it does not change here."""
        self.apply(OrderEvent.CHANGE_CONTACT)
        if contact.email != self.contact.email:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.CHANGE_CONTACT.value,
                                    "the email address the order was placed with does not change")
        if contact == self.contact:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.CHANGE_CONTACT.value,
                                    "that is already how the customer hears from us")
        self.contact = contact
        self._contact_changed = True
        self._record(TimelineKind.CONTACT_CHANGED, at, ref, channel=contact.preferred_channel,
                     language=contact.language)

    def _ask_less(self, totals: Totals) -> GivenBack:
        """The order now costs `totals`: the parcels not yet shipped carry the difference less (in proportion to
        what each carries) and the payment gives it back."""
        drop = self.totals.total - totals.total
        waiting = [s for s in self.active_shipments if not s.has_shipped]
        for shipment, part in zip(waiting, _portions(drop.amount, [s.amount.amount for s in waiting]), strict=True):
            shipment.amount = shipment.amount - Money(amount=part, currency=self.currency)
            self._touch(shipment)
        self.totals = totals
        self.payment, given = self.payment.give_back(drop)
        return given

    def refund(self, amount: Money, at: str, ref: str, *, shipment_id: str | None = None,
               reason: str = "refund") -> None:
        """Give back part of what was captured (never more than captured minus what was already refunded), with a
        credit note correcting the shipment's invoice (`shipment_id`), else the order's invoices."""
        self.apply(OrderEvent.REFUND)
        if amount.amount <= 0:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.REFUND.value,
                                    "a refund must be more than zero")
        refundable = self.refundable
        if amount.currency != self.currency or amount.amount > refundable.amount:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.REFUND.value,
                                    f"at most {refundable.amount} {self.currency} minor units can be refunded")
        self.payment = self.payment.model_copy(update={"refunded": self.payment.refunded + amount})
        self._record(TimelineKind.REFUNDED, at, ref, amount=str(amount.amount), currency=amount.currency)
        self.issue(credit_note_for_amount(self, amount.amount, at, ref, reason, shipment_id))

    # --- returns (the decisions are dawra.domain.returns'; here, only what the aggregate keeps) ---------------------
    def add_return(self, ret: Return) -> None:
        self.apply(OrderEvent.REQUEST_RETURN)
        self.returns.append(ret)
        self._changed_returns.add(ret.return_id)

    def return_changed(self, ret: Return, kind: TimelineKind, at: str, detail: Mapping[str, str], *,
                       header: bool = False, occurrence: str | None = None) -> None:
        """One of its returns moved: it is committed with the order (the header too when `header`: its money
        changed, or a request must not race another), and the timeline says what happened, once per return (once
        per `occurrence` for a step that may happen again: a courier pickup missed, or moved)."""
        was = self._header_changed
        self.apply(OrderEvent.RETURN_STEP)
        self._header_changed = was or header
        self._changed_returns.add(ret.return_id)
        parts = (ret.return_id, occurrence) if occurrence else (ret.return_id,)
        self._record(kind, at, *parts, **{**detail, "return_id": ret.return_id})

    def hold_replacement(self, ret: Return, shipment: Shipment, at: str) -> Shipment:
        """An exchange's replacement is held for the customer (its stock reserved in the same commit): a shipment
        of the order that belongs to the return, with nothing to capture (the returned items paid for it)."""
        self.apply(OrderEvent.SEND_REPLACEMENT)
        if shipment.amount.amount or shipment.for_return != ret.return_id:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.SEND_REPLACEMENT.value,
                                    "a replacement belongs to its return and is never charged")
        self.shipments.append(shipment)
        self._touch(shipment)
        ret.replacement_id = shipment.shipment_id
        held = TimelineKind.CLAIM_REPLACEMENT_HELD if ret.is_claim else TimelineKind.RETURN_EXCHANGE_RESERVED
        self.return_changed(ret, held, at, {
            "shipment_id": shipment.shipment_id, "location_id": shipment.location_id, "promised_by":
            shipment.promised_by or "", "items": ",".join(f"{line.sku}:{line.quantity}" for line in shipment.lines)})
        return shipment

    def ship_replacement(self, shipment_id: str, *, carrier: str, tracking_number: str, label_url: str,
                         at: str) -> Shipment:
        """A return's replacement is handed to the carrier (nothing captured); the order's status stays."""
        shipment = self.shipment(shipment_id)
        self.apply(OrderEvent.SEND_REPLACEMENT)
        if shipment.for_return is None or shipment.cancelled:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.SEND_REPLACEMENT.value,
                                    f"shipment {shipment_id} is not a return's replacement still to send")
        shipment.apply(ShipmentEvent.BOOK)
        shipment.carrier, shipment.tracking_number, shipment.label_url = carrier, tracking_number, label_url
        shipment.label_created_at = at
        self._touch(shipment)
        ret = self.return_of(shipment.for_return)
        sent = TimelineKind.CLAIM_REPLACEMENT_SHIPPED if ret.is_claim else TimelineKind.RETURN_EXCHANGE_SHIPPED
        self.return_changed(ret, sent, at, {
            "shipment_id": shipment_id, "carrier": carrier, "tracking_number": tracking_number,
            "promised_by": shipment.promised_by or ""})
        return shipment

    def drop_replacement(self, shipment_id: str, at: str) -> Shipment:
        """A replacement that never left is let go (its return ended without the goods): the caller releases its
        reservation in the same commit. One that left is never undone here."""
        shipment = self.shipment(shipment_id)
        self.apply(OrderEvent.SEND_REPLACEMENT)
        if shipment.for_return is None or shipment.has_shipped:
            raise IllegalTransition(self.order_id, self.status.value, OrderEvent.SEND_REPLACEMENT.value,
                                    f"shipment {shipment_id} has left: a person decides")
        shipment.cancelled = True
        self._touch(shipment)
        ret = self.return_of(shipment.for_return)
        self.return_changed(ret, TimelineKind.RETURN_EXCHANGE_RELEASED, at, {"shipment_id": shipment_id})
        return shipment

    def keep_return_report(self, return_id: str, report: TrackingEvent) -> None:
        """A carrier report on a return's label is applied: the return keeps its digest (a copy of it is known for
        a duplicate: TrackingEvent.applied_to), as a shipment does in record_tracking."""
        ret = self.return_of(return_id)
        ret.reports = report.kept_with(ret.reports)
        self.touch_return(return_id)

    def touch_return(self, return_id: str) -> None:
        """A return's own bookkeeping changed (not its status, e.g. the token its workflow waits on)."""
        self._changed_returns.add(self.return_of(return_id).return_id)

    def note(self) -> None:
        """An internal note changes nothing on the order itself; the table still says where one may be added."""
        self.apply(OrderEvent.ADD_NOTE)
        self._header_changed = False

    def revoke_links(self) -> None:
        """Every order link given out so far stops working (a new message carries a link under the new version)."""
        self.link_version += 1
        self._header_changed = True

    def send_link(self, at: str, ref: str) -> None:
        """The customer asked for their order's link (a guest lookup that matched): the notifier sends it to the
        order's contact. `ref` names the request; the same ref again is the same event, so it is sent once."""
        self._record(TimelineKind.ORDER_LINK_REQUESTED, at, ref)

    def resend(self, event: TimelineEvent, at: str, ref: str) -> None:
        """Send a customer message again: a new timeline event pointing at the one whose message it repeats."""
        self.apply(OrderEvent.RESEND_MESSAGE)
        self._header_changed = False
        self._record(TimelineKind.MESSAGE_RESENT, at, ref, of=event.event_id, message=event.kind.value)


@dataclass(frozen=True)
class Repricing:
    """What a new address changes besides where the parcels go: the order's totals with that address's shipping
    charge, its shipping zone, and the promise of each location still to send a parcel (location id -> UTC date)."""

    totals: Totals
    zone: str
    promises: Mapping[str, str]


def _portions(total: int, caps: list[int]) -> list[int]:
    """`total` taken from parts as large as `caps`, in proportion to them and never more than a part holds (at most
    their sum is taken). Integer minor units: the portions add up exactly."""
    if not caps or sum(caps) == 0:
        return [0] * len(caps)
    total = min(total, sum(caps))
    portions = [min(cap, part) for cap, part in zip(caps, split_amount(total, caps), strict=True)]
    short = total - sum(portions)
    for index, cap in enumerate(caps):
        extra = min(short, cap - portions[index])
        portions[index] += extra
        short -= extra
    return portions


# What a carrier report that moved a shipment puts on the timeline, and what side reports do (they move nothing).
_MOVED_KIND: dict[ShipmentStatus, TimelineKind] = {
    ShipmentStatus.IN_TRANSIT: TimelineKind.SHIPMENT_IN_TRANSIT,
    ShipmentStatus.OUT_FOR_DELIVERY: TimelineKind.SHIPMENT_OUT_FOR_DELIVERY,
    ShipmentStatus.DELIVERED: TimelineKind.SHIPMENT_DELIVERED,
    ShipmentStatus.RETURNING: TimelineKind.SHIPMENT_RETURNING,
    ShipmentStatus.RETURNED: TimelineKind.SHIPMENT_RETURNED,
}
_SIDE_KIND: dict[TrackingStatus, TimelineKind] = {
    TrackingStatus.ATTEMPTED: TimelineKind.DELIVERY_ATTEMPTED,
    TrackingStatus.EXCEPTION: TimelineKind.DELIVERY_EXCEPTION,
    TrackingStatus.AVAILABLE_FOR_PICKUP: TimelineKind.AVAILABLE_FOR_PICKUP,
}


def _said(report: TrackingEvent) -> dict[str, str]:
    """What the carrier said, for the timeline (its word and where, as it said them)."""
    return {"carrier_status": report.carrier_status[:64], **({"location": report.location} if report.location else {})}


def state_diagram() -> str:
    """The transition table as a Mermaid state diagram (docs/architecture.md embeds it; a test keeps them equal).
    Events that leave the status as it is are listed in a note beside each status they are allowed in."""
    lines = ["stateDiagram-v2", f"    [*] --> {INITIAL.value}: place"]
    for event, transition in TRANSITIONS.items():
        if transition.to is None:
            continue
        for source in (status for status in OrderStatus if status in transition.allowed_from):
            lines.append(f"    {source.value} --> {transition.to.value}: {event.value}")
    lines += [f"    {status.value} --> [*]" for status in OrderStatus if status in TERMINAL]
    for status in OrderStatus:
        staying = [e.value for e, t in TRANSITIONS.items() if t.to is None and status in t.allowed_from]
        if staying:
            lines.append(f"    note right of {status.value}: {', '.join(staying)}")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m dawra.domain.order: the diagram docs/architecture.md embeds
    print(state_diagram())


LEGACY_LINK_PAYMENT_REASON = "awaiting payment by link"  # what a payment-link order's hold said before hold kinds


def _legacy_kind(reason: str) -> HoldKind:
    """The kind of a hold stored before kinds existed: a payment link's said so in its reason; any other was an
    operator's."""
    return HoldKind.AWAITING_LINK_PAYMENT if reason == LEGACY_LINK_PAYMENT_REASON else HoldKind.OPERATOR
