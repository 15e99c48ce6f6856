"""What a payment provider tells us on its own, later (its webhooks), in one vocabulary; and when a card
authorisation must be renewed before it lapses. Pure: no I/O.

A provider's event names the authorisation it is about and the merchant reference the authorisation was made under
(the checkout's `chk_<Idempotency-Key hash>`: every provider echoes the merchant's reference on its events), so the
order is found from the checkout's own idempotency record, with no index of its own."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from dawra.domain.money import Money

# The merchant reference checkout authorises under: "chk_" + the SHA-256 (hex) of the Idempotency-Key.
CHECKOUT_REFERENCE_PREFIX = "chk_"
# A card authorisation is renewed this long before it lapses (a day: time for a retried job and a person).
RENEWAL_MARGIN = timedelta(days=1)


def checkout_reference(key_hash: str) -> str:
    return CHECKOUT_REFERENCE_PREFIX + key_hash


def key_hash_of(payment_reference: str) -> str | None:
    """The Idempotency-Key hash a checkout reference carries, or None for a reference that is not a checkout's."""
    if not payment_reference.startswith(CHECKOUT_REFERENCE_PREFIX):
        return None
    digest = payment_reference.removeprefix(CHECKOUT_REFERENCE_PREFIX)
    return digest if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest) else None


class PaymentEventKind(enum.StrEnum):
    LINK_PAID = "payment_link.paid"  # the customer paid the link: the order's "awaiting payment" hold ends
    CAPTURE_SETTLED = "capture.settled"  # the money of a capture reached the merchant
    CAPTURE_FAILED = "capture.failed"  # a capture accepted at first failed at settlement: a person looks
    REFUND_SETTLED = "refund.settled"  # a refund reached the customer
    REFUND_FAILED = "refund.failed"  # a refund did not reach the customer (closed card, ...): a person pays it
    DISPUTE_OPENED = "dispute.opened"  # the customer disputed the charge with their bank (a chargeback)


# The kinds a person must hear about (an ops alert besides the timeline).
ALERTING = frozenset({PaymentEventKind.CAPTURE_FAILED, PaymentEventKind.REFUND_FAILED,
                      PaymentEventKind.DISPUTE_OPENED})


class PaymentEvent(BaseModel):
    """One provider event, normalised. `reference` is the idempotency key of the call it is about (a capture's or a
    refund's), when it is about one; `amount` what it moved."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    provider: str
    event_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    kind: PaymentEventKind
    authorization_id: str = Field(min_length=1, max_length=128)
    payment_reference: str = Field(min_length=1, max_length=128)
    reference: str | None = Field(default=None, max_length=200)
    amount: Money | None = None
    occurred_at: datetime
    reason: str | None = Field(default=None, max_length=200)  # the provider's words (a failure's, a dispute's)

    @property
    def dedup_key(self) -> str:
        return f"payment#{self.provider}#{self.event_id}"


def renewal_due(expires_at: datetime, margin: timedelta = RENEWAL_MARGIN) -> datetime:
    """When an authorisation that lapses at `expires_at` is renewed."""
    return expires_at - margin


def at_risk_of_lapsing(held: bool, backordered: bool) -> bool:
    """Might the order still be unshipped when its authorisation must be renewed? The workflow ships an order as
    soon as its stock is reserved, seconds after checkout; only an order held for a decision, or one with a line on
    backorder (waiting for stock), waits. An ordinary order schedules nothing: if it is held later (an operator, the
    customer), the capture at shipping re-authorises when it finds the authorisation lapsed."""
    return held or backordered
