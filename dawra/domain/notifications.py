"""Which timeline event deserves which message, on which channel. Rules only: rendering is dawra.rendering."""

from __future__ import annotations

from dataclasses import dataclass

from dawra.domain.customer import Contact
from dawra.domain.timeline import TimelineEvent, TimelineKind

# The timeline events a customer hears about (the stream mapping filters on them too).
NOTIFIED_KINDS: tuple[TimelineKind, ...] = (
    TimelineKind.ORDER_CONFIRMED,
    TimelineKind.SHIPMENT_SHIPPED,
    TimelineKind.SHIPMENT_DELIVERED,
    TimelineKind.ORDER_CANCELLED,
)
# An operator resending one of those: the notifier sends the original's message again, under the resend's own id.
RESENT = TimelineKind.MESSAGE_RESENT
STREAM_KINDS: tuple[TimelineKind, ...] = (*NOTIFIED_KINDS, RESENT)


@dataclass(frozen=True)
class Recipient:
    channel: str  # email | sms
    address: str  # an email address or an E.164 phone number


def deserves_message(event: TimelineEvent) -> bool:
    return event.kind in NOTIFIED_KINDS or (event.kind == RESENT and event.detail.get("message") in NOTIFIED_KINDS)


def message_event(event: TimelineEvent) -> TimelineEvent:
    """The event whose message to send: a resend's original kind (under the resend's id), else the event itself."""
    if event.kind == RESENT:
        return event.model_copy(update={"kind": TimelineKind(event.detail["message"])})
    return event


def recipient(contact: Contact) -> Recipient:
    """The customer's preferred channel; SMS only with a phone number."""
    if contact.preferred_channel == "sms" and contact.phone:
        return Recipient("sms", contact.phone)
    return Recipient("email", str(contact.email))
