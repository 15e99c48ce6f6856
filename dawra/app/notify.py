"""Tell the customer: one message per (order, timeline event, channel), sent at most once, never lost.

A claim is taken before sending. A retry by the same sender (the same stream record) finds its own claim and
continues, so an ambiguous claim write cannot leave a message unsent; a claim left by a sender that crashed is
retaken once its lease has passed; a claim held by another live sender makes this attempt retry later.

Every message carries the shop's name, its support contact, the order's reference and a link to the order's page,
signed for the order's current link version (`OrderLinks`).

Some messages wait (dawra/domain/message_timing.py, through jobs for later): a non-urgent SMS due in the customer's
quiet hours is held until they end (`send_held_message`), and a parcel shipped with others of the same order is told
about in one message with them a short while later (`send_shipped_digest`), each event marked sent on each channel
under the same claims, so a retried record or a job delivered twice sends nothing more."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from dawra.app.order_page import OrderLinks
from dawra.domain.errors import TransientError
from dawra.domain.message_timing import (
    SHIPPED_TOGETHER,
    QuietHours,
    held_until,
    job_name,
    shipped_with_others,
)
from dawra.domain.notifications import deserves_message, message_event, recipients
from dawra.domain.order import Order
from dawra.domain.timeline import TimelineEvent, TimelineKind
from dawra.ports import ClaimOutcome, Clock, Later, MessageClaims, Messenger, OrderRepository
from dawra.rendering import Rendered, render_all

CLAIM_LEASE = timedelta(seconds=120)  # longer than the notifier's timeout: a live sender is never overtaken
SEND_HELD_MESSAGE = "send_held_message"  # a job's kind: one event's message on one channel, held overnight
SEND_SHIPPED_DIGEST = "send_shipped_digest"  # a job's kind: one message for the parcels of an order not yet told


class Notify:
    def __init__(self, orders: OrderRepository, claims: MessageClaims, messenger: Messenger, clock: Clock,
                 links: OrderLinks, later: Later | None = None, quiet: QuietHours | None = None):
        """Without `later`, every message goes at once (nothing can be held or told together)."""
        self.orders, self.claims, self.messenger, self.clock, self.links = orders, claims, messenger, clock, links
        self.later, self.quiet = later, quiet

    def __call__(self, event: TimelineEvent, sender: str) -> str:
        if not deserves_message(event):
            return "not notified"
        order = self.orders.get(event.order_id)
        if order is None:
            return "order gone"
        if self.later and shipped_with_others(order, event):
            # One job per parcel, each telling every parcel of the order shipped and not yet told: the first to fire
            # sends one message for them all, the others find nothing left. (One job per order could be found
            # pending by a parcel shipped just after that job had read the order, and that parcel never told.)
            self.later.at(job_name("shipped", event.event_id), _moment(event.at) + SHIPPED_TOGETHER,
                          {"kind": SEND_SHIPPED_DIGEST, "order_id": order.order_id})
            return "to be told with the parcels shipped with it"
        # One message per channel the customer chose (email, SMS or both), each under its own claim: a retry after
        # one of them failed finds the other already sent.
        messages = render_all(order, message_event(event), self.links.letterhead(order))
        return "; ".join(self._send_or_hold(order, event, message, sender) for message in messages)

    def send_held(self, order_id: str, event_id: str, channel: str, sender: str) -> str:
        """The job for a message held through the quiet hours: it goes now, once (the same claim as the notifier's),
        if the customer is still reached on that channel."""
        order = self.orders.get(order_id)
        event = next((e for e in self.orders.timeline(order_id) if e.event_id == event_id), None) if order else None
        if order is None or event is None:
            return "not sent: no such order or event"
        messages = [m for m in render_all(order, message_event(event), self.links.letterhead(order))
                    if m.channel == channel]
        if not messages:
            return f"not sent: the customer is no longer reached by {channel}"
        return "; ".join(self._send(event, message, sender) for message in messages)

    def send_shipped_digest(self, order_id: str, sender: str, channel: str | None = None) -> str:
        """The job for parcels shipped together: one message per channel listing every parcel of the order shipped
        and not yet told on it, each marked sent there. An SMS due in the quiet hours is held as a digest of its own
        until they end (`channel` names it)."""
        order = self.orders.get(order_id)
        if order is None:
            return "not sent: no such order"
        shipped = sorted((e for e in self.orders.timeline(order_id) if e.kind == TimelineKind.SHIPMENT_SHIPPED),
                         key=lambda e: e.event_id)
        if not shipped:
            return "nothing shipped"
        outcomes = []
        for to in recipients(order.contact, TimelineKind.SHIPMENT_SHIPPED):
            if channel and to.channel != channel:
                continue
            held = self._held(order, shipped[0], to.channel)
            if held is not None and self.later is not None:
                self.later.at(job_name("shipped", order_id, to.channel, held.isoformat()), held,
                              {"kind": SEND_SHIPPED_DIGEST, "order_id": order_id, "channel": to.channel})
                outcomes.append(f"held by {to.channel} until {held.isoformat()}")
                continue
            outcomes.append(self._send_digest(order, shipped, to.channel, sender))
        return "; ".join(outcomes) or "no channel to send on"

    def _send_digest(self, order: Order, shipped: Sequence[TimelineEvent], channel: str, sender: str) -> str:
        now = self.clock.now()
        untold: list[TimelineEvent] = []
        for event in shipped:  # in event id order, so two digests racing meet on the same first claim
            claim = self.claims.claim(order.order_id, f"{event.event_id}#{channel}", sender, now, now + CLAIM_LEASE)
            if claim == ClaimOutcome.HELD:
                for taken in untold:
                    self.claims.release(order.order_id, f"{taken.event_id}#{channel}", sender)
                raise TransientError(f"another sender is telling a parcel of {order.order_id}; retry after its lease")
            if claim == ClaimOutcome.TAKEN:
                untold.append(event)
        if not untold:
            return f"already told by {channel}"
        [message] = [m for m in render_all(order, untold[-1], self.links.letterhead(order), parcels=untold)
                     if m.channel == channel]
        keys = [f"{event.event_id}#{channel}" for event in untold]
        return self._deliver(order.order_id, keys, message, sender) + f" ({len(untold)} parcel{'s' * (len(untold) > 1)})"

    def _send_or_hold(self, order: Order, event: TimelineEvent, message: Rendered, sender: str) -> str:
        held = self._held(order, message_event(event), message.channel)
        if held is None or self.later is None:
            return self._send(event, message, sender)
        self.later.at(job_name("held", event.event_id, message.channel), held,
                      {"kind": SEND_HELD_MESSAGE, "order_id": order.order_id, "event_id": event.event_id,
                       "channel": message.channel})
        return f"held by {message.channel} until {held.isoformat()}"

    def _held(self, order: Order, told: TimelineEvent, channel: str) -> datetime | None:
        return held_until(order, told.kind, channel, self.quiet, self.clock.now()) if self.later else None

    def _send(self, event: TimelineEvent, message: Rendered, sender: str) -> str:
        key = f"{event.event_id}#{message.channel}"
        now = self.clock.now()
        claim = self.claims.claim(event.order_id, key, sender, now, now + CLAIM_LEASE)
        if claim == ClaimOutcome.SENT:
            return "already sent"
        if claim == ClaimOutcome.HELD:
            raise TransientError(f"another sender is sending {key}; retry after its lease")
        return self._deliver(event.order_id, [key], message, sender)

    def _deliver(self, order_id: str, keys: Sequence[str], message: Rendered, sender: str) -> str:
        """Send one message whose claims (`keys`) are ours; give them back if it fails, mark them sent if not."""
        try:
            if message.channel == "sms":
                message_id = self.messenger.send_sms(message.to, message.text)
            else:
                message_id = self.messenger.send_email(message.to, message.subject, message.html, message.text)
        except Exception:
            for key in keys:
                self.claims.release(order_id, key, sender)
            raise
        try:
            for key in keys:
                self.claims.mark_sent(order_id, key, sender, message_id)
        except TransientError:
            # Sent, but not recorded: this attempt ends well, so nothing resends it; the claim stays ours.
            return f"sent by {message.channel} (unrecorded)"
        return f"sent by {message.channel}"


def _moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))
