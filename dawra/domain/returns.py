"""Returns: the merchant's return policies (data, versioned), what a customer may send back and what they get for it,
and a return's own lifecycle, as a child of the order aggregate (like a shipment).

Policies are data (`return_policies.json` beside this module), validated when loaded. Checkout stamps each order line
with the reference (`policy@version`) of the policy that applied when it was placed, and the order is judged by that
version forever; a line without one (placed before policies existed) is judged by version 1 of the default.

A return's status changes only through `Return.apply`, which consults only `RETURN_TRANSITIONS`; the functions below
decide each step on the order (eligibility, money) and record it on the order's timeline, so a unit of work commits
the order, the return, any stock and the timeline events together.

Money: per returned unit its unit price and its share of the line's tax; the original shipping charge (with its tax)
only when every delivered unit has come back for the merchant's fault; minus a restocking fee (a share of the items,
waived for the merchant's fault) and the customer's return shipping (waived for the merchant's fault, none for a
store drop-off); never below zero, and never more than is left to give back (captured, less refunded, less store
credit given). Cash-on-delivery orders are never refunded to "the original payment": store credit or a bank transfer.
"""

from __future__ import annotations

import enum
import hashlib
import string
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from dawra.domain.errors import IllegalTransition, InvalidCustomerDetails
from dawra.domain.invoicing import credit_note_for_return
from dawra.domain.money import Money
from dawra.domain.time import iso
from dawra.domain.timeline import TimelineKind

if TYPE_CHECKING:
    from dawra.domain.order import Order, OrderLine
    from dawra.domain.pricing import CatalogItem

POLICIES_FILE = Path(__file__).with_name("return_policies.json")
CASH_ON_DELIVERY = "cash_on_delivery"  # dawra.domain.order's provider name (not imported: order.py imports this)
MAX_COMMENT = 500


# --- the words --------------------------------------------------------------------------------------------------
class ReturnReason(enum.StrEnum):
    CHANGED_MIND = "changed_mind"
    WRONG_SIZE = "wrong_size"
    NOT_AS_DESCRIBED = "not_as_described"
    DAMAGED = "damaged"  # it arrived damaged
    WRONG_ITEM = "wrong_item"  # we sent something else
    OTHER = "other"


# The merchant's fault: the merchant pays the return shipping and no restocking fee is taken.
MERCHANT_FAULT = frozenset({ReturnReason.DAMAGED, ReturnReason.WRONG_ITEM, ReturnReason.NOT_AS_DESCRIBED})


class ReturnMethod(enum.StrEnum):
    LABEL = "label"  # the customer prints a label and drops the parcel at the carrier
    PICKUP = "pickup"  # a courier collects it
    STORE = "store"  # the customer brings it to a store location (no label: instructions)


class PickupWindow(enum.StrEnum):
    """When in a pickup day the courier comes (the customer's local time)."""

    MORNING = "morning"  # 09:00-13:00
    AFTERNOON = "afternoon"  # 13:00-17:00


class PickupSlot(BaseModel):
    """A day and a window a courier can collect a return: what the carrier offers, what the customer chooses, what
    the booking says."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    day: date
    window: PickupWindow

    @property
    def key(self) -> str:
        """How a form names it ("2026-11-29.morning")."""
        return f"{self.day.isoformat()}.{self.window.value}"

    @classmethod
    def parse(cls, key: str) -> PickupSlot | None:
        day, _, window = key.strip().partition(".")
        try:
            return cls(day=date.fromisoformat(day), window=PickupWindow(window))
        except ValueError:
            return None


class PickupNotOffered(InvalidCustomerDetails):
    """A courier pickup asked for without a slot, or on a day and window the carrier does not offer: `offered`
    lists the ones it does."""

    def __init__(self, message: str, offered: Sequence[PickupSlot]):
        super().__init__(message, field="pickup")
        self.offered = list(offered)


def check_pickup(method: ReturnMethod, pickup: PickupSlot | None, offered: Sequence[PickupSlot]) -> None:
    """A courier pickup names one of the slots the carrier offers; any other way back names none."""
    if method != ReturnMethod.PICKUP:
        if pickup is not None:
            raise InvalidCustomerDetails("a pickup day goes with a courier pickup only", field="pickup")
        return
    said = ", ".join(f"{slot.day.isoformat()} {slot.window.value}" for slot in offered) or "none"
    if pickup is None:
        raise PickupNotOffered(f"a courier pickup needs a day and window: choose one of {said}", offered)
    if pickup not in offered:
        raise PickupNotOffered(f"no courier pickup on {pickup.day.isoformat()} {pickup.window.value}: choose one of "
                               f"{said}", offered)


class RefundMethod(enum.StrEnum):
    ORIGINAL_PAYMENT = "original_payment"
    STORE_CREDIT = "store_credit"
    EXCHANGE = "exchange"  # another size or variant of the same price, sent as a replacement: nothing refunded
    BANK_TRANSFER = "bank_transfer"  # cash-on-delivery orders only: to an IBAN the customer gives


class ReturnKind(enum.StrEnum):
    RETURN = "return"  # the items come back: label or store, inspection, then the money
    CLAIM = "claim"  # "arrived damaged" or "item missing": nothing comes back; refunded or sent again (return_claims)


class ClaimReason(enum.StrEnum):
    ARRIVED_DAMAGED = "arrived_damaged"
    ITEM_MISSING = "item_missing"


class ClaimRemedy(enum.StrEnum):
    """What the customer asks for in a claim (an agent may decide otherwise, saying so)."""

    REFUND = "refund"
    RESHIP = "reship"  # the same items sent again, as a replacement shipment of the order


class Condition(enum.StrEnum):
    """What the policy asks of a returned item (shown to the customer; the warehouse's inspection judges it)."""

    UNOPENED = "unopened"
    UNUSED = "unused"
    TAGS_ATTACHED = "tags_attached"
    ORIGINAL_PACKAGING = "original_packaging"


class InspectionOutcome(enum.StrEnum):
    SELLABLE = "sellable"  # back on hand at the receiving location
    DAMAGED = "damaged"  # quarantined at the receiving location (or written off there), with a note
    TAMPERED = "tampered"  # quarantined at the receiving location (or written off there), with a note
    WRONG_ITEM = "wrong_item"  # not what was sold: that line is rejected, nothing refunded for it
    MISSING = "missing"  # not in the parcel: that line is rejected, nothing refunded for it


RESTOCKED = frozenset({InspectionOutcome.SELLABLE})
QUARANTINED = frozenset({InspectionOutcome.DAMAGED, InspectionOutcome.TAMPERED})
REFUSED = frozenset({InspectionOutcome.WRONG_ITEM, InspectionOutcome.MISSING})


class Disposition(enum.StrEnum):
    """What becomes of a damaged or tampered line's units, the inspector's choice (the note says why)."""

    QUARANTINE = "quarantine"  # counted as quarantined at the receiving location, until written off or released
    WRITE_OFF = "write_off"  # gone at once: counted nowhere, the write-off recorded on the line and in the audit


class NotReturnable(enum.StrEnum):
    """Why a line cannot be returned (the customer's page words each; `explain` says it in English)."""

    FINAL_SALE = "final_sale"
    NOT_DELIVERED = "not_delivered"
    WINDOW_ENDED = "window_ended"
    ALREADY_RETURNED = "already_returned"


class ReturnRefused(IllegalTransition):
    """A return step its status does not allow, or a request the order's lines do not allow (the reason in words)."""

    def __init__(self, subject: str, status: str, event: str, why: str | None = None):
        super().__init__(subject, status, event, why)
        self.message = f"{subject} is {status}; {event} is not allowed" + (f": {why}" if why else "")
        self.args = (self.message,)


# --- policies ---------------------------------------------------------------------------------------------------
PolicyId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]


class ReturnPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: PolicyId
    version: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=100)
    window_days: int = Field(ge=0, le=365)  # from delivery
    final_sale: bool = False
    approval_required: bool = False
    conditions: tuple[Condition, ...] = ()
    restocking_fee_bps: int = Field(default=0, ge=0, le=5000)  # of the items, unless the merchant is at fault
    customer_return_shipping: int = Field(default=0, ge=0, le=100_000)  # minor units, label or pickup
    refund_options: tuple[RefundMethod, ...] = Field(min_length=1)
    claim_window_days: int = Field(default=3, ge=0, le=60)  # "arrived damaged / missing" claims, from delivery
    auto_settle_claims_up_to: int = Field(default=0, ge=0)  # minor units: a claim under this settles by itself
    # The merchant trusts customers with these items: an exchange's replacement leaves as soon as the exchange is
    # approved, before the returned items come back (otherwise when they arrive).
    exchange_ships_first: bool = False

    @model_validator(mode="after")
    def _coherent(self) -> ReturnPolicy:
        if not self.final_sale and self.window_days == 0:
            raise ValueError(f"policy {self.ref}: a returnable policy needs a window of at least one day")
        if len(set(self.refund_options)) != len(self.refund_options):
            raise ValueError(f"policy {self.ref}: a refund option is listed twice")
        if RefundMethod.BANK_TRANSFER in self.refund_options:
            raise ValueError(f"policy {self.ref}: bank_transfer is how cash-on-delivery orders get the original "
                             "payment back, not a policy option")
        return self

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"


class ReturnPolicies(BaseModel):
    """The merchant's policy book: every published version of every policy, which policy applies per SKU, per
    category, and by default (each names a policy; its latest version applies to new orders)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    comment: str = ""
    policies: tuple[ReturnPolicy, ...] = Field(min_length=1)
    default: PolicyId
    categories: dict[str, PolicyId] = Field(default_factory=dict)
    skus: dict[str, PolicyId] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _every_reference_known(self) -> ReturnPolicies:
        versions: dict[str, list[int]] = {}
        for policy in self.policies:
            versions.setdefault(policy.id, []).append(policy.version)
        for policy_id, found in versions.items():
            if sorted(found) != list(range(1, len(found) + 1)):
                raise ValueError(f"policy {policy_id!r}: its versions must be 1, 2, ... each once (found "
                                 f"{sorted(found)})")
        named = [("default", self.default)] + [(f"categories[{k!r}]", v) for k, v in self.categories.items()] + [
            (f"skus[{k!r}]", v) for k, v in self.skus.items()]
        for where, policy_id in named:
            if policy_id not in versions:
                raise ValueError(f"{where} names policy {policy_id!r}, which the book does not have")
        return self

    def current(self, policy_id: str) -> ReturnPolicy:
        return max((p for p in self.policies if p.id == policy_id), key=lambda p: p.version)

    def ref_for(self, sku: str, category: str | None) -> str:
        """The policy a new order's line is sold under: the SKU's own, else its category's, else the default."""
        policy_id = self.skus.get(sku) or (self.categories.get(category) if category else None) or self.default
        return self.current(policy_id).ref

    @property
    def legacy_ref(self) -> str:
        """What a line stamped with no policy (sold before policies existed) is judged by."""
        return f"{self.default}@1"

    def resolve(self, ref: str | None) -> ReturnPolicy:
        wanted = ref or self.legacy_ref
        for policy in self.policies:
            if policy.ref == wanted:
                return policy
        raise ValueError(f"no return policy {wanted!r} in the book")


def load_policies(text: str) -> ReturnPolicies:
    """A policy book from its JSON; ValueError (pydantic's, naming what is wrong) if it is not valid."""
    return ReturnPolicies.model_validate_json(text)


@cache
def default_policies() -> ReturnPolicies:
    """The merchant's book shipped beside this module, validated once per process."""
    return load_policies(POLICIES_FILE.read_text(encoding="utf-8"))


# --- IBANs (bank transfers for cash-on-delivery refunds) ---------------------------------------------------------
IBAN_LENGTHS = {
    "SA": 24, "AE": 23, "KW": 30, "BH": 22, "QA": 29, "OM": 23, "JO": 30, "EG": 29, "LB": 28, "IQ": 23, "TR": 26,
    "PK": 24, "GB": 22, "IE": 22, "DE": 22, "FR": 27, "NL": 18, "BE": 16, "ES": 24, "IT": 27, "PT": 25, "CH": 21,
    "AT": 20, "SE": 24, "NO": 15, "DK": 18, "FI": 18, "PL": 28,
}


def bank_account_for(method: RefundMethod, typed: str | None) -> str | None:
    """The account a refund by bank transfer goes to, checked (InvalidCustomerDetails when it is missing or not a
    valid IBAN); None for any other refund method. A return's and a claim's."""
    if method != RefundMethod.BANK_TRANSFER:
        return None
    if not typed:
        raise InvalidCustomerDetails("a refund by bank transfer needs the IBAN to send it to", field="iban")
    return valid_iban(typed)


def valid_iban(text: str) -> str:
    """The IBAN in its electronic form (no spaces, upper case), or InvalidCustomerDetails saying what is wrong: an
    unknown country, the wrong length for its country, or check digits that do not match (ISO 13616, mod 97)."""
    iban = "".join(text.split()).upper()
    if len(iban) < 5 or not iban.isalnum() or not iban.isascii():
        raise InvalidCustomerDetails("an IBAN is letters and digits, starting with its country code", field="iban")
    length = IBAN_LENGTHS.get(iban[:2])
    if length is None:
        raise InvalidCustomerDetails(f"we cannot transfer to IBANs of {iban[:2]}", field="iban")
    if len(iban) != length:
        raise InvalidCustomerDetails(f"an IBAN of {iban[:2]} has {length} characters, not {len(iban)}", field="iban")
    digits = "".join(str(string.ascii_uppercase.index(ch) + 10) if ch.isalpha() else ch for ch in iban[4:] + iban[:4])
    if int(digits) % 97 != 1:
        raise InvalidCustomerDetails("this IBAN's check digits do not match: please check it", field="iban")
    return iban


# --- a return -----------------------------------------------------------------------------------------------------
# What a return's workflow parks on a return for: an agent's approval, the parcel, the warehouse's inspection.
ReturnWait = Literal["approval", "parcel", "inspection"]


class ReturnStatus(enum.StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    DECLINED = "declined"
    EXPIRED = "expired"  # nobody approved it in time
    LABEL_ISSUED = "label_issued"
    AWAITING_DROP_OFF = "awaiting_drop_off"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    INSPECTED = "inspected"
    REFUNDED = "refunded"
    EXCHANGED = "exchanged"  # an exchange: the returned items inspected, the replacement theirs
    REJECTED = "rejected"  # nothing to refund: every line was the wrong item or missing
    LABEL_EXPIRED = "label_expired"  # the label was never used
    RESHIPPING = "reshipping"  # a claim: its items are sent again (the replacement held, then on its way)
    CLOSED = "closed"


class ReturnEvent(enum.StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    EXPIRE = "expire"
    ISSUE_LABEL = "issue_label"
    AWAIT_DROP_OFF = "await_drop_off"
    IN_TRANSIT = "in_transit"
    RECEIVE = "receive"
    INSPECT = "inspect"
    REFUND = "refund"
    EXCHANGE = "exchange"
    REJECT = "reject"
    EXPIRE_LABEL = "expire_label"
    CLOSE = "close"
    REFUND_CLAIM = "refund_claim"  # a claim settled with money (by its policy or an agent)
    RESHIP = "reship"  # a claim settled by sending the items again
    PICKUP_MISSED = "pickup_missed"  # the carrier says its courier did not come for the day booked
    CHANGE_PICKUP = "change_pickup"  # the customer moved the courier to another day the carrier offers


R, E = ReturnStatus, ReturnEvent
# A return's lifecycle in one screen: event -> (the statuses it may happen in, the status it leads to). A parcel
# may be received without an in-transit scan (carriers miss scans).
RETURN_TRANSITIONS: dict[ReturnEvent, tuple[frozenset[ReturnStatus], ReturnStatus]] = {
    E.APPROVE: (frozenset({R.REQUESTED}), R.APPROVED),
    E.DECLINE: (frozenset({R.REQUESTED}), R.DECLINED),
    E.EXPIRE: (frozenset({R.REQUESTED}), R.EXPIRED),
    E.ISSUE_LABEL: (frozenset({R.APPROVED}), R.LABEL_ISSUED),
    E.AWAIT_DROP_OFF: (frozenset({R.APPROVED}), R.AWAITING_DROP_OFF),
    E.IN_TRANSIT: (frozenset({R.LABEL_ISSUED}), R.IN_TRANSIT),
    E.RECEIVE: (frozenset({R.LABEL_ISSUED, R.IN_TRANSIT, R.AWAITING_DROP_OFF}), R.RECEIVED),
    E.INSPECT: (frozenset({R.RECEIVED}), R.INSPECTED),
    E.REFUND: (frozenset({R.INSPECTED}), R.REFUNDED),
    E.EXCHANGE: (frozenset({R.INSPECTED}), R.EXCHANGED),
    E.REJECT: (frozenset({R.INSPECTED}), R.REJECTED),
    # An unused label, or a store drop-off not brought by its date, expires.
    E.EXPIRE_LABEL: (frozenset({R.LABEL_ISSUED, R.AWAITING_DROP_OFF}), R.LABEL_EXPIRED),
    E.CLOSE: (frozenset({R.REFUNDED, R.EXCHANGED, R.RESHIPPING}), R.CLOSED),
    # A claim (nothing comes back): settled from the request itself, or declined (DECLINE, above).
    E.REFUND_CLAIM: (frozenset({R.REQUESTED}), R.REFUNDED),
    E.RESHIP: (frozenset({R.REQUESTED}), R.RESHIPPING),
    # A courier pickup, while its label is issued and nothing has been picked up: the carrier's courier did not come,
    # or the customer moves it to another day. The status stays: the workflow still waits for the parcel.
    E.PICKUP_MISSED: (frozenset({R.LABEL_ISSUED}), R.LABEL_ISSUED),
    E.CHANGE_PICKUP: (frozenset({R.LABEL_ISSUED}), R.LABEL_ISSUED),
}
# Which events each kind knows: a claim is never approved, labelled, received or inspected; a return is never
# settled as a claim. `Return.can` and `Return.apply` consult this with the table.
KIND_EVENTS: dict[ReturnKind, frozenset[ReturnEvent]] = {
    ReturnKind.RETURN: frozenset(ReturnEvent) - {E.REFUND_CLAIM, E.RESHIP},
    ReturnKind.CLAIM: frozenset({E.DECLINE, E.REFUND_CLAIM, E.RESHIP, E.CLOSE}),
}
RETURN_TERMINAL = frozenset(s for s in ReturnStatus if not any(s in allowed for allowed, _ in
                                                                  RETURN_TRANSITIONS.values()))
# Ended without the goods coming back: its units may be asked to be returned again (within the window).
NOTHING_CAME_BACK = frozenset({R.DECLINED, R.EXPIRED, R.LABEL_EXPIRED})
# What each step tells the order's timeline.
STEP_KIND: dict[ReturnEvent, TimelineKind] = {
    E.APPROVE: TimelineKind.RETURN_APPROVED, E.DECLINE: TimelineKind.RETURN_DECLINED,
    E.EXPIRE: TimelineKind.RETURN_EXPIRED, E.ISSUE_LABEL: TimelineKind.RETURN_LABEL_ISSUED,
    E.AWAIT_DROP_OFF: TimelineKind.RETURN_AWAITING_DROP_OFF, E.IN_TRANSIT: TimelineKind.RETURN_IN_TRANSIT,
    E.RECEIVE: TimelineKind.RETURN_RECEIVED, E.INSPECT: TimelineKind.RETURN_INSPECTED,
    E.REFUND: TimelineKind.RETURN_REFUNDED, E.REJECT: TimelineKind.RETURN_REJECTED,
    E.EXCHANGE: TimelineKind.RETURN_EXCHANGED,
    E.EXPIRE_LABEL: TimelineKind.RETURN_LABEL_EXPIRED, E.CLOSE: TimelineKind.RETURN_CLOSED,
    E.PICKUP_MISSED: TimelineKind.RETURN_PICKUP_MISSED, E.CHANGE_PICKUP: TimelineKind.RETURN_PICKUP_CHANGED,
}
# A claim's steps tell the timeline in their own words (its messages are not a return's).
CLAIM_STEP_KIND: dict[ReturnEvent, TimelineKind] = {
    E.DECLINE: TimelineKind.CLAIM_DECLINED, E.REFUND_CLAIM: TimelineKind.CLAIM_REFUNDED,
    E.RESHIP: TimelineKind.CLAIM_RESHIP, E.CLOSE: TimelineKind.CLAIM_CLOSED,
}


class RefundBreakdown(BaseModel):
    """What a return gives back, and why: shown as the estimate before confirming, kept as the settlement."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    items: Money  # the returned units' prices
    tax: Money  # their share of their lines' tax (and the shipping's, when shipping is refunded)
    shipping: Money  # the original shipping charge (and a gift's wrap fee), when every delivered unit came back for
    # the merchant's fault
    restocking_fee: Money
    return_shipping: Money  # what the customer pays for the label or the pickup
    total: Money  # never below zero, never more than is left to give back
    capped: bool = False  # less than the sum says: no more was left to give back


class ExchangeItem(BaseModel):
    """What an exchange sends instead of a returned line: another size or variant, named as the catalog named it
    when it was asked for (in every language the catalog gave), as an order line carries its title."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    sku: str
    title: str
    titles: dict[str, str] = Field(default_factory=dict)

    def title_in(self, language: str) -> str:
        return self.titles.get(language, self.title)


class ReturnLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    sku: str
    quantity: int = Field(ge=1)
    reason: ReturnReason
    comment: str = Field(default="", max_length=MAX_COMMENT)
    policy: str  # the policy reference the order line was sold under
    outcome: InspectionOutcome | None = None
    note: str | None = Field(default=None, max_length=MAX_COMMENT)  # the warehouse's, on inspection
    disposition: Disposition | None = None  # a damaged or tampered line's units: quarantined or written off
    refund: Money | None = None  # this line's part of the settlement (items and tax, before deductions)
    exchange: ExchangeItem | None = None  # an exchange: what is sent instead (the same quantity)

    @property
    def merchant_fault(self) -> bool:
        return self.reason in MERCHANT_FAULT

    @property
    def holds_units(self) -> bool:
        """Its units are (or are on their way) back: not a wrong or missing item found at inspection."""
        return self.outcome not in REFUSED


class Return(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, defer_build=True)

    return_id: str = Field(pattern=r"^ret_[0-9a-f]{20}$")
    order_id: str
    status: ReturnStatus = ReturnStatus.REQUESTED
    lines: list[ReturnLine] = Field(min_length=1)
    kind: ReturnKind = ReturnKind.RETURN
    method: ReturnMethod | None = None  # how it comes back; None for a claim (nothing comes back)
    refund_method: RefundMethod  # a claim: how money goes back if it is refunded
    location_id: str  # where it comes back to
    estimate: RefundBreakdown
    settlement: RefundBreakdown | None = None
    refunded: Money | None = None  # paid out (or given as store credit), once settled
    bank_account: str | None = None  # the IBAN of a cash-on-delivery refund by bank transfer (never logged)
    # A courier pickup: the day (ISO date, local) and window asked for, then the ones the carrier booked.
    pickup_on: str | None = None
    pickup_window: PickupWindow | None = None
    pickup_booked_at: str | None = None  # when the courier's current day was booked (with the label, or moved)
    pickup_missed_on: str | None = None  # the last booked day the carrier said its courier missed
    approval_required: bool = False
    fingerprint: str  # what the request asked: the same request key with another request is refused
    requested_at: str
    decided_at: str | None = None
    decided_by: str | None = None  # "policy" when no approval was needed, else the agent's user id
    decline_reason: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    label_issued_at: str | None = None
    label_expires_at: str | None = None
    received_at: str | None = None
    inspected_at: str | None = None
    refunded_at: str | None = None
    closed_at: str | None = None
    # An exchange: the shipment that sends the replacement (held at approval), and whether it leaves before the
    # returned items come back (the policy trusts the customer) or once they arrive.
    replacement_id: str | None = None
    ship_exchange_first: bool = False
    # A claim: what went wrong, what the customer asked for, and the value under which its policies settle it
    # without a person (the smallest of its lines' policies' `auto_settle_claims_up_to`).
    claim_reason: ClaimReason | None = None
    claim_remedy: ClaimRemedy | None = None
    auto_settle_up_to: int = 0
    # Opaque handle the return's workflow waits on (a Step Functions task token); never shown. `resume_for` names the
    # wait it ends (approval, parcel, inspection), so news is only ever handed to the wait it belongs to.
    resume_token: str | None = None
    resume_for: ReturnWait | None = None
    reports: list[str] = Field(default_factory=list)  # digests of its label's carrier reports applied
    version: int = 0

    def can(self, event: ReturnEvent) -> bool:
        return event in KIND_EVENTS[self.kind] and self.status in RETURN_TRANSITIONS[event][0]

    def apply(self, event: ReturnEvent) -> ReturnStatus:
        """The one way a return's status changes."""
        _, to = RETURN_TRANSITIONS[event]
        if not self.can(event):
            raise ReturnRefused(f"return {self.return_id}", self.status.value, event.value)
        self.status = to
        return to

    @property
    def is_open(self) -> bool:
        return self.status not in RETURN_TERMINAL

    @property
    def units(self) -> Counter[str]:
        """The units this return holds against the order's lines (none once nothing came back)."""
        if self.status in NOTHING_CAME_BACK:
            return Counter()
        return Counter({line.sku: line.quantity for line in self.lines if line.holds_units})

    @property
    def is_exchange(self) -> bool:
        return self.refund_method == RefundMethod.EXCHANGE

    @property
    def is_claim(self) -> bool:
        return self.kind == ReturnKind.CLAIM

    @property
    def pickup(self) -> PickupSlot | None:
        if self.pickup_on is None or self.pickup_window is None:
            return None
        return PickupSlot(day=date.fromisoformat(self.pickup_on), window=self.pickup_window)

    @property
    def exchange_units(self) -> dict[str, int]:
        """What an exchange sends (replacement sku -> units); a claim settled by a reship: its own lines again."""
        units: Counter[str] = Counter()
        if self.is_claim:
            return dict(Counter({line.sku: line.quantity for line in self.lines}))
        for line in self.lines:
            if line.exchange is not None:
                units[line.exchange.sku] += line.quantity
        return dict(units)

    @property
    def store_credit(self) -> int:
        """Store credit given for it (minor units): counted against what the order can still give back."""
        paid = self.refunded.amount if self.refunded else 0
        return paid if self.refund_method == RefundMethod.STORE_CREDIT else 0


def return_id_for(order_id: str, request_key: str) -> str:
    """One request (the customer's key) on one order is one return: a retried request finds it."""
    return "ret_" + hashlib.sha256(f"{order_id}|{request_key}".encode()).hexdigest()[:20]


# --- what may be returned -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Returnable:
    """One order line as the order page shows it: how many units may be returned now, or why none."""

    sku: str
    ordered: int
    delivered: int
    returned: int  # in returns open or done
    quantity: int  # may be returned now
    policy: ReturnPolicy
    window_ends: date | None  # the last day a return may be asked for (None: not delivered yet)
    why_not: NotReturnable | None

    def explain(self) -> str | None:
        """Why not, in English (the pages word it in the customer's language from `why_not`)."""
        return {None: None, NotReturnable.FINAL_SALE: "final sale: it cannot be returned",
                NotReturnable.NOT_DELIVERED: "not delivered yet",
                NotReturnable.WINDOW_ENDED: f"the return window ended on {self.window_ends}",
                NotReturnable.ALREADY_RETURNED: "already returned"}[self.why_not]


def delivered_units(order: Order) -> tuple[Counter[str], dict[str, date]]:
    """Units delivered per SKU (never more than the line ordered) and when the last of them arrived (UTC day)."""
    units: Counter[str] = Counter()
    last: dict[str, date] = {}
    for shipment in order.shipments:
        if not shipment.is_delivered or shipment.delivered_at is None or shipment.for_return:
            continue
        day = datetime.fromisoformat(shipment.delivered_at).date()
        for line in shipment.lines:
            units[line.sku] += line.quantity
            last[line.sku] = max(last.get(line.sku, day), day)
    ordered = order.wanted
    return Counter({sku: min(n, ordered.get(sku, 0)) for sku, n in units.items()}), last


def returned_units(order: Order, *, excluding: str | None = None) -> Counter[str]:
    total: Counter[str] = Counter()
    for ret in order.returns:
        if ret.return_id != excluding:
            total.update(ret.units)
    return total


def held_lines(order: Order, policies: ReturnPolicies, window_days: Callable[[ReturnPolicy], int],
               ) -> Iterator[tuple[OrderLine, ReturnPolicy, int, int, date | None]]:
    """Per order line: its policy, the units delivered, those of them already held by returns or claims (open or
    done), and the last day of `window_days` (of its policy) after the last of them arrived (None: none arrived).
    What `returnable` and a claim's `claimable` both judge from."""
    delivered, last = delivered_units(order)
    held = returned_units(order)
    for line in order.lines:
        policy = policies.resolve(line.return_policy)
        ends = last[line.sku] + timedelta(days=window_days(policy)) if line.sku in last else None
        yield line, policy, delivered[line.sku], min(held[line.sku], delivered[line.sku]), ends


# Why a line cannot go back (or be claimed for) as asked: a reason of its own, or one about the request itself.
NOT_IN_ORDER: Literal["not_in_order"] = "not_in_order"
TOO_MANY: Literal["too_many"] = "too_many"
W_co = TypeVar("W_co", bound=enum.StrEnum, covariant=True)


class Choice(Protocol[W_co]):
    """One order line as a form offers it (a `Returnable`, a claim's `Claimable`)."""

    @property
    def sku(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def why_not(self) -> W_co | None: ...
    def explain(self) -> str | None: ...


def refusals(choices: Sequence[Choice[W_co]], asked: Sequence[tuple[str, int]], can_be: str,
             ) -> list[tuple[str, int, int, W_co | Literal["not_in_order", "too_many"], str]]:
    """Each asked (sku, quantity) that cannot be had now: (sku, requested, how many may, why, why in English, with
    `can_be` saying what "may" is: "can be returned"); an empty list when every one can."""
    by_sku = {line.sku: line for line in choices}
    refused: list[tuple[str, int, int, W_co | Literal["not_in_order", "too_many"], str]] = []
    for sku, quantity in asked:
        line = by_sku.get(sku)
        if line is None:
            refused.append((sku, quantity, 0, NOT_IN_ORDER, f"the order has no item {sku}"))
        elif (why_not := line.why_not) is not None:
            refused.append((sku, quantity, 0, why_not, line.explain() or why_not.value))
        elif quantity > line.quantity:
            refused.append((sku, quantity, line.quantity, TOO_MANY, f"at most {line.quantity} {can_be}"))
    return refused


def returnable(order: Order, policies: ReturnPolicies, today: date) -> list[Returnable]:
    found = []
    for line, policy, got, back, ends in held_lines(order, policies, lambda p: p.window_days):
        why: NotReturnable | None = None
        if policy.final_sale:
            why = NotReturnable.FINAL_SALE
        elif got == 0:
            why = NotReturnable.NOT_DELIVERED
        elif ends is not None and today > ends:
            why = NotReturnable.WINDOW_ENDED
        elif back >= got:
            why = NotReturnable.ALREADY_RETURNED if back >= line.quantity else NotReturnable.NOT_DELIVERED
        found.append(Returnable(sku=line.sku, ordered=line.quantity, delivered=got, returned=back,
                                quantity=0 if why else got - back, policy=policy, window_ends=ends, why_not=why))
    return found


def refund_methods(order: Order, policies: Sequence[ReturnPolicy]) -> tuple[RefundMethod, ...]:
    """How the customer may be paid back for lines under these policies: what every one of them offers; for a
    cash-on-delivery order "the original payment" is a bank transfer (never a card refund)."""
    offered = [m for m in RefundMethod if all(m in p.refund_options for p in policies)]
    if order.payment.provider == CASH_ON_DELIVERY:
        offered = [RefundMethod.BANK_TRANSFER if m == RefundMethod.ORIGINAL_PAYMENT else m for m in offered]
    return tuple(offered)


# --- money --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Asked:
    """One line of a return as asked for (or as inspected: the lines that still count)."""

    sku: str
    quantity: int
    reason: ReturnReason


def _share(total: int, of: int, before: int, now: int) -> int:
    """Units before+1 .. before+now's share of `total` spread over `of` units, so that shares add up exactly."""
    return total * (before + now) // of - total * before // of


def _fee(amount: int, bps: int) -> int:
    return (amount * bps + 5000) // 10000


def price_return(order: Order, policies: ReturnPolicies, asked: Sequence[Asked], method: ReturnMethod | None, *,
                 excluding: str | None = None) -> tuple[RefundBreakdown, dict[str, Money]]:
    """What returning `asked` gives back, with each line's part (items and tax). `excluding`: the return being
    priced, when it is already on the order (its own units are not "before")."""
    currency = order.currency
    lines = {line.sku: line for line in order.lines}
    earlier = _settled_units(order, excluding)
    items = tax = fee = 0
    parts: dict[str, Money] = {}
    customer_pays: list[int] = []
    for one in asked:
        line = lines[one.sku]
        policy = policies.resolve(line.return_policy)
        price = line.unit_price.amount * one.quantity
        line_tax = _share(line.tax.amount, line.quantity, earlier[one.sku], one.quantity)
        items, tax = items + price, tax + line_tax
        parts[one.sku] = Money(amount=price + line_tax, currency=currency)
        if one.reason not in MERCHANT_FAULT:
            fee += _fee(price + line_tax, policy.restocking_fee_bps)
            customer_pays.append(policy.customer_return_shipping)
    shipping = shipping_tax = 0
    if _every_delivered_unit_back_for_our_fault(order, asked, excluding):
        # Everything back for our fault: the shipping, a gift's wrap fee with it, and their tax (the tax on lines aside).
        wrap = order.totals.gift_wrap.amount if order.totals.gift_wrap else 0
        shipping = order.totals.shipping.amount + wrap
        shipping_tax = max(0, order.totals.tax.amount - sum(line.tax.amount for line in order.lines))
    return_shipping = max(customer_pays, default=0) if method not in (ReturnMethod.STORE, None) else 0
    gross = items + tax + shipping + shipping_tax - fee - return_shipping
    left = refundable_amount(order)
    total = min(max(0, gross), left)

    def money(amount: int) -> Money:
        return Money(amount=amount, currency=currency)

    return RefundBreakdown(items=money(items), tax=money(tax + shipping_tax), shipping=money(shipping),
                           restocking_fee=money(fee), return_shipping=money(return_shipping), total=money(total),
                           capped=max(0, gross) > left), parts


def _settled_units(order: Order, excluding: str | None) -> Counter[str]:
    """Units of each line already given back by earlier settled returns (their tax shares are taken)."""
    units: Counter[str] = Counter()
    for ret in order.returns:
        if ret.return_id != excluding and ret.settlement is not None:
            units.update({line.sku: line.quantity for line in ret.lines if line.refund is not None})
    return units


def _every_delivered_unit_back_for_our_fault(order: Order, asked: Sequence[Asked], excluding: str | None) -> bool:
    if not asked or any(one.reason not in MERCHANT_FAULT for one in asked):
        return False
    delivered, _ = delivered_units(order)
    back: Counter[str] = Counter({one.sku: one.quantity for one in asked})
    for ret in order.returns:
        if ret.return_id == excluding or ret.status in NOTHING_CAME_BACK:
            continue
        if ret.settlement is not None and ret.settlement.shipping.amount:
            return False  # refunded once already
        if any(line.holds_units and not line.merchant_fault for line in ret.lines):
            return False
        back.update(ret.units)
    return bool(delivered) and all(back[sku] >= n for sku, n in delivered.items())


def refundable_amount(order: Order) -> int:
    """What the order can still give back: captured (for cash on delivery: collected), less refunded, less store
    credit given for its returns."""
    return order.refundable.amount


# --- the steps ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReturnRequest:
    """What the customer asked for (already parsed: dawra.contracts is where text becomes this)."""

    lines: Sequence[tuple[str, int, ReturnReason, str]]  # sku, quantity, reason, comment
    method: ReturnMethod
    refund_method: RefundMethod
    location_id: str  # where it comes back to: the store chosen, or the warehouse a label is addressed to
    bank_account: str | None = None
    exchanges: Mapping[str, str] = field(default_factory=dict)  # an exchange: returned sku -> the sku wanted
    pickup: PickupSlot | None = None  # a courier pickup: the day and window chosen


def open_return(order: Order, policies: ReturnPolicies, request: ReturnRequest, *, return_id: str, today: date,
                at: str, fingerprint: str, catalog: Mapping[str, CatalogItem] | None = None,
                pickup_days: Sequence[PickupSlot] = ()) -> Return:
    """A customer's return request, checked line by line; approved at once unless a line's policy needs a person.
    An exchange needs `catalog`: the returned lines' and the wanted replacements' catalog items; a courier pickup,
    `pickup_days`: the slots the carrier offers now."""
    def refused(why: str) -> ReturnRefused:
        return ReturnRefused(f"order {order.order_id}", order.status.value, "request_return", why)

    eligible = {r.sku: r for r in returnable(order, policies, today)}
    if not request.lines:
        raise InvalidCustomerDetails("choose at least one item to return", field="lines")
    seen: set[str] = set()
    for sku, quantity, _, comment in request.lines:
        if sku not in eligible:
            raise InvalidCustomerDetails(f"the order has no item {sku}", field="lines")
        if sku in seen:
            raise InvalidCustomerDetails(f"{sku} is listed twice", field="lines")
        seen.add(sku)
        if len(comment) > MAX_COMMENT:
            raise InvalidCustomerDetails(f"a comment has at most {MAX_COMMENT} characters", field="lines")
        line = eligible[sku]
        if line.why_not is not None:
            raise refused(f"{sku}: {line.explain()}")
        if not 1 <= quantity <= line.quantity:
            raise InvalidCustomerDetails(f"{sku}: between 1 and {line.quantity} can be returned", field="lines")
    check_pickup(request.method, request.pickup, pickup_days)
    chosen = [eligible[sku].policy for sku, *_ in request.lines]
    allowed = refund_methods(order, chosen)
    if request.refund_method not in allowed:
        raise refused(f"{request.refund_method.value} is not offered for these items (offered: "
                      f"{', '.join(m.value for m in allowed)})")
    account = bank_account_for(request.refund_method, request.bank_account)
    exchanges: dict[str, ExchangeItem] = {}
    if request.refund_method == RefundMethod.EXCHANGE:
        exchanges = _exchange_items(order, request, catalog or {}, refused)
        estimate = _nothing_back(order.currency)
    else:
        if request.exchanges:
            raise InvalidCustomerDetails("a replacement is only sent for an exchange", field="exchange")
        asked = [Asked(sku, quantity, reason) for sku, quantity, reason, _ in request.lines]
        estimate, _ = price_return(order, policies, asked, request.method)
    ret = Return(return_id=return_id, order_id=order.order_id,
                 lines=[ReturnLine(sku=sku, quantity=quantity, reason=reason, comment=comment.strip(),
                                   policy=eligible[sku].policy.ref, exchange=exchanges.get(sku))
                        for sku, quantity, reason, comment in request.lines],
                 method=request.method, refund_method=request.refund_method, location_id=request.location_id,
                 estimate=estimate, bank_account=account, approval_required=any(p.approval_required for p in chosen),
                 fingerprint=fingerprint, requested_at=at,
                 ship_exchange_first=bool(exchanges) and all(p.exchange_ships_first for p in chosen),
                 pickup_on=request.pickup.day.isoformat() if request.pickup else None,
                 pickup_window=request.pickup.window if request.pickup else None)
    order.add_return(ret)
    order.return_changed(ret, TimelineKind.RETURN_REQUESTED, at, _summary(ret), header=True)
    if not ret.approval_required:
        decide(order, ret.return_id, approve=True, by="policy", at=at)
    return ret


def _exchange_items(order: Order, request: ReturnRequest, catalog: Mapping[str, CatalogItem],
                    refused: Callable[[str], ReturnRefused]) -> dict[str, ExchangeItem]:
    """Each returned line's replacement: one the catalog lists as another size or variant of it
    (`exchangeable_for`), at the price the customer paid (an exchange moves no money)."""
    lines = {line.sku: line for line in order.lines}
    found: dict[str, ExchangeItem] = {}
    if set(request.exchanges) != {sku for sku, *_ in request.lines}:
        raise InvalidCustomerDetails("an exchange names the size or variant wanted for every item sent back",
                                     field="exchange")
    for sku, wanted in request.exchanges.items():
        original, replacement = catalog.get(sku), catalog.get(wanted)
        if original is None or replacement is None or wanted == sku or wanted not in original.exchangeable_for:
            raise refused(f"{sku} cannot be exchanged for {wanted}: choose one of its other sizes or variants"
                          + (f" ({', '.join(original.exchangeable_for)})" if original and original.exchangeable_for
                             else ", or a refund"))
        paid = lines[sku].unit_price
        if replacement.unit_price != paid:
            raise refused(f"{wanted} costs {replacement.unit_price.amount} {replacement.unit_price.currency} minor "
                          f"units, {sku} was {paid.amount}: an exchange is for the same price, choose a refund")
        found[sku] = ExchangeItem(sku=wanted, title=replacement.title, titles=dict(replacement.titles))
    return found


def _nothing_back(currency: str) -> RefundBreakdown:
    """An exchange's money: none either way (same price; no restocking fee or return shipping is charged)."""
    zero = Money.zero(currency)
    return RefundBreakdown(items=zero, tax=zero, shipping=zero, restocking_fee=zero, return_shipping=zero, total=zero)


def _summary(ret: Return) -> dict[str, str]:
    summary = {"items": ",".join(f"{line.sku}:{line.quantity}" for line in ret.lines),
               "method": str(ret.method or ""),
               "estimate": str(ret.estimate.total.amount), "currency": ret.estimate.total.currency}
    if ret.is_exchange:
        summary["exchange"] = ",".join(f"{sku}:{n}" for sku, n in sorted(ret.exchange_units.items()))
    if ret.pickup_on and ret.pickup_window:
        summary["pickup_on"], summary["pickup_window"] = ret.pickup_on, ret.pickup_window.value
    return summary


def step(order: Order, return_id: str, event: ReturnEvent, at: str, detail: Mapping[str, str] | None = None, *,
         header: bool = False, occurrence: str | None = None) -> Return:
    """Move one of the order's returns by `event` and tell the timeline (committed with the order). A step that may
    happen more than once (a pickup missed, or moved) names its `occurrence`: one timeline event each."""
    ret = order.return_of(return_id)
    ret.apply(event)
    kind = CLAIM_STEP_KIND[event] if ret.is_claim else STEP_KIND[event]
    order.return_changed(ret, kind, at, detail or {}, header=header, occurrence=occurrence)
    return ret


def decide(order: Order, return_id: str, *, approve: bool, by: str, at: str, why: str | None = None) -> Return:
    """An agent's (or the policy's) answer to a request."""
    if not approve and not (why and why.strip()):
        raise InvalidCustomerDetails("say why the return is declined: the customer is told", field="reason")
    ret = order.return_of(return_id)
    event = ReturnEvent.APPROVE if approve else ReturnEvent.DECLINE
    if not ret.can(event):
        raise ReturnRefused(f"return {return_id}", ret.status.value, event.value)
    ret.decided_at, ret.decided_by = at, by
    ret.decline_reason = None if approve else (why or "").strip()[:MAX_COMMENT]
    detail = {"method": str(ret.method or ""), "location_id": ret.location_id,
              "by": "policy" if by == "policy" else "agent"} if approve else {"reason": ret.decline_reason or ""}
    return step(order, return_id, event, at, detail)


def issue_label(order: Order, return_id: str, *, carrier: str, tracking_number: str, expires_at: str,
                at: str, pickup: PickupSlot | None = None) -> Return:
    """The carrier booked the return: a label, and for a courier pickup the day and window it booked (the one asked
    for, or the carrier's next one in that window when that day had passed by the time it was booked)."""
    ret = order.return_of(return_id)
    if ret.method == ReturnMethod.STORE:
        raise ReturnRefused(f"return {return_id}", ret.status.value, ReturnEvent.ISSUE_LABEL.value,
                            "it is brought to a store: no label")
    detail = {"carrier": carrier, "tracking_number": tracking_number, "expires_at": expires_at,
              "method": str(ret.method or "")}
    if ret.can(ReturnEvent.ISSUE_LABEL):
        ret.carrier, ret.tracking_number = carrier, tracking_number
        ret.label_issued_at, ret.label_expires_at = at, expires_at
        if pickup is not None:
            ret.pickup_on, ret.pickup_window = pickup.day.isoformat(), pickup.window
            ret.pickup_booked_at = at
    if pickup is not None:
        detail.update(pickup_on=pickup.day.isoformat(), pickup_window=pickup.window.value)
    return step(order, return_id, ReturnEvent.ISSUE_LABEL, at, detail)


# --- a courier pickup missed, or moved ---------------------------------------------------------------------------------
def pickup_covered_until(day: date) -> str:
    """Until when a return label must stay valid for a courier coming on `day`: the end of the day after it (UTC),
    so that the courier's scan has a day to reach us before the label would expire under a parcel collected."""
    return iso(datetime.combine(day + timedelta(days=2), time.min, tzinfo=UTC))


# Why a courier pickup cannot be moved now (the customer's page words each code).
PICKUP_FIXED: dict[str, str] = {
    "not_a_pickup": "it is not collected by a courier",
    "not_booked": "its courier is not booked yet: the day asked for is booked with the label",
    "ended": "the return has ended",
    "picked_up": "the parcel has been picked up already",
}


def pickup_fixed(ret: Return) -> str | None:
    """Why the courier of this return cannot be moved now (a PICKUP_FIXED code), or None: it can (a courier pickup,
    its label issued, nothing picked up)."""
    if ret.method == ReturnMethod.PICKUP and ret.can(ReturnEvent.CHANGE_PICKUP):
        return None
    if ret.method != ReturnMethod.PICKUP:
        return "not_a_pickup"
    if ret.status in (ReturnStatus.REQUESTED, ReturnStatus.APPROVED):
        return "not_booked"
    return "ended" if ret.status in RETURN_TERMINAL else "picked_up"  # (declined, expired, label expired, closed)


def pickup_change_refused(ret: Return) -> ReturnRefused | None:
    """pickup_fixed, as the refusal a use case raises (None: it may be moved)."""
    code = pickup_fixed(ret)
    return None if code is None else ReturnRefused(f"return {ret.return_id}", ret.status.value,
                                                   ReturnEvent.CHANGE_PICKUP.value, PICKUP_FIXED[code])


def pickup_missed(order: Order, return_id: str, at: str) -> Return | None:
    """The carrier says its courier did not come: the return's timeline says so (and the customer is told), once
    per day booked. Nothing moves: the label stays usable and the customer may choose another day. Recorded only
    (None) when the return is not a courier pickup, has been picked up or arrived meanwhile (a late report), the
    day was said missed before (the carrier repeating itself), or the report (at `at`, the carrier's believable
    time) predates the day's booking: it is about a day the customer has since moved."""
    ret = order.return_of(return_id)
    if ret.method != ReturnMethod.PICKUP or not ret.can(ReturnEvent.PICKUP_MISSED) or ret.pickup is None:
        return None
    if ret.pickup_missed_on == ret.pickup_on or (ret.pickup_booked_at and at < ret.pickup_booked_at):
        return None
    ret.pickup_missed_on = ret.pickup_on
    return step(order, return_id, ReturnEvent.PICKUP_MISSED, at,
                {"pickup_on": ret.pickup_on or "", "pickup_window": str(ret.pickup_window or "")},
                occurrence=ret.pickup_on)


def change_pickup(order: Order, return_id: str, booked: PickupSlot, *, at: str, carrier_expires_at: str,
                  occurrence: str) -> Return:
    """The carrier has moved the courier to `booked` (a day it offers, asked for by the customer): the return keeps
    the new day, and its label, if it would lapse first, is kept valid until the day after it (never past the
    carrier's own validity). Refused (ReturnRefused, saying why) unless pickup_change_refused allows it."""
    ret = order.return_of(return_id)
    if (refused := pickup_change_refused(ret)) is not None:
        raise refused
    was, missed = ret.pickup, ret.pickup_missed_on is not None and ret.pickup_missed_on == ret.pickup_on
    needed = pickup_covered_until(booked.day)
    expires = ret.label_expires_at or carrier_expires_at
    extended = expires < needed and carrier_expires_at > expires
    if extended:
        expires = min(needed, carrier_expires_at)
    ret.label_expires_at, ret.pickup_booked_at = expires, at
    ret.pickup_on, ret.pickup_window = booked.day.isoformat(), booked.window
    return step(order, return_id, ReturnEvent.CHANGE_PICKUP, at, {
        "pickup_on": booked.day.isoformat(), "pickup_window": booked.window.value,
        "was_on": was.day.isoformat() if was else "", "was_window": was.window.value if was else "",
        "after_missed": "true" if missed else "false", "expires_at": expires,
        "label_extended": "true" if extended else "false"}, occurrence=occurrence)


@dataclass(frozen=True)
class Inspected:
    """What an inspection does to the stock at the return's location, per sku."""

    restock: Counter[str]  # sellable: back on hand and available
    quarantine: Counter[str]  # damaged or tampered: counted as quarantined
    written_off: Counter[str]  # damaged or tampered, written off by the inspector: counted nowhere


def inspect(order: Order, return_id: str, outcomes: Mapping[str, tuple[InspectionOutcome, str | None]],
            at: str, write_off: Collection[str] = ()) -> Inspected:
    """The warehouse's verdict on each line: sellable units go back on hand at the return's location; damaged or
    tampered ones need a note saying what was seen and are quarantined there, or written off when their sku is in
    `write_off` (only damaged or tampered lines may be)."""
    ret = order.return_of(return_id)
    if not ret.can(ReturnEvent.INSPECT):
        raise ReturnRefused(f"return {return_id}", ret.status.value, ReturnEvent.INSPECT.value)
    skus = {line.sku for line in ret.lines}
    if set(outcomes) != skus:
        missing, extra = sorted(skus - set(outcomes)), sorted(set(outcomes) - skus)
        raise InvalidCustomerDetails("inspect every line of the return and nothing else"
                                     + (f"; not inspected: {', '.join(missing)}" if missing else "")
                                     + (f"; not in it: {', '.join(extra)}" if extra else ""), field="outcomes")
    if unknown := sorted(set(write_off) - skus):
        raise InvalidCustomerDetails(f"not in the return, so not written off: {', '.join(unknown)}", field="write_off")
    lines = []
    for line in ret.lines:
        outcome, note = outcomes[line.sku]
        note = (note or "").strip() or None
        if outcome not in RESTOCKED and note is None:
            raise InvalidCustomerDetails(f"{line.sku}: say what was found ({outcome.value})", field="note")
        if line.sku in write_off and outcome not in QUARANTINED:
            raise InvalidCustomerDetails(f"{line.sku}: only damaged or tampered units are written off, not "
                                         f"{outcome.value} ones", field="write_off")
        disposition = (Disposition.WRITE_OFF if line.sku in write_off else Disposition.QUARANTINE) if (
            outcome in QUARANTINED) else None
        lines.append(line.model_copy(update={"outcome": outcome, "note": note[:MAX_COMMENT] if note else None,
                                             "disposition": disposition}))
    ret.lines, ret.inspected_at = lines, at
    done = Inspected(
        restock=Counter({line.sku: line.quantity for line in lines if line.outcome in RESTOCKED}),
        quarantine=Counter({line.sku: line.quantity for line in lines if line.disposition == Disposition.QUARANTINE}),
        written_off=Counter({line.sku: line.quantity for line in lines if line.disposition == Disposition.WRITE_OFF}))
    step(order, return_id, ReturnEvent.INSPECT, at, {
        "outcomes": ",".join(f"{line.sku}:{line.outcome}" for line in lines if line.outcome),
        "restocked": str(sum(done.restock.values())), "quarantined": str(sum(done.quarantine.values())),
        "written_off": str(sum(done.written_off.values())), "location_id": ret.location_id})
    return done


def settle(order: Order, policies: ReturnPolicies, return_id: str, at: str) -> Money:
    """After inspection: price what came back as it should (wrong or missing items earn nothing), give it back by
    the way the customer chose, and return what the payment provider must pay out (zero for store credit). Every
    line wrong or missing: the return is rejected, nothing is given back."""
    ret = order.return_of(return_id)
    if ret.is_exchange:
        return _honour_exchange(order, ret, at)
    counted = [line for line in ret.lines if line.outcome is not None and line.outcome not in REFUSED]
    if not ret.can(ReturnEvent.REFUND):
        raise ReturnRefused(f"return {return_id}", ret.status.value, ReturnEvent.REFUND.value)
    if not counted:
        step(order, return_id, ReturnEvent.REJECT, at,
             {"outcomes": ",".join(f"{line.sku}:{line.outcome}" for line in ret.lines if line.outcome)})
        return Money.zero(order.currency)
    breakdown, parts = price_return(order, policies, [Asked(line.sku, line.quantity, line.reason)
                                                       for line in counted], ret.method, excluding=return_id)
    ret.lines = [line.model_copy(update={"refund": parts[line.sku]}) if line.sku in parts else line
                 for line in ret.lines]
    ret.settlement, ret.refunded, ret.refunded_at = breakdown, breakdown.total, at
    paid_out = breakdown.total if ret.refund_method != RefundMethod.STORE_CREDIT else Money.zero(order.currency)
    if paid_out.amount:
        order.payment = order.payment.model_copy(update={"refunded": order.payment.refunded + paid_out})
    detail = {"amount": str(breakdown.total.amount), "currency": breakdown.total.currency,
              "refund_method": ret.refund_method.value}
    if ret.bank_account:
        detail["account_ending"] = ret.bank_account[-4:]
    step(order, return_id, ReturnEvent.REFUND, at, detail, header=True)
    order.issue(credit_note_for_return(order, ret, at))  # store credit too: the sale was worth less
    return paid_out


def _honour_exchange(order: Order, ret: Return, at: str) -> Money:
    """After inspection, an exchange is done: the replacement is the customer's and nothing is paid out. When a line
    came back wrong or missing the replacement has usually left already: nothing is decided automatically (the
    return stays inspected and the workflow hands it to a person)."""
    if not ret.can(ReturnEvent.EXCHANGE):
        raise ReturnRefused(f"return {ret.return_id}", ret.status.value, ReturnEvent.EXCHANGE.value)
    if not exchange_holds(ret):
        return Money.zero(order.currency)
    ret.settlement, ret.refunded_at = _nothing_back(order.currency), at
    step(order, ret.return_id, ReturnEvent.EXCHANGE, at, {
        "outcomes": ",".join(f"{line.sku}:{line.outcome}" for line in ret.lines if line.outcome),
        "exchange": ",".join(f"{sku}:{n}" for sku, n in sorted(ret.exchange_units.items())),
        "shipment_id": ret.replacement_id or ""})
    return Money.zero(order.currency)


def exchange_holds(ret: Return) -> bool:
    """Every line of an inspected exchange came back as the item sold (sellable, or quarantined as damaged)."""
    return all(line.outcome is not None and line.outcome not in REFUSED for line in ret.lines)
