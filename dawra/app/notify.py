"""Tell the customer: one message per (order, timeline event, channel), sent at most once, never lost.

A claim is taken before sending. A retry by the same sender (the same stream record) finds its own claim and
continues, so an ambiguous claim write cannot leave a message unsent; a claim left by a sender that crashed is
retaken once its lease has passed; a claim held by another live sender makes this attempt retry later.

Every message carries the shop's name, its support contact, the order's reference and a link to the order's page,
signed for the order's current link version (`OrderLinks`)."""

from __future__ import annotations

from datetime import timedelta

from dawra.app.order_page import OrderLinks
from dawra.domain.errors import TransientError
from dawra.domain.notifications import deserves_message, message_event
from dawra.domain.timeline import TimelineEvent
from dawra.ports import ClaimOutcome, Clock, MessageClaims, Messenger, OrderRepository
from dawra.rendering import Rendered, render_all

CLAIM_LEASE = timedelta(seconds=120)  # longer than the notifier's timeout: a live sender is never overtaken


class Notify:
    def __init__(self, orders: OrderRepository, claims: MessageClaims, messenger: Messenger, clock: Clock,
                 links: OrderLinks):
        self.orders, self.claims, self.messenger, self.clock, self.links = orders, claims, messenger, clock, links

    def __call__(self, event: TimelineEvent, sender: str) -> str:
        if not deserves_message(event):
            return "not notified"
        order = self.orders.get(event.order_id)
        if order is None:
            return "order gone"
        # One message per channel the customer chose (email, SMS or both), each under its own claim: a retry after
        # one of them failed finds the other already sent.
        messages = render_all(order, message_event(event), self.links.letterhead(order))
        return "; ".join(self._send(event, message, sender) for message in messages)

    def _send(self, event: TimelineEvent, message: Rendered, sender: str) -> str:
        key = f"{event.event_id}#{message.channel}"
        now = self.clock.now()
        claim = self.claims.claim(event.order_id, key, sender, now, now + CLAIM_LEASE)
        if claim == ClaimOutcome.SENT:
            return "already sent"
        if claim == ClaimOutcome.HELD:
            raise TransientError(f"another sender is sending {key}; retry after its lease")
        try:
            if message.channel == "sms":
                message_id = self.messenger.send_sms(message.to, message.text)
            else:
                message_id = self.messenger.send_email(message.to, message.subject, message.html, message.text)
        except Exception:
            self.claims.release(event.order_id, key, sender)
            raise
        try:
            self.claims.mark_sent(event.order_id, key, sender, message_id)
        except TransientError:
            # Sent, but not recorded: this attempt ends well, so nothing resends it; the claim stays ours.
            return f"sent by {message.channel} (unrecorded)"
        return f"sent by {message.channel}"
