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


@dataclass(frozen=True)
class Recipient:
    channel: str  # email | sms
    address: str  # an email address or an E.164 phone number


def deserves_message(event: TimelineEvent) -> bool:
    return event.kind in NOTIFIED_KINDS


def recipient(contact: Contact) -> Recipient:
    """The customer's preferred channel; SMS only with a phone number."""
    if contact.preferred_channel == "sms" and contact.phone:
        return Recipient("sms", contact.phone)
    return Recipient("email", str(contact.email))
