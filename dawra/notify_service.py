"""Sending a customer message for a timeline event, exactly once. Logic layer.

A conditional marker (MESSAGE#<event_id>) is claimed before sending; a failed send gives the claim back so the
stream retry can send again. (A crash between sending and recording leaves the claim: that message is not
repeated — at most once for that rare case, exactly once otherwise.)"""

from __future__ import annotations

from dawra.adapters.messaging import Messenger
from dawra.adapters.orders import OrdersStore
from dawra.models import TimelineEvent, iso_utc, utc_now
from dawra.notifications import deserves_message, render


class Notifier:
    def __init__(self, orders: OrdersStore, messenger: Messenger, clock=utc_now):
        self.orders = orders
        self.messenger = messenger
        self.clock = clock

    def notify(self, event: TimelineEvent) -> str:
        if not deserves_message(event):
            return "not notified"
        order = self.orders.get_order(event.order_id)
        if order is None:
            return "order gone"
        marker = f"MESSAGE#{event.event_id}"
        if not self.orders.claim(event.order_id, marker, {"state": "sending", "claimed_at": iso_utc(self.clock())}):
            return "already sent"
        message = render(order, event)
        try:
            if message.channel == "sms":
                message_id = self.messenger.send_sms(message.to, message.text)
            else:
                message_id = self.messenger.send_email(message.to, message.subject, message.html, message.text)
        except Exception:
            self.orders.delete_marker(event.order_id, marker)
            raise
        self.orders.set_marker_fields(event.order_id, marker, {"state": "sent", "channel": message.channel,
                                                               "message_id": message_id})
        return f"sent by {message.channel}"
