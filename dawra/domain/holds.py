"""Kinds of hold: why an order waits, once its stock is reserved, for a decision before anything ships.

Every hold parks the order in ON_HOLD (the transition table's `hold`), and each shipment's branch of the workflow
waits (WaitWhileOnHold) until the hold is released (the order ships), rejected (the order is cancelled through the
workflow's compensation: stock released, payment voided, the customer told) or times out. What differs per kind is
in `HOLD_POLICIES`, the one table:

- who may decide it (a permission of `dawra.domain.access`),
- how long it may last (`default_hours`; the deploy parameter `hold-hours` overrides per kind),
- what its timeout does: a person is asked (the order goes to NEEDS_ATTENTION, as before kinds existed), or the order
  is cancelled with the kind's own reason (`expired_as`, e.g. `ReviewTimedOut`),
- the cancellation reason when the person deciding rejects it (`rejected_as`).

The reasons are Step Functions error names and the order's `cancellation_reason`: the workflow routes on them and the
customer's message words them (dawra/templates), so they are stable identifiers, never free text.

How to hold an order of a kind (see docs/architecture.md, "Fraud screening and holds"):
    `Checkout.place(..., hold=Hold(kind=HoldKind.COD_CONFIRMATION, reason="...", reasons=[...]))` holds it as soon as
    its stock is reserved; `OrderActions.release` (approve) and `OrderActions.reject` decide it, each checking the
    kind's permission; the workflow's `HoldExpired` task applies the kind's timeout."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from dawra.domain.access import Permission


class HoldKind(enum.StrEnum):
    OPERATOR = "operator"  # an operator's hold, with their reason in their words
    AWAITING_LINK_PAYMENT = "awaiting_link_payment"  # an agent's payment-link order: a manager confirms the payment
    FRAUD_REVIEW = "fraud_review"  # checkout's risk screening asked for an agent's review
    COD_CONFIRMATION = "cod_confirmation"  # a cash-on-delivery order the customer must confirm first
    CREDIT_APPROVAL = "credit_approval"  # a business account's order over its credit limit: a manager approves


class OnTimeout(enum.StrEnum):
    ASK_A_PERSON = "ask_a_person"  # the order needs attention (as every hold did before kinds)
    CANCEL = "cancel"  # the workflow's compensation: release the stock, void, tell the customer


@dataclass(frozen=True)
class HoldPolicy:
    decided_by: Permission  # who may release or reject it
    default_hours: float
    on_timeout: OnTimeout
    expired_as: str  # the Step Functions error its timeout fails the shipment's branch with (the cancellation reason)
    rejected_as: str  # the cancellation reason when the person deciding rejects it


P = Permission
ASKED_A_PERSON = "OnHoldTooLong"
HOLD_POLICIES: dict[HoldKind, HoldPolicy] = {
    HoldKind.OPERATOR: HoldPolicy(P.HOLD, 168, OnTimeout.ASK_A_PERSON, ASKED_A_PERSON, "CancelledByOperator"),
    HoldKind.AWAITING_LINK_PAYMENT: HoldPolicy(P.CONFIRM_PAYMENT, 168, OnTimeout.ASK_A_PERSON, ASKED_A_PERSON,
                                               "CancelledByOperator"),
    HoldKind.FRAUD_REVIEW: HoldPolicy(P.REVIEW_RISK, 48, OnTimeout.CANCEL, "ReviewTimedOut", "RejectedInReview"),
    HoldKind.COD_CONFIRMATION: HoldPolicy(P.HOLD, 24, OnTimeout.CANCEL, "NotConfirmed", "NotConfirmed"),
    HoldKind.CREDIT_APPROVAL: HoldPolicy(P.APPROVE_CREDIT, 72, OnTimeout.CANCEL, "CreditNotApproved",
                                         "CreditNotApproved"),
}
# Every reason a hold can end an order with (besides an operator's or the customer's own cancellation).
HOLD_CANCELLATIONS = frozenset(
    reason for policy in HOLD_POLICIES.values() for reason in (policy.expired_as, policy.rejected_as)
    if reason not in (ASKED_A_PERSON, "CancelledByOperator", "CancelledByCustomer"))


class HoldReason(BaseModel):
    """One reason an order is held, as the order and its timeline keep it: a stable code (a risk rule's id, ...)
    and the words an operator reads, in English and Arabic. Never shown to the customer."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    code: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.:-]+$")
    en: str = Field(min_length=1, max_length=300)
    ar: str = Field(min_length=1, max_length=300)

    def text(self, language: str) -> str:
        return self.ar if language == "ar" else self.en


class Hold(BaseModel):
    """A hold asked for when an order is placed: it takes effect once the stock is reserved."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    kind: HoldKind = HoldKind.OPERATOR
    reason: str = Field(min_length=1, max_length=300)  # one line for operators (an operator's own words, or a summary)
    reasons: list[HoldReason] = Field(default_factory=list, max_length=20)


def policy(kind: HoldKind) -> HoldPolicy:
    return HOLD_POLICIES[kind]


def hold_timeouts(overrides: str) -> dict[HoldKind, timedelta]:
    """How long each kind may last: the defaults, with `overrides` ("fraud_review=24,cod_confirmation=0.5": hours
    per kind; fractions allowed; empty: none) on top. Raises ValueError for an unknown kind or a bad number."""
    hours = {kind: p.default_hours for kind, p in HOLD_POLICIES.items()}
    for part in filter(None, (piece.strip() for piece in overrides.split(","))):
        name, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"hold-hours: {part!r} is not kind=hours")
        kind = HoldKind(name.strip())
        number = float(value)
        if not 0 < number <= 9999:
            raise ValueError(f"hold-hours: {kind.value} must be more than 0 and at most 9999 hours")
        hours[kind] = number
    return {kind: timedelta(hours=h) for kind, h in hours.items()}
