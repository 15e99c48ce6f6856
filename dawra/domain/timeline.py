"""The order's timeline: customer-visible changes, appended in the same commit as the change itself."""

from __future__ import annotations

import enum
import re

from pydantic import BaseModel, ConfigDict, Field


class TimelineKind(enum.StrEnum):
    ORDER_CONFIRMED = "order_confirmed"
    STOCK_RESERVED = "stock_reserved"
    # A backordered or preordered order's stock did not come by the day the customer was told: the new day and
    # promise (detail "available_from", "new_estimate"; dawra.app.backorders).
    STOCK_DELAYED = "stock_delayed"
    SHIPMENT_SHIPPED = "shipment_shipped"
    SHIPMENT_IN_TRANSIT = "shipment_in_transit"
    SHIPMENT_OUT_FOR_DELIVERY = "shipment_out_for_delivery"
    SHIPMENT_DELIVERED = "shipment_delivered"
    # Late, lost, and what carriers report besides progress (each about one shipment; dawra.domain.shipment).
    SHIPMENT_DELAYED = "shipment_delayed"  # past its promise and grace: an apology and a new estimate
    SHIPMENT_LOST = "shipment_lost"  # declared lost in transit, with how it was settled (detail "settlement")
    DELIVERY_ATTEMPTED = "delivery_attempted"  # the carrier tried and could not deliver
    DELIVERY_EXCEPTION = "delivery_exception"  # the carrier reports a problem (address, customs, damage, ...)
    AVAILABLE_FOR_PICKUP = "available_for_pickup"  # waiting for the customer at a pickup point
    SHIPMENT_RETURNING = "shipment_returning"  # the carrier is taking it back to its location
    SHIPMENT_RETURNED = "shipment_returned"  # back at its location, its units on hand again (for operators)
    RETURN_SETTLED = "return_settled"  # what was done about a returned parcel (detail "settlement")
    ORDER_COMPLETED = "order_completed"
    ORDER_CANCELLED = "order_cancelled"
    ORDER_NEEDS_ATTENTION = "order_needs_attention"
    ORDER_ON_HOLD = "order_on_hold"
    ORDER_RELEASED = "order_released"
    CANCELLATION_REQUESTED = "cancellation_requested"
    LINE_CANCELLED = "line_cancelled"
    ADDRESS_CHANGED = "address_changed"
    REFUNDED = "refunded"
    MESSAGE_RESENT = "message_resent"
    SHIPMENTS_CANCELLED = "shipments_cancelled"  # the customer cancelled parcels of a split order before they left
    CONTACT_CHANGED = "contact_changed"  # the customer chose how (email, SMS, both) and in which language to hear
    FEEDBACK_REQUESTED = "feedback_requested"  # the customer is asked how it went, once, after the last delivery
    FEEDBACK_RECEIVED = "feedback_received"  # their answer (rating, recommend score, comment) in its detail
    ORDER_LINK_REQUESTED = "order_link_requested"  # a guest lookup matched: the link goes to the contact
    # A customer's return (dawra.domain.returns), one event per step of each return (detail "return_id").
    RETURN_REQUESTED = "return_requested"  # what, how, and the refund estimate
    RETURN_APPROVED = "return_approved"  # by the policy (no approval needed) or an agent
    RETURN_DECLINED = "return_declined"  # by an agent, with the reason
    RETURN_EXPIRED = "return_expired"  # nobody approved it in time
    RETURN_LABEL_ISSUED = "return_label_issued"  # the carrier booked it: a label to print, or a pickup
    # A courier pickup: the carrier says its courier did not come (once per day booked), and the customer chose
    # another day (the new day and window; the label valid at least until the day after it).
    RETURN_PICKUP_MISSED = "return_pickup_missed"
    RETURN_PICKUP_CHANGED = "return_pickup_changed"
    RETURN_AWAITING_DROP_OFF = "return_awaiting_drop_off"  # to be brought to a store: which one
    RETURN_IN_TRANSIT = "return_in_transit"
    RETURN_RECEIVED = "return_received"
    RETURN_INSPECTED = "return_inspected"  # per line: sellable (restocked), damaged/tampered, wrong or missing
    RETURN_REFUNDED = "return_refunded"  # how much, and how (original payment, store credit, bank transfer)
    RETURN_REJECTED = "return_rejected"  # nothing to refund: every line was the wrong item or missing
    RETURN_LABEL_EXPIRED = "return_label_expired"  # the label was never used
    RETURN_CLOSED = "return_closed"
    # An exchange (another size or variant instead of a refund): its replacement held at approval, sent when the
    # return arrives (or at once, when the policy trusts), let go if the return never comes, and the exchange done
    # once the returned items are inspected.
    RETURN_EXCHANGE_RESERVED = "return_exchange_reserved"
    RETURN_EXCHANGE_SHIPPED = "return_exchange_shipped"
    RETURN_EXCHANGE_RELEASED = "return_exchange_released"
    RETURN_EXCHANGED = "return_exchanged"
    # A claim without a return ("arrived damaged", "item missing": dawra.domain.return_claims), one event per step,
    # detail "return_id" as a return's: asked for (and whether it settles by itself), declined with the reason,
    # refunded, a reship decided, its replacement held and shipped (the tracking number), closed.
    CLAIM_OPENED = "claim_opened"
    CLAIM_DECLINED = "claim_declined"
    CLAIM_REFUNDED = "claim_refunded"
    CLAIM_RESHIP = "claim_reship"
    CLAIM_REPLACEMENT_HELD = "claim_replacement_held"
    CLAIM_REPLACEMENT_SHIPPED = "claim_replacement_shipped"
    CLAIM_CLOSED = "claim_closed"
    # Cash on delivery (dawra.domain.cod), for operators: what the courier collected at the door (detail
    # "mismatch" when it is not what was due), the parcel's cash remitted by the courier (short or over when so), and
    # a parcel delivered and not remitted in time.
    COD_COLLECTED = "cod_collected"
    COD_REMITTED = "cod_remitted"
    COD_REMITTANCE_OVERDUE = "cod_remittance_overdue"
    # Cash on delivery confirmed before anything ships: the customer is asked (by their order link or an SMS reply
    # with the code in detail "code"), and confirms (detail "by": link or sms).
    COD_CONFIRMATION_REQUESTED = "cod_confirmation_requested"
    COD_CONFIRMED = "cod_confirmed"
    # The payment provider, for operators (dawra.app.payments, dawra.app.payment_events): a card authorisation renewed
    # before it lapsed (detail "expires_at"), one that could not be (detail "reason"), and the provider's own later
    # reports (detail "event": a capture or refund settled or failed, a dispute opened, a payment link paid).
    PAYMENT_REAUTHORIZED = "payment_reauthorized"
    PAYMENT_REAUTHORIZATION_FAILED = "payment_reauthorization_failed"
    PAYMENT_EVENT = "payment_event"
    # Store pickup (dawra.domain.pickup): ready at the store (the customer gets the code, the store's hours and by
    # when to come), the one reminder, and handed over at the desk (detail "by": the operator).
    PICKUP_READY = "pickup_ready"
    PICKUP_REMINDER = "pickup_reminder"
    PICKUP_COLLECTED = "pickup_collected"


class TimelineEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    event_id: str
    order_id: str
    kind: TimelineKind
    at: str
    shipment_id: str | None = None
    detail: dict[str, str] = Field(default_factory=dict)


_EVENT_ID = re.compile(r"^[A-Za-z0-9:._-]{1,160}$")


def chronological(event: TimelineEvent) -> tuple[str, bool, str]:
    """How a timeline is read: by time, and at the same moment the order's completion after the change that
    completed it (its last parcel delivered or collected share that moment: decision 111), then by id."""
    return event.at, event.kind == TimelineKind.ORDER_COMPLETED, event.event_id


def timeline_event_id(kind: TimelineKind, *parts: str) -> str:
    """A deterministic event id: the same change always yields the same id, so a retried write cannot duplicate it."""
    event_id = ":".join([kind.value, *parts])
    if not _EVENT_ID.match(event_id):
        raise ValueError(f"bad event id {event_id!r}")
    return event_id
