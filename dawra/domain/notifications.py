"""Which timeline event deserves which message, on which channel. Rules only: rendering is dawra.rendering."""

from __future__ import annotations

from dataclasses import dataclass

from dawra.domain.customer import Contact
from dawra.domain.timeline import TimelineEvent, TimelineKind

# The timeline events a customer hears about (the stream mapping filters on them too).
NOTIFIED_KINDS: tuple[TimelineKind, ...] = (
    TimelineKind.STOCK_RESERVED,  # the confirmation, sent once the stock is held (SENT_AS)
    TimelineKind.SHIPMENT_SHIPPED,
    TimelineKind.SHIPMENT_DELIVERED,
    TimelineKind.ORDER_CANCELLED,
    TimelineKind.SHIPMENTS_CANCELLED,  # the customer cancelled parcels of a split order: what, and what comes back
    TimelineKind.ADDRESS_CHANGED,  # where the parcels go now (and any shipping charge given back)
    TimelineKind.CONTACT_CHANGED,  # "from now on we write to you by ... in ...", on the new channel(s)
    TimelineKind.SHIPMENT_DELAYED,  # an apology and a new estimate
    TimelineKind.STOCK_DELAYED,  # a backorder's or preorder's stock is late: an apology and the new date
    TimelineKind.SHIPMENT_LOST,  # an apology and what happens now (sent again, refunded, or a person calls)
    TimelineKind.DELIVERY_ATTEMPTED,  # each says what the customer can do about it
    TimelineKind.DELIVERY_EXCEPTION,
    TimelineKind.AVAILABLE_FOR_PICKUP,
    TimelineKind.SHIPMENT_RETURNING,
    TimelineKind.RETURN_SETTLED,
    TimelineKind.ORDER_LINK_REQUESTED,  # "here is the link to your order" (a guest lookup)
    TimelineKind.FEEDBACK_REQUESTED,  # "how did it go?", a while after the last delivery
    # A customer's return, step by step (dawra.domain.returns): what they asked for and what comes next; an agent's
    # approval (RETURN_APPROVED by the policy is part of the request's message: see deserves_message); the label to
    # print (or the pickup); the parcel received; the money given back; and the ends without a refund: declined,
    # expired, rejected at inspection, the label never used. In transit, inspected (the refund follows at once),
    # awaiting a store drop-off (the request's or the approval's message says it) and closed send nothing.
    TimelineKind.RETURN_REQUESTED,
    TimelineKind.RETURN_APPROVED,
    TimelineKind.RETURN_DECLINED,
    TimelineKind.RETURN_EXPIRED,
    TimelineKind.RETURN_LABEL_ISSUED,
    TimelineKind.RETURN_RECEIVED,
    TimelineKind.RETURN_REFUNDED,
    TimelineKind.RETURN_REJECTED,
    TimelineKind.RETURN_LABEL_EXPIRED,
    # A courier pickup: the courier did not come (once per day booked; with the link to choose another day), and
    # the new day the customer chose (the confirmation).
    TimelineKind.RETURN_PICKUP_MISSED,
    TimelineKind.RETURN_PICKUP_CHANGED,
    # An exchange: its replacement on its way (the tracking number), and the exchange done after the inspection.
    # Held and let go send nothing (the request's or the approval's message, and the label's expiry, say so).
    TimelineKind.RETURN_EXCHANGE_SHIPPED,
    TimelineKind.RETURN_EXCHANGED,
    # A claim without a return: what was reported and what happens next (settled by itself, or a person decides),
    # declined (why), refunded (how much, how), its replacement on its way (the tracking number). The reship's
    # decision and hold (the shipped message follows at once) and closed send nothing.
    TimelineKind.CLAIM_OPENED,
    TimelineKind.CLAIM_DECLINED,
    TimelineKind.CLAIM_REFUNDED,
    TimelineKind.CLAIM_REPLACEMENT_SHIPPED,
    # Cash on delivery its country asks the customer to confirm: how (the order page's button, or an SMS reply with
    # the order's code); until then nothing ships.
    TimelineKind.COD_CONFIRMATION_REQUESTED,
    # Store pickup (dawra.domain.pickup): ready at the store (the code, the store's hours, by when), and the one
    # reminder; collected sends nothing (the customer was there), not collected is the cancellation's message.
    TimelineKind.PICKUP_READY,
    TimelineKind.PICKUP_REMINDER,
)
# An operator resending one of those: the notifier sends the original's message again, under the resend's own id.
RESENT = TimelineKind.MESSAGE_RESENT
STREAM_KINDS: tuple[TimelineKind, ...] = (*NOTIFIED_KINDS, RESENT)
# Events whose message is another kind's: the order is confirmed to the customer when its stock is reserved (with
# the promise of the locations chosen), not when it is placed, so an order the stock cannot cover after all hears
# only the cancellation.
SENT_AS: dict[TimelineKind, TimelineKind] = {TimelineKind.STOCK_RESERVED: TimelineKind.ORDER_CONFIRMED}


@dataclass(frozen=True)
class Recipient:
    channel: str  # email | sms
    address: str  # an email address or an E.164 phone number


def deserves_message(event: TimelineEvent) -> bool:
    if event.kind == TimelineKind.RETURN_APPROVED and event.detail.get("by") == "policy":
        return False  # approved with the request itself: the request's message says so
    if event.kind == TimelineKind.ORDER_CONFIRMED and event.detail.get("awaiting"):
        return True  # waits for stock (a backorder, a preorder): confirmed at once, with its date
    return event.kind in NOTIFIED_KINDS or (event.kind == RESENT and event.detail.get("message") in NOTIFIED_KINDS)


def message_event(event: TimelineEvent) -> TimelineEvent:
    """The event whose message to send: a resend's original kind (under the resend's id), else the event itself;
    as the message its kind is sent as (SENT_AS)."""
    kind = TimelineKind(event.detail["message"]) if event.kind == RESENT else event.kind
    kind = SENT_AS.get(kind, kind)
    return event if kind == event.kind else event.model_copy(update={"kind": kind})


# What only the order's email hears about (a link holder may change the phone and the channel, never the email): a
# requested link goes there alone, so a forwarded link cannot have a new one sent to another phone, and a change of
# how the customer is reached is told there too, so its owner learns of it whoever made it.
EMAIL_ONLY: frozenset[TimelineKind] = frozenset({TimelineKind.ORDER_LINK_REQUESTED})
EMAIL_TOO: frozenset[TimelineKind] = frozenset({TimelineKind.CONTACT_CHANGED})


def recipients(contact: Contact, kind: TimelineKind | None = None) -> tuple[Recipient, ...]:
    """Where a message goes: the customer's preferred channel, or both email and SMS; SMS only with a phone.
    Some kinds go to the order's email whatever the channel (EMAIL_ONLY, EMAIL_TOO)."""
    email = Recipient("email", str(contact.email))
    if not contact.phone or contact.preferred_channel == "email" or kind in EMAIL_ONLY:
        return (email,)
    sms = Recipient("sms", contact.phone)
    return (email, sms) if contact.preferred_channel == "both" or kind in EMAIL_TOO else (sms,)
